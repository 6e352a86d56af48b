//! Scenario benchmarks of the real `ctrld-sync` binary against the Control D emulator: API calls by
//! method against the theoretical minimum, wall time and peak memory, plus a model of the old
//! delete-and-repush tool on the same data.
//!
//!     cargo run --release --example bench                  # 10k, 20k and 50k rules, 50 ms latency
//!     cargo run --release --example bench -- --goals       # the pacing goals, as ratios
//!     cargo run --release --example bench -- --quick       # small, fast; asserts exact call counts
//!     cargo run --release --example bench -- --many-profiles   # the many-profile goals alone
//!     cargo run --release --example bench -- --goals --binary OTHER/ctrld-sync   # another build
//!
//! See BENCHMARKS.md ("Sync scenarios") for what each figure means and what limits it.

pub mod data;
pub mod error;
pub mod gen;
pub mod goals;
pub mod launch;
pub mod many;
pub mod minimum;
pub mod old_tool;
pub mod quick;
pub mod runner;
pub mod scenarios;
pub mod table;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use self::error::BenchError;
use self::scenarios::{Row, Settings, Size};

/// The seed every list is generated from (change it to bench other data).
pub const DEFAULT_SEED: u64 = 20_260_101;

#[derive(Debug, Parser)]
#[command(about = "Benchmark ctrld-sync against the Control D emulator")]
struct Args {
    /// Small sizes and 1 ms latency; exits non-zero when a call count regresses
    #[arg(long)]
    quick: bool,
    /// The pacing goals: 23 folders / 9,000 rules, with and without an emulated rate limit, and
    /// the many-profile goals
    #[arg(long)]
    goals: bool,
    /// Only the many-profile goals: five profiles on one token or on five, thirty profiles
    #[arg(long)]
    many_profiles: bool,
    /// Measure this ctrld-sync binary instead of building the one beside the bench
    #[arg(long, value_name = "PATH")]
    binary: Option<std::path::PathBuf>,
    /// Emulated latency per request [default: 50, or 1 with --quick]
    #[arg(long, value_name = "N")]
    latency_ms: Option<u64>,
    /// The emulator's rate limit (requests per second; 429 + Retry-After past it) [default: none]
    #[arg(long, value_name = "R")]
    rps: Option<f64>,
    /// The emulator's token-bucket capacity [default: one second's worth of --rps]
    #[arg(long, value_name = "N", default_value_t = 0)]
    burst: u32,
    /// ctrld-sync's `--max-rps` [default: none, its adaptive pacing alone]
    #[arg(long, value_name = "R")]
    max_rps: Option<f64>,
    /// Only these sizes (10k, 20k, 50k; repeatable) [default: all]
    #[arg(long = "size", value_name = "SIZE")]
    sizes: Vec<String>,
    /// Seed of the synthetic lists
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
}

fn main() -> ExitCode {
    if let Some(code) = launch::main_if_launcher() {
        return code;
    }
    let args = Args::parse();
    launch::use_this_binary();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), BenchError> {
    let binary = match &args.binary {
        Some(path) => path.clone(),
        None => runner::build_binary_beside_example()?,
    };
    eprintln!("bench: running {}", binary.display());
    if args.goals || args.many_profiles {
        let latency = Duration::from_millis(args.latency_ms.unwrap_or(50));
        println!("{}\n", machine());
        if args.goals {
            println!("{}", goals::run(&binary, args.seed, latency)?);
        }
        println!("{}", many::run(&binary, args.seed, latency)?);
        return Ok(());
    }
    let rows = if args.quick {
        let latency = Duration::from_millis(args.latency_ms.unwrap_or(1));
        quick::run(&binary, latency)?
    } else {
        full(&binary, args)?
    };
    println!("{}\n", machine());
    println!("{}", table::markdown(&rows));
    let excess = table::excess_details(&rows);
    if !excess.is_empty() {
        println!("Calls above the minimum:\n{excess}");
    }
    Ok(())
}

/// The sizes of the issue: 10k rules in one profile, 20k over 2, 50k over 5 (each under 10,000).
fn full_sizes() -> Vec<Size> {
    [("10k", 1), ("20k", 2), ("50k", 5)]
        .into_iter()
        .map(|(label, profiles)| Size {
            label: format!(
                "{label}: {profiles} profile{}",
                if profiles == 1 { "" } else { "s" }
            ),
            profiles,
            folders: 25,
            rules_per_profile: 10_000,
        })
        .collect()
}

fn full(binary: &Path, args: &Args) -> Result<Vec<Row>, BenchError> {
    let mut rows = Vec::new();
    for size in full_sizes() {
        if !args.sizes.is_empty()
            && !args
                .sizes
                .iter()
                .any(|wanted| size.label.starts_with(wanted.as_str()))
        {
            continue;
        }
        let settings = Settings {
            seed: args.seed,
            latency: Duration::from_millis(args.latency_ms.unwrap_or(50)),
            emulator_rps: args.rps,
            emulator_burst: args.burst,
            max_rps: args.max_rps,
        };
        rows.extend(scenarios::run_size(binary, &size, &settings)?);
    }
    Ok(rows)
}

/// The machine the figures come from: cores, architecture, compiler.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .unwrap_or_default();
    format!(
        "Machine: {cores} cores, {} {}, {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        rustc.trim()
    )
}
