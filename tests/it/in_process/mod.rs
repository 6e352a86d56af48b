//! The real command pipeline run in-process (`ctrld_sync::run` on a command line), for
//! property tests that run hundreds of commands: the binary route costs a process start each.

use std::path::Path;
use std::time::Duration;

use ctrld_sync::TokenSource;

/// `ctrld-sync --config CONFIG --api-url URL -q --no-progress ARGS...` with `token` as
/// `CTRLD_API_TOKEN` (given, not set in the process environment, which the test threads share):
/// the exit code, or the error's message (a usage error included).
///
/// A run refused because this very process holds the state directory's lock is run again: the
/// previous in-process run released it, but a child that another test thread was starting at that
/// moment inherited the lock's file descriptor and holds the lock until it execs. The lock is taken
/// before any request or write, so the refused run did nothing.
pub async fn run(config: &Path, url: &str, token: &str, args: &[&str]) -> Result<u8, String> {
    let held_here = format!("is locked by pid {} ", std::process::id());
    let mut attempts = 0;
    loop {
        let result = run_once(config, url, token, args).await;
        match result {
            Err(message) if message.contains(&held_here) && attempts < 500 => attempts += 1,
            result => return result,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn run_once(config: &Path, url: &str, token: &str, args: &[&str]) -> Result<u8, String> {
    let mut line = vec![
        "ctrld-sync".to_string(),
        "--config".into(),
        config.display().to_string(),
        "--api-url".into(),
        url.into(),
        "-q".into(),
        "--no-progress".into(),
    ];
    line.extend(args.iter().map(|arg| arg.to_string()));
    let tokens = [("CTRLD_API_TOKEN".to_string(), token.to_string())];
    ctrld_sync::run(line, TokenSource::Given(tokens.into_iter().collect())).await
}
