//! Parsing speed: one million lines of a generated domains list through decode, format detection,
//! hostname validation and rule derivation (what `validate` and `plan` do for a changed source).
//!
//! `cargo run --release --example parse_bench [LINES]`

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use ctrld_sync::config::Config;
use ctrld_sync::source::parse_source;

const DEFAULT_LINES: usize = 1_000_000;
const RUNS: usize = 5;

fn main() {
    let lines = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(DEFAULT_LINES);
    let list = generate(lines);
    let config = Config::from_str(
        "[folder.bench]\npath = \"bench.txt\"\nname = \"Bench\"\n",
        Path::new("ctrld-sync.toml"),
    )
    .expect("the bench config is valid");
    let folder = config.folder("bench").expect("the bench folder exists");
    let mut times = Vec::new();
    let mut rules = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let (_, derived) =
            parse_source(list.as_bytes(), folder, "bench.txt").expect("the list parses");
        times.push(start.elapsed());
        rules = derived.rules.len();
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "{lines} lines ({:.1} MiB) -> {rules} rules: median {:.3} s over {RUNS} runs (best {:.3} s), {:.0} lines/s",
        list.len() as f64 / (1024.0 * 1024.0),
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        lines as f64 / median.max(Duration::from_nanos(1)).as_secs_f64()
    );
}

/// Mostly distinct hostnames, with comments, blank lines, wildcards, upper case and a few invalid
/// entries sprinkled in, as real lists have.
fn generate(lines: usize) -> String {
    let mut list = String::with_capacity(lines * 32);
    for i in 0..lines {
        let _ = match i % 100 {
            0 => writeln!(list, "# section {i}"),
            1 => writeln!(list),
            2 => writeln!(list, "*.wild{i}.example.net"),
            3 => writeln!(list, "Tracker{i}.Example.ORG."),
            4 => writeln!(list, "bad%{i}.example.com"),
            _ => writeln!(list, "ads{i}.cdn{}.example.com", i % 977),
        };
    }
    list
}
