//! `--format markdown`: a summary table per profile and a `<details>` block per folder, kept under
//! [`MARKDOWN_BUDGET`] characters so it fits a pull-request comment (GitHub's limit is 65,536).

use std::fmt::Write;

use super::lines::{capped, folder_counts, folder_heading, notes, rule_lines};
use super::text::estimate_line;
use super::{summary_line, thousands, Detail};
use crate::plan::{Plan, ProfilePlan, STATE_ONLY_NOTE};

/// The most characters the Markdown plan may take.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// Rule lines per folder in Markdown.
const MARKDOWN_LINES_PER_FOLDER: usize = 200;

/// Room kept for the note saying the plan was cut.
const NOTE_ROOM: usize = 300;

pub(crate) fn render_markdown(plan: &Plan) -> String {
    let mut out = String::from("## ctrld-sync plan\n\n");
    if plan.is_state_only() {
        let _ = writeln!(out, "> **{STATE_ONLY_NOTE}**\n");
    }
    for kept in &plan.kept {
        let _ = writeln!(
            out,
            "> **Source failed:** folder `{}` is kept as it is: {}: {}\n",
            kept.key, kept.location, kept.error
        );
    }
    if plan.has_changes() {
        let _ = writeln!(out, "**{}**\n", summary_line(&plan.summary()));
    } else {
        out.push_str("**No changes.** Every profile matches the config.\n\n");
    }
    summary_table(&mut out, plan);
    let mut omitted = 0;
    for profile in &plan.profiles {
        for block in profile_blocks(profile) {
            if omitted > 0 || out.len() + block.len() + NOTE_ROOM > MARKDOWN_BUDGET {
                omitted += 1;
                continue;
            }
            out.push_str(&block);
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "\n> **Cut to fit a comment:** {omitted} more sections not shown. Run `ctrld-sync plan` for the \
             full plan."
        );
    }
    out
}

fn summary_table(out: &mut String, plan: &Plan) {
    out.push_str(
        "| Profile | Folders +/~/- | Rules to add | to move | to change | to remove | API calls |\n",
    );
    out.push_str("|---|---|--:|--:|--:|--:|--:|\n");
    for profile in &plan.profiles {
        let s = profile.summary();
        let _ = writeln!(
            out,
            "| `{}` | {}/{}/{} | {} | {} | {} | {} | {} |",
            profile.profile,
            s.folders_to_create,
            s.folders_to_update,
            s.folders_to_delete,
            thousands(s.rules_to_add as u64),
            thousands(s.rules_to_move as u64),
            thousands(s.rules_to_change as u64),
            thousands(s.rules_to_remove as u64),
            thousands(s.api_calls),
        );
    }
    out.push('\n');
}

/// The profile heading, then one `<details>` per changed folder, then its notes.
fn profile_blocks(profile: &ProfilePlan) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut heading = format!("### Profile `{}`\n\n", profile.profile);
    if !profile.has_changes() {
        let _ = writeln!(
            heading,
            "No changes. Profile {} matches the config.\n",
            profile.profile
        );
    } else {
        let _ = writeln!(heading, "{}\n", estimate_line(&profile.estimate));
    }
    blocks.push(heading);
    for folder in profile.folders.iter().filter(|f| f.has_changes()) {
        let mut block = format!(
            "<details><summary>{}: {}</summary>\n\n",
            escape(&folder_heading(folder)),
            folder_counts(folder)
        );
        let lines = rule_lines(folder, MARKDOWN_LINES_PER_FOLDER);
        if !lines.is_empty() {
            block.push_str("```diff\n");
            for line in lines {
                let _ = writeln!(block, "{line}");
            }
            block.push_str("```\n\n");
        }
        block.push_str("</details>\n\n");
        blocks.push(block);
    }
    if !profile.settings.is_empty() {
        let mut block = format!(
            "<details><summary>Settings: {} to change</summary>\n\n```diff\n",
            profile.settings.len()
        );
        for change in &profile.settings {
            let _ = writeln!(block, "{}", change.line());
        }
        block.push_str("```\n\n</details>\n\n");
        blocks.push(block);
    }
    let notes = notes(profile, Detail::Summary);
    if !notes.is_empty() {
        let mut block = format!(
            "<details><summary>{} {} (overlaps per pair of folders, skipped hostnames)</summary>\n\n",
            notes.len(),
            if notes.len() == 1 { "note" } else { "notes" }
        );
        for note in capped(notes, MARKDOWN_LINES_PER_FOLDER) {
            let _ = writeln!(block, "- {}", escape(&note));
        }
        block.push_str("\n</details>\n\n");
        blocks.push(block);
    }
    blocks
}

/// Keeps folder names from opening HTML tags inside the summary.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
