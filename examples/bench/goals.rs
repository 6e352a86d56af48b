//! `--goals`: the pacing goals, each measured as a ratio in one run of the real binary at its
//! default settings (adaptive pacing, no `--max-rps`, `--parallelism` 4) against the emulator:
//!
//! - 23 hagezi-like folders, ~9,000 rules, 50 ms latency, no server limit: a first sync against
//!   calls x latency / parallelism; a 1% change; a no-change run over 5 profiles against latency
//!   (the median of 7 runs);
//! - the same first sync against an emulated limit of 4 requests/s with a burst of 20 (time against
//!   what the server imposes, and 429s), and of 2 requests/s with a burst of 5 (429s);
//! - the old tool's model on the same data, side by side.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::error::BenchError;
use super::gen;
use super::runner::ApplyOptions;
use super::scenarios::{self, Bench, Row, Settings, Size};

const PARALLELISM: f64 = 4.0;

/// The 429s a first limit event may cost, as decided for one profile: one per request in flight
/// (the parallelism) and two more.
const FIRST_EVENT_429S: u64 = PARALLELISM as u64 + 2;

/// The no-change run is measured this many times; the median is reported.
const NO_CHANGE_RUNS: usize = 7;

fn size(profiles: usize) -> Size {
    Size {
        label: format!(
            "23 folders x {profiles} profile{}",
            if profiles == 1 { "" } else { "s" }
        ),
        profiles,
        folders: 23,
        rules_per_profile: 9_000,
    }
}

/// The default settings against an emulator at `latency`, limited to `limit` (rate, burst) if any.
pub fn settings(seed: u64, latency: Duration, limit: Option<(f64, u32)>) -> Settings {
    Settings {
        seed,
        latency,
        emulator_rps: limit.map(|(rps, _)| rps),
        emulator_burst: limit.map_or(0, |(_, burst)| burst),
        max_rps: None,
    }
}

const DEFAULTS: ApplyOptions = ApplyOptions {
    max_rps: None,
    parallelism: None,
    allow_destroy: false,
};

/// The lower parallelisms the trade-off table runs besides the default.
const LOWER_PARALLELISMS: [u32; 2] = [1, 2];

/// Runs every goal and returns the Markdown tables.
pub fn run(binary: &Path, seed: u64, latency: Duration) -> Result<String, BenchError> {
    let one = size(1);
    let base = gen::generate(seed, 1, 23, 9_000);
    let churn = gen::churn(seed + 1, &base, 0.01);

    let open = settings(seed, latency, None);
    let bench = Bench::fresh(binary, &one, &open)?;
    let first = bench.run("first sync", &base, &DEFAULTS, false)?;
    let change = bench.run("1% churn", &churn, &DEFAULTS, false)?;

    let five = size(5);
    let five_lists = gen::generate(seed, 5, 23, 9_000);
    let bench = Bench::fresh(binary, &five, &open)?;
    bench.run("first sync", &five_lists, &DEFAULTS, false)?;
    // A run this short moves with the machine's noise: the median of several.
    let mut no_changes = (0..NO_CHANGE_RUNS)
        .map(|_| bench.run("no change", &five_lists, &DEFAULTS, false))
        .collect::<Result<Vec<_>, _>>()?;
    no_changes.sort_by_key(|row| row.wall);
    let no_change = no_changes.swap_remove(NO_CHANGE_RUNS / 2);

    let first_sync =
        |limit: Option<(f64, u32)>, options: &ApplyOptions| -> Result<Row, BenchError> {
            let bench = Bench::fresh(binary, &one, &settings(seed, latency, limit))?;
            bench.run("first sync", &base, options, false)
        };
    let four = first_sync(Some((4.0, 20)), &DEFAULTS)?;
    let two = first_sync(Some((2.0, 5)), &DEFAULTS)?;
    let mut tradeoff = Vec::new();
    for parallelism in LOWER_PARALLELISMS {
        let options = ApplyOptions {
            parallelism: Some(parallelism),
            ..DEFAULTS
        };
        let open_row = first_sync(None, &options)?;
        let four_row = first_sync(Some((4.0, 20)), &options)?;
        tradeoff.push((parallelism, open_row, four_row));
    }

    let old = |limit: Option<(f64, u32)>, lists| -> Result<Row, BenchError> {
        let emulator = scenarios::start_emulator(&one, &settings(seed, latency, limit))?;
        scenarios::old_tool_row(&emulator, &one, "first sync", lists)
    };
    let old_first = old(None, &base)?;
    let old_four = old(Some((4.0, 20)), &base)?;
    let old_two = old(Some((2.0, 5)), &base)?;
    let old_change = {
        let emulator = scenarios::start_emulator(&one, &open)?;
        scenarios::old_tool_row(&emulator, &one, "first sync", &base)?;
        scenarios::old_tool_row(&emulator, &one, "1% churn", &churn)?
    };

    let mut out = String::new();
    goals_table(&mut out, latency, &first, &change, &no_change, &four, &two);
    side_by_side(
        &mut out,
        &[
            ("first sync, no limit", &first, &old_first),
            ("1% churn, no limit", &change, &old_change),
            ("first sync, 4/s burst 20", &four, &old_four),
            ("first sync, 2/s burst 5", &two, &old_two),
        ],
    );
    tradeoff_table(&mut out, latency, &first, &four, &tradeoff);
    let lower = tradeoff.iter().flat_map(|(_, open, four)| [open, four]);
    for row in [&first, &change, &no_change, &four, &two]
        .into_iter()
        .chain(lower)
    {
        if let Err(why) = &row.outcome {
            return Err(BenchError::Failed(format!(
                "{} / {}: wrong end state: {why}",
                row.size, row.scenario
            )));
        }
    }
    Ok(out)
}

