//! `--quick`: small sizes at low latency, and the deterministic figures ASSERTED: exact API calls by
//! method per scenario, the end state, and the targets that are counts (no-change = one call per
//! profile; every scenario at the minimum under this tool's request model; the plan's estimate
//! equal to the calls made). Times are printed, never asserted.

use std::path::Path;
use std::time::Duration;

use super::error::BenchError;
use super::scenarios::{self, Row, Settings, Size, Tool};

/// Calls by method (GET, POST, PUT, DELETE) expected per (scenario, tool). A change here must be a
/// deliberate, explained change of the applier or of the generator. Every ctrld-sync row is at the
/// minimum (see `minimum.rs`). The old tool's model makes no verification read, hence one call per
/// profile less.
const EXPECTED: &[(&str, Tool, [u64; 4])] = &[
    ("first sync", Tool::CtrldSync, [4, 63, 0, 0]),
    ("no change", Tool::CtrldSync, [2, 0, 0, 0]),
    ("1% churn", Tool::CtrldSync, [4, 4, 16, 3]),
    ("30% churn", Tool::CtrldSync, [4, 35, 41, 2]),
    ("folder removed", Tool::CtrldSync, [4, 0, 4, 2]),
    ("adoption", Tool::CtrldSync, [26, 0, 0, 0]),
    ("first sync", Tool::OldToolModel, [2, 63, 0, 0]),
    ("1% churn", Tool::OldToolModel, [2, 65, 0, 24]),
];

pub fn size() -> Size {
    Size {
        label: "quick: 2 profiles".to_string(),
        profiles: 2,
        folders: 12,
        rules_per_profile: 1_500,
    }
}

pub fn settings(seed: u64, latency: Duration) -> Settings {
    Settings {
        seed,
        latency,
        emulator_rps: None,
        emulator_burst: 0,
        max_rps: None,
    }
}

/// Runs the quick scenarios and checks them; the error lists every regression.
pub fn run(binary: &Path, latency: Duration) -> Result<Vec<Row>, BenchError> {
    let rows = scenarios::run_size(binary, &size(), &settings(super::DEFAULT_SEED, latency))?;
    let problems = check(&rows);
    if problems.is_empty() {
        Ok(rows)
    } else {
        eprintln!("{}", super::table::markdown(&rows));
        eprintln!("{}", super::table::excess_details(&rows));
        eprintln!("{}", expected_literal(&rows));
        Err(BenchError::Failed(format!(
            "quick bench regressions:\n  {}",
            problems.join("\n  ")
        )))
    }
}

fn check(rows: &[Row]) -> Vec<String> {
    let mut problems = Vec::new();
    let profiles = size().profiles as u64;
    for row in rows {
        let name = format!("{} ({:?})", row.scenario, row.tool);
        if let Err(why) = &row.outcome {
            problems.push(format!("{name}: wrong end state: {why}"));
        }
        if row.rate_limited > 0 {
            problems.push(format!(
                "{name}: {} requests answered 429",
                row.rate_limited
            ));
        }
        if row.tool == Tool::CtrldSync {
            match row.scenario {
                "no change" if row.total != profiles => problems.push(format!(
                    "{name}: {} calls, want {profiles} (one GET per profile)",
                    row.total
                )),
                _ if row.total as usize != row.minimum() => problems.push(format!(
                    "{name}: {} calls, want the minimum {}",
                    row.total,
                    row.minimum()
                )),
                _ => {}
            }
            if row.planned != Some(row.total) {
                problems.push(format!(
                    "{name}: the plan estimated {:?} calls, the apply made {}",
                    row.planned, row.total
                ));
            }
        }
        match EXPECTED
            .iter()
            .find(|(scenario, tool, _)| *scenario == row.scenario && *tool == row.tool)
        {
            Some((_, _, want)) if *want != methods(row) => problems.push(format!(
                "{name}: calls GET/POST/PUT/DELETE {:?}, expected {:?}",
                methods(row),
                want
            )),
            Some(_) => {}
            None => problems.push(format!("{name}: no expected call counts recorded")),
        }
    }
    problems
}

fn methods(row: &Row) -> [u64; 4] {
    ["GET", "POST", "PUT", "DELETE"].map(|method| row.calls.get(method).copied().unwrap_or(0))
}

/// The measured counts as the `EXPECTED` literal, to paste after a deliberate change.
fn expected_literal(rows: &[Row]) -> String {
    let mut out = String::from("measured (for EXPECTED):\n");
    for row in rows {
        out.push_str(&format!(
            "    (\"{}\", Tool::{:?}, {:?}),\n",
            row.scenario,
            row.tool,
            methods(row)
        ));
    }
    out
}
