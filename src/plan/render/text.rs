//! `--format text`: a Terraform-like summary, then each profile's folder changes.

use std::fmt::Write;

use super::lines::{capped, folder_counts, folder_heading, notes, rule_lines};
use super::{summary_line, Detail};
use crate::plan::{Estimate, Plan, ProfilePlan};

/// Rule lines shown per folder before "... and N more".
pub const TEXT_LINES_PER_FOLDER: usize = 20;

/// The text plan with overlaps summarised per pair of folders.
pub fn render_text(plan: &Plan) -> String {
    render_text_with(plan, Detail::Summary)
}

pub fn render_text_with(plan: &Plan, detail: Detail) -> String {
    let mut out = String::new();
    for kept in &plan.kept {
        let _ = writeln!(out, "! {kept}");
    }
    if !plan.kept.is_empty() {
        out.push('\n');
    }
    if plan.has_changes() {
        out.push_str(&summary_line(&plan.summary()));
        out.push_str("\n\n");
    }
    for profile in &plan.profiles {
        render_profile(&mut out, profile, detail);
    }
    out
}

fn render_profile(out: &mut String, profile: &ProfilePlan, detail: Detail) {
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    if !profile.has_changes() {
        let _ = writeln!(
            out,
            "No changes. Profile {} matches the config.",
            profile.profile
        );
        write_notes(out, profile, detail);
        return;
    }
    let _ = writeln!(out, "Profile {}:", profile.profile);
    for folder in profile.folders.iter().filter(|f| f.has_changes()) {
        let _ = writeln!(out, "  {}", folder_heading(folder));
        let _ = writeln!(out, "      {}", folder_counts(folder));
        for line in rule_lines(folder, TEXT_LINES_PER_FOLDER) {
            let _ = writeln!(out, "      {line}");
        }
    }
    if profile.removals_first {
        let _ = writeln!(
            out,
            "  removals go first: adding first would pass the limit of rules per profile"
        );
    }
    write_notes(out, profile, detail);
    let _ = writeln!(out, "  {}", estimate_line(&profile.estimate));
}

/// Capped, except when every hostname was asked for (`-v`).
fn write_notes(out: &mut String, profile: &ProfilePlan, detail: Detail) {
    let notes = notes(profile, detail);
    let notes = match detail {
        Detail::Summary => capped(notes, TEXT_LINES_PER_FOLDER),
        Detail::Hostnames => notes,
    };
    for note in notes {
        let _ = writeln!(out, "  {note}");
    }
}

/// "API calls: ~10 (DELETE 1, GET 2, POST 5, PUT 2)"
pub fn estimate_line(estimate: &Estimate) -> String {
    let methods: Vec<String> = estimate
        .by_method
        .iter()
        .map(|(method, n)| format!("{method} {n}"))
        .collect();
    format!("API calls: ~{} ({})", estimate.total, methods.join(", "))
}
