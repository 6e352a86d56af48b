//! `controld-emulator`: the fake Control D API as a standalone server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use controld_emulator::{Emulator, EmulatorConfig, DEFAULT_MAX_RULES, DEFAULT_TOKEN};

/// A faithful fake of the Control D API. Prints `listening on http://ADDR` first, then serves until killed.
#[derive(Parser, Debug)]
#[command(name = "controld-emulator", version)]
struct Args {
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The bearer token accepted
    #[arg(long, default_value = DEFAULT_TOKEN)]
    token: String,
    /// Profile ids created empty at start
    #[arg(long, value_delimiter = ',', default_value = "p1")]
    profiles: Vec<String>,
    /// Sleep per API request, in milliseconds
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per second allowed over all API requests (token bucket); unlimited when absent
    #[arg(long)]
    rps: Option<f64>,
    /// Token-bucket capacity (default: one second's worth of --rps)
    #[arg(long, default_value_t = 0)]
    burst: u32,
    /// Probability of an injected fault per API request, 0 to 1
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Seed of the fault-injection RNG
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Custom rules allowed per profile
    #[arg(long, default_value_t = DEFAULT_MAX_RULES)]
    max_rules: usize,
    /// Behave as a paid plan: allow REDIRECT (do=3)
    #[arg(long)]
    allow_redirect: bool,
    /// Directory served at /_lists/NAME
    #[arg(long)]
    serve_dir: Option<PathBuf>,
    /// The first N requests of each /_lists/ file answer 503 with Retry-After
    #[arg(long, default_value_t = 0)]
    lists_unavailable: u32,
    /// The Retry-After seconds sent with those 503s
    #[arg(long, default_value_t = 1)]
    lists_retry_after: u64,
    /// JSON file holding the data: loaded at start, saved after every change
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Folder PKs derived from profile id and folder name, whatever the order of requests
    #[arg(long)]
    stable_pks: bool,
}

impl Args {
    fn into_config(self) -> EmulatorConfig {
        EmulatorConfig {
            token: self.token,
            profiles: self.profiles,
            latency: Duration::from_millis(self.latency_ms),
            rps: self.rps,
            burst: self.burst,
            fail_rate: self.fail_rate,
            seed: self.seed,
            max_rules: self.max_rules,
            allow_redirect: self.allow_redirect,
            serve_dir: self.serve_dir,
            lists_unavailable: self.lists_unavailable,
            lists_retry_after: self.lists_retry_after,
            state_file: self.state_file,
            stable_pks: self.stable_pks,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listen = args.listen;
    let emulator = Emulator::start(args.into_config(), listen)
        .await
        .context("controld-emulator could not start")?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", emulator.url())?;
    stdout.flush()?;
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    emulator.shutdown();
    Ok(())
}
