//! The results as Markdown tables (pasted into BENCHMARKS.md).

use std::fmt::Write;

use super::scenarios::{Row, Tool};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| size | scenario | tool | wall | calls GET/POST/PUT/DELETE | calls | minimum | ratio | rules changed | calls per 1k changed | 429s | retries | peak RSS | result |\n",
    );
    out.push_str("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for row in rows {
        let by_method: Vec<String> = METHODS
            .iter()
            .map(|method| row.calls.get(*method).copied().unwrap_or(0).to_string())
            .collect();
        let changed = row.change.rules_changed();
        let per_thousand = if changed == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", row.total as f64 * 1000.0 / changed as f64)
        };
        let tool = match row.tool {
            Tool::CtrldSync if row.note.is_empty() => "ctrld-sync".to_string(),
            Tool::CtrldSync => format!("ctrld-sync ({})", row.note),
            Tool::OldToolModel => "old tool (model)".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} ({} rules) | {} | {} | {:.2} s | {} | {} | {} | {:.2}x | {} | {} | {} | {} | {} | {} |",
            row.size,
            thousands(row.rules as u64),
            row.scenario,
            tool,
            row.wall.as_secs_f64(),
            by_method.join("/"),
            row.total,
            row.minimum(),
            row.ratio(),
            thousands(changed as u64),
            per_thousand,
            row.rate_limited,
            row.retries.map_or("-".to_string(), |n| n.to_string()),
            row.max_rss_kib.map_or("-".to_string(), |kib| format!("{:.1} MB", kib as f64 / 1024.0)),
            match &row.outcome {
                Ok(()) => "ok".to_string(),
                Err(why) => format!("WRONG: {why}"),
            },
        );
    }
    out
}

/// Calls by route for the rows whose calls exceed the minimum, to say where the excess is.
pub fn excess_details(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows
        .iter()
        .filter(|row| row.tool == Tool::CtrldSync && row.total as usize != row.minimum())
    {
        let _ = writeln!(
            out,
            "- {} / {}: {} calls vs minimum {}; moves and action changes into the same (folder, \
             action) as separate PUTs would cost {} more; by route: {:?}",
            row.size,
            row.scenario,
            row.total,
            row.minimum(),
            row.change.split_put_calls,
            row.routes
        );
    }
    out
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|group| std::str::from_utf8(group).expect("ASCII digits"))
        .collect();
    groups.join(",")
}
