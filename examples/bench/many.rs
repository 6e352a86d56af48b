//! `--many-profiles` (and part of `--goals`): many profiles behind one account token, paced as one.
//! Each row is one run of the real binary at its default settings against the emulator:
//!
//! - five profiles of 23 hagezi-like folders (~9,000 rules each), one token, a server limit of
//!   20 requests/s with a burst of 20: 429s, and time against what the server imposes;
//! - the same with each profile on a token of its own, limited on its own, against one profile
//!   alone under that limit;
//! - the same first sync again, into new profiles, with the rate the first run measured kept in
//!   the state dir (`.pacing`): what the memory saves;
//! - the same five profiles without a server limit (a first sync);
//! - 1, 5 and 30 profiles of 2,000 rules without a limit: a first sync and a no-change run (the
//!   median of 3), calls, wall and peak memory, to show how a run's cost grows with profiles.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::error::BenchError;
use super::gen;
use super::goals::settings;
use super::runner::ApplyOptions;
use super::scenarios::{Bench, Row, Settings, Size};

const PARALLELISM: u64 = 4;

const DEFAULTS: ApplyOptions = ApplyOptions {
    max_rps: None,
    parallelism: None,
    allow_destroy: false,
};

/// The server limit of the issue: 20 requests/s, a burst of 20.
const LIMIT: (f64, u32) = (20.0, 20);

/// Profile counts of the growth table, and their rules each.
const GROWTH: [usize; 3] = [1, 5, 30];
const GROWTH_RULES: usize = 2_000;
const GROWTH_FOLDERS: usize = 10;

/// The no-change run of the growth table is measured this many times; the median is reported.
const NO_CHANGE_RUNS: usize = 3;

fn hagezi(profiles: usize) -> Size {
    Size {
        label: format!("23 folders x {profiles} profiles"),
        profiles,
        folders: 23,
        rules_per_profile: 9_000,
    }
}

fn growth_size(profiles: usize) -> Size {
    Size {
        label: format!("{GROWTH_RULES} rules x {profiles} profiles"),
        profiles,
        folders: GROWTH_FOLDERS,
        rules_per_profile: GROWTH_RULES,
    }
}

/// A first sync into empty profiles.
fn first_sync(
    binary: &Path,
    size: &Size,
    settings: &Settings,
    own_tokens: bool,
) -> Result<Row, BenchError> {
    let lists = gen::generate(
        settings.seed,
        size.profiles,
        size.folders,
        size.rules_per_profile,
    );
    let bench = Bench::fresh_with(binary, size, settings, own_tokens)?;
    bench.run("first sync", &lists, &DEFAULTS, false)
}

/// The first sync on one limited token, then the same into a new emulator and a new state dir
/// that holds only the first run's `.pacing` files.
fn with_memory(binary: &Path, size: &Size, settings: &Settings) -> Result<(Row, Row), BenchError> {
    let lists = gen::generate(
        settings.seed,
        size.profiles,
        size.folders,
        size.rules_per_profile,
    );
    let first = Bench::fresh(binary, size, settings)?;
    let unseeded = first.run("first sync", &lists, &DEFAULTS, false)?;
    let second = Bench::fresh(binary, size, settings)?;
    let (from, to) = (
        first.state_dir().join(".pacing"),
        second.state_dir().join(".pacing"),
    );
    if let Ok(entries) = std::fs::read_dir(&from) {
        std::fs::create_dir_all(&to).map_err(|e| BenchError::io(&to, e))?;
        for entry in entries.flatten() {
            let target = to.join(entry.file_name());
            std::fs::copy(entry.path(), &target).map_err(|e| BenchError::io(&target, e))?;
        }
    }
    let seeded = second.run("first sync, rate remembered", &lists, &DEFAULTS, false)?;
    Ok((unseeded, seeded))
}

/// One line of the growth table: a first sync, then the median no-change run.
struct Growth {
    profiles: usize,
    first: Row,
    no_change: Row,
}

fn growth(
    binary: &Path,
    seed: u64,
    latency: Duration,
    profiles: usize,
) -> Result<Growth, BenchError> {
    let size = growth_size(profiles);
    let lists = gen::generate(seed, profiles, GROWTH_FOLDERS, GROWTH_RULES);
    let bench = Bench::fresh(binary, &size, &settings(seed, latency, None))?;
    let first = bench.run("first sync", &lists, &DEFAULTS, false)?;
    let mut runs = (0..NO_CHANGE_RUNS)
        .map(|_| bench.run("no change", &lists, &DEFAULTS, false))
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by_key(|row| row.wall);
    let no_change = runs.swap_remove(NO_CHANGE_RUNS / 2);
    Ok(Growth {
        profiles,
        first,
        no_change,
    })
}

/// The time the server's limit imposes on `row`'s accepted calls: none for the first `burst`,
/// then one per 1/rps seconds (for each token, when each profile has its own).
fn server_imposed(row: &Row, (rps, burst): (f64, u32), tokens: u64) -> f64 {
    let accepted = row.total.saturating_sub(row.rate_limited);
    accepted.saturating_sub(u64::from(burst) * tokens) as f64 / (rps * tokens as f64)
}

fn mib(row: &Row) -> f64 {
    row.max_rss_kib.unwrap_or(0) as f64 / 1024.0
}

/// Runs every many-profile goal and returns the Markdown tables.
/// Five profiles' first sync without a limit, by the binary before the token was paced as one
/// (092f05b, BENCHMARKS.md "Many profiles"): its wall against calls x latency / (4 x 5).
const BEFORE_OPEN_RATIO: f64 = 2.84;

