//! The real command pipeline run in-process (`commands::run` on a parsed command line), for
//! property tests that run hundreds of commands: the binary route costs a process start each.

use std::path::Path;

use clap::Parser;
use ctrld_sync::cli::Cli;
use ctrld_sync::commands::TokenSource;

/// `ctrld-sync --config CONFIG --api-url URL -q --no-progress ARGS...` with `token` as
/// `CTRLD_API_TOKEN` (given, not set in the process environment, which the test threads share):
/// the exit code, or the error's message (a usage error included).
pub async fn run(config: &Path, url: &str, token: &str, args: &[&str]) -> Result<u8, String> {
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
    let cli = Cli::try_parse_from(line).map_err(|error| error.to_string())?;
    let tokens = [("CTRLD_API_TOKEN".to_string(), token.to_string())];
    ctrld_sync::commands::run_with_tokens(cli, TokenSource::Given(tokens.into_iter().collect()))
        .await
        .map(|status| status.code())
        .map_err(|error| error.to_string())
}