/// The time the server's limit imposes on `row`'s accepted calls: none for the first `burst`,
/// then one per 1/rps seconds.
fn server_imposed(row: &Row, rps: f64, burst: u32) -> f64 {
    let accepted = row.total.saturating_sub(row.rate_limited);
    accepted.saturating_sub(u64::from(burst)) as f64 / rps
}

fn goals_table(
    out: &mut String,
    latency: Duration,
    first: &Row,
    change: &Row,
    no_change: &Row,
    four: &Row,
    two: &Row,
) {
    let ms = latency.as_secs_f64();
    let ideal = first.total as f64 * ms / PARALLELISM;
    let imposed4 = server_imposed(four, 4.0, 20);
    let rows = [
        (
            "first sync, 1 profile, no limit: within 1.3x of calls x latency / parallelism"
                .to_string(),
            format!(
                "{:.2} s for {} calls; {:.2} s ideal; {:.2}x",
                first.wall.as_secs_f64(),
                first.total,
                ideal,
                first.wall.as_secs_f64() / ideal
            ),
            first.wall.as_secs_f64() <= 1.3 * ideal,
        ),
        (
            "1% change, no limit: under 0.8 s".to_string(),
            format!(
                "{:.2} s for {} calls",
                change.wall.as_secs_f64(),
                change.total
            ),
            change.wall.as_secs_f64() < 0.8,
        ),
        (
            "no change over 5 profiles: under 2x latency (median of 7 runs)".to_string(),
            format!(
                "{:.3} s for {} calls; {:.2}x latency",
                no_change.wall.as_secs_f64(),
                no_change.total,
                no_change.wall.as_secs_f64() / ms
            ),
            no_change.wall.as_secs_f64() < 2.0 * ms,
        ),
        (
            format!(
                "4 rps burst 20: within 1.15x of the server-imposed time, at most {FIRST_EVENT_429S} 429s"
            ),
            format!(
                "{:.2} s; server-imposed {:.2} s; {:.2}x; {} 429s; {} calls",
                four.wall.as_secs_f64(),
                imposed4,
                four.wall.as_secs_f64() / imposed4,
                four.rate_limited,
                four.total
            ),
            four.wall.as_secs_f64() <= 1.15 * imposed4 && four.rate_limited <= FIRST_EVENT_429S,
        ),
        (
            format!("2 rps burst 5: at most {FIRST_EVENT_429S} 429s"),
            format!(
                "{} 429s; {:.2} s; server-imposed {:.2} s; {} calls",
                two.rate_limited,
                two.wall.as_secs_f64(),
                server_imposed(two, 2.0, 5),
                two.total
            ),
            two.rate_limited <= FIRST_EVENT_429S,
        ),
    ];
    write_goals(out, "Goals", latency, &rows);
}

/// A table of goals under its title: each goal, what was measured, and whether it was met.
pub fn write_goals(
    out: &mut String,
    title: &str,
    latency: Duration,
    goals: &[(String, String, bool)],
) {
    let _ = writeln!(
        out,
        "{title} ({} ms latency, default settings)\n\n| goal | measured | met? |\n|---|---|---|",
        latency.as_millis()
    );
    for (goal, measured, met) in goals {
        let _ = writeln!(
            out,
            "| {goal} | {measured} | {} |",
            if *met { "yes" } else { "no" }
        );
    }
}

/// The first sync at each parallelism: the unlimited run against the default's ideal time, and
/// the 429s of the 4/s, burst 20 run (the first limit event costs one 429 per request in flight).
fn tradeoff_table(
    out: &mut String,
    latency: Duration,
    first: &Row,
    four: &Row,
    lower: &[(u32, Row, Row)],
) {
    let ideal = first.total as f64 * latency.as_secs_f64() / PARALLELISM;
    let _ = writeln!(
        out,
        "\nThe first sync at each `--parallelism` (ideal: calls x latency / 4 = {ideal:.2} s)\n\n\
         | parallelism | no limit: wall | against ideal | 4/s burst 20: 429s | wall | against server-imposed |\n\
         |---:|---:|---:|---:|---:|---:|"
    );
    let rows = lower
        .iter()
        .map(|(parallelism, open, limited)| (*parallelism, open, limited))
        .chain([(PARALLELISM as u32, first, four)]);
    for (parallelism, open, limited) in rows {
        let imposed = server_imposed(limited, 4.0, 20);
        let _ = writeln!(
            out,
            "| {parallelism} | {:.2} s | {:.2}x | {} | {:.2} s | {:.2}x |",
            open.wall.as_secs_f64(),
            open.wall.as_secs_f64() / ideal,
            limited.rate_limited,
            limited.wall.as_secs_f64(),
            limited.wall.as_secs_f64() / imposed
        );
    }
}

fn side_by_side(out: &mut String, pairs: &[(&str, &Row, &Row)]) {
    let _ = writeln!(
        out,
        "\nSide by side with the old tool's model (same data, same emulator settings)\n\n\
         | run | ctrld-sync wall | calls | 429s | old tool (model) wall | calls | 429s |\n\
         |---|---:|---:|---:|---:|---:|---:|"
    );
    for (label, ours, old) in pairs {
        let _ = writeln!(
            out,
            "| {label} | {:.2} s | {} | {} | {:.2} s | {} | {} |",
            ours.wall.as_secs_f64(),
            ours.total,
            ours.rate_limited,
            old.wall.as_secs_f64(),
            old.total,
            old.rate_limited
        );
    }
}