pub fn run(binary: &Path, seed: u64, latency: Duration) -> Result<String, BenchError> {
    let five = hagezi(5);
    let one = hagezi(1);
    let limited = settings(seed, latency, Some(LIMIT));
    let (one_token, remembered) = with_memory(binary, &five, &limited)?;
    let own_tokens = first_sync(binary, &five, &limited, true)?;
    let alone = first_sync(binary, &one, &limited, false)?;
    let open = first_sync(binary, &five, &settings(seed, latency, None), false)?;
    let growths = GROWTH
        .into_iter()
        .map(|profiles| growth(binary, seed, latency, profiles))
        .collect::<Result<Vec<_>, _>>()?;

    let rows = [&one_token, &remembered, &own_tokens, &alone, &open]
        .into_iter()
        .chain(growths.iter().flat_map(|g| [&g.first, &g.no_change]));
    for row in rows {
        if let Err(why) = &row.outcome {
            return Err(BenchError::Failed(format!(
                "{} / {}: wrong end state: {why}",
                row.size, row.scenario
            )));
        }
    }

    let mut out = String::new();
    let imposed = server_imposed(&one_token, LIMIT, 1);
    let ideal_open = open.total as f64 * latency.as_secs_f64() / (PARALLELISM * 5) as f64;
    let thirty = growths
        .iter()
        .find(|g| g.profiles == 30)
        .ok_or_else(|| BenchError::Failed("no 30-profile run".to_string()))?;
    let goals = [
        (
            format!(
                "5 profiles, one token, 20/s burst 20: at most {} 429s, within 1.15x of the \
                 server-imposed time",
                2 * PARALLELISM + 2
            ),
            format!(
                "{} 429s; {:.2} s; server-imposed {:.2} s; {:.2}x; {} calls",
                one_token.rate_limited,
                one_token.wall.as_secs_f64(),
                imposed,
                one_token.wall.as_secs_f64() / imposed,
                one_token.total
            ),
            one_token.rate_limited <= 2 * PARALLELISM + 2
                && one_token.wall.as_secs_f64() <= 1.15 * imposed,
        ),
        (
            "the same, the next run: the rate measured last time seeds the pacing (`.pacing`)"
                .to_string(),
            format!(
                "{} 429s; {:.2} s; server-imposed {:.2} s; {:.2}x; {} calls",
                remembered.rate_limited,
                remembered.wall.as_secs_f64(),
                server_imposed(&remembered, LIMIT, 1),
                remembered.wall.as_secs_f64() / server_imposed(&remembered, LIMIT, 1),
                remembered.total
            ),
            remembered.rate_limited <= 2 * PARALLELISM + 2
                && remembered.wall.as_secs_f64() <= 1.15 * server_imposed(&remembered, LIMIT, 1),
        ),
        (
            "5 profiles, a token each (each 20/s burst 20): no slower than 1 profile alone"
                .to_string(),
            format!(
                "{:.2} s ({} 429s); 1 profile alone {:.2} s ({} 429s); {:.2}x",
                own_tokens.wall.as_secs_f64(),
                own_tokens.rate_limited,
                alone.wall.as_secs_f64(),
                alone.rate_limited,
                own_tokens.wall.as_secs_f64() / alone.wall.as_secs_f64()
            ),
            // The runs end on whole Retry-After seconds: 10% is one run's noise, not a trend.
            own_tokens.wall.as_secs_f64() <= 1.1 * alone.wall.as_secs_f64(),
        ),
        (
            format!(
                "5 profiles, no limit: first sync no slower than before (the binary of 092f05b: \
                 {BEFORE_OPEN_RATIO}x calls x latency / (4 x 5), 2.63 s), no 429"
            ),
            format!(
                "{:.2} s for {} calls; calls x latency / (4 x 5) = {:.2} s",
                open.wall.as_secs_f64(),
                open.total,
                ideal_open
            ),
            open.rate_limited == 0 && open.wall.as_secs_f64() <= BEFORE_OPEN_RATIO * ideal_open,
        ),
        (
            "30 profiles of 2,000 rules, no limit: no change in 30 calls under 0.5 s; first \
             sync exact; peak memory under 100 MB"
                .to_string(),
            format!(
                "no change {:.3} s, {} calls; first sync {:.2} s, {} calls (minimum {}); peak \
                 {:.1} MB",
                thirty.no_change.wall.as_secs_f64(),
                thirty.no_change.total,
                thirty.first.wall.as_secs_f64(),
                thirty.first.total,
                thirty.first.minimum(),
                mib(&thirty.first).max(mib(&thirty.no_change))
            ),
            thirty.no_change.total == 30
                && thirty.no_change.wall.as_secs_f64() < 0.5
                && thirty.first.total == thirty.first.minimum() as u64
                && mib(&thirty.first).max(mib(&thirty.no_change)) < 100.0,
        ),
    ];
    super::goals::write_goals(&mut out, "Many profiles", latency, &goals);
    let _ = writeln!(
        out,
        "\nHow a run's cost grows with profiles ({GROWTH_RULES} rules in {GROWTH_FOLDERS} folders \
         each, no limit)\n\n\
         | profiles | first sync: wall | calls | peak memory | no change: wall | calls | peak memory |\n\
         |---:|---:|---:|---:|---:|---:|---:|"
    );
    for g in &growths {
        let _ = writeln!(
            out,
            "| {} | {:.2} s | {} | {:.1} MB | {:.3} s | {} | {:.1} MB |",
            g.profiles,
            g.first.wall.as_secs_f64(),
            g.first.total,
            mib(&g.first),
            g.no_change.wall.as_secs_f64(),
            g.no_change.total,
            mib(&g.no_change)
        );
    }
    Ok(out)
}
