//! `--format json`: the [`Plan`] as documented JSON (`format_version: 2`), without the bulky target.

use crate::plan::Plan;

pub(crate) fn render_json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan serialises to JSON");
    text.push('\n');
    text
}
