//! `--format text`: a Terraform-like summary, then each profile's folder changes.

use std::borrow::Cow;
use std::fmt::Write;

use super::lines::{capped, folder_counts, folder_heading, notes, rule_lines};
use super::{summary_line, Detail};
use crate::plan::{Estimate, Plan, ProfilePlan, STATE_ONLY_NOTE};

/// Rule lines shown per folder before "... and N more".
pub(super) const TEXT_LINES_PER_FOLDER: usize = 20;

/// [`render_text_with`], with `+` lines green, `-` red and `~` yellow (ANSI) when `color` is on.
pub(crate) fn render_text_styled(plan: &Plan, detail: Detail, color: bool) -> String {
    let mut out = String::new();
    if plan.is_state_only() {
        let _ = writeln!(out, "{STATE_ONLY_NOTE}\n");
    }
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
        render_profile(&mut out, profile, detail, color);
    }
    out
}

fn render_profile(out: &mut String, profile: &ProfilePlan, detail: Detail, color: bool) {
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
        let _ = writeln!(out, "  {}", paint(&folder_heading(folder), color));
        let _ = writeln!(out, "      {}", folder_counts(folder));
        for line in rule_lines(folder, TEXT_LINES_PER_FOLDER) {
            let _ = writeln!(out, "      {}", paint(&line, color));
        }
    }
    for change in &profile.settings {
        let _ = writeln!(out, "  {}", paint(&change.line(), color));
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

/// A `+` line green, `-` red, `~` yellow, with `color`; any other line as it is.
fn paint(line: &str, color: bool) -> Cow<'_, str> {
    let ansi = match line.as_bytes().first() {
        Some(b'+') => "32",
        Some(b'-') => "31",
        Some(b'~') => "33",
        _ => return Cow::Borrowed(line),
    };
    match color {
        true => Cow::Owned(format!("\x1b[{ansi}m{line}\x1b[0m")),
        false => Cow::Borrowed(line),
    }
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
pub(super) fn estimate_line(estimate: &Estimate) -> String {
    let methods: Vec<String> = estimate
        .by_method
        .iter()
        .map(|(method, n)| format!("{method} {n}"))
        .collect();
    format!("API calls: ~{} ({})", estimate.total, methods.join(", "))
}

#[cfg(test)]
mod tests {
    use super::paint;

    #[test]
    fn plus_minus_and_tilde_lines_take_their_colours_only_when_asked() {
        assert_eq!(
            paint("+ a.example block", true),
            "\x1b[32m+ a.example block\x1b[0m"
        );
        assert_eq!(
            paint("- a.example block", true),
            "\x1b[31m- a.example block\x1b[0m"
        );
        assert_eq!(
            paint("~ a.example block", true),
            "\x1b[33m~ a.example block\x1b[0m"
        );
        assert_eq!(paint("... and 3 more", true), "... and 3 more");
        assert_eq!(paint("+ a.example block", false), "+ a.example block");
    }
}
