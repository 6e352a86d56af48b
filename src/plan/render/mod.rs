//! Plan renderers: text for people, JSON for machines, Markdown for pull-request comments.

mod json;
mod lines;
mod markdown;
mod text;

pub(crate) use json::render_json;
pub(crate) use markdown::render_markdown;
pub use markdown::MARKDOWN_BUDGET;
pub(crate) use text::render_text_styled;

use super::types::{Plan, Summary};

/// How a plan is rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// For people, on a terminal or in a log.
    #[default]
    Text,
    /// For machines.
    Json,
    /// For pull-request comments.
    Markdown,
}

/// How much of the overlaps the text plan shows. JSON always carries every overlap; Markdown only
/// the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// One line per pair of folders ("150 hostnames of `a` are kept by `b`"), and none at all for a
    /// profile with nothing to change.
    #[default]
    Summary,
    /// Also one line per hostname (`-v`).
    Hostnames,
}

/// The plan in the asked format, ready for stdout.
pub fn render(plan: &Plan, format: Format) -> String {
    render_with(plan, format, Detail::Summary)
}

/// [`render`], with the text plan's overlap detail chosen.
pub fn render_with(plan: &Plan, format: Format, detail: Detail) -> String {
    render_styled(plan, format, detail, false)
}

/// [`render_with`], the text plan's `+`/`-`/`~` lines coloured when `color` is on (for a
/// terminal). JSON and Markdown are never coloured.
pub(crate) fn render_styled(plan: &Plan, format: Format, detail: Detail, color: bool) -> String {
    match format {
        Format::Text => render_text_styled(plan, detail, color),
        Format::Json => render_json(plan),
        Format::Markdown => render_markdown(plan),
    }
}

/// "Plan: 2 folders to create, 1 to update, 0 to delete; 1,204 rules to add, 12 to move, 3 to change,
/// 40 to remove; ~9 API calls"
pub(crate) fn summary_line(summary: &Summary) -> String {
    // "; 3 settings to change" only when settings change: folder-only plans read as before.
    let settings = match summary.settings_to_change {
        0 => String::new(),
        n => format!(
            "; {} {} to change",
            thousands(n as u64),
            plural(n, "setting", "settings")
        ),
    };
    format!(
        "Plan: {} {} to create, {} to update, {} to delete; {} {} to add, {} to move, {} to change, {} to remove{settings}; ~{} API {}",
        thousands(summary.folders_to_create as u64),
        plural(summary.folders_to_create, "folder", "folders"),
        thousands(summary.folders_to_update as u64),
        thousands(summary.folders_to_delete as u64),
        thousands(summary.rules_to_add as u64),
        plural(summary.rules_to_add, "rule", "rules"),
        thousands(summary.rules_to_move as u64),
        thousands(summary.rules_to_change as u64),
        thousands(summary.rules_to_remove as u64),
        thousands(summary.api_calls),
        plural(summary.api_calls as usize, "call", "calls"),
    )
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// 1234567 -> "1,234,567"
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_204), "1,204");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
