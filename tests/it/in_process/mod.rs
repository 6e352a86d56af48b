//! The real command pipeline run in-process (`ctrld_sync::run` on a command line), for
//! property tests that run hundreds of commands: the binary route costs a process start each.

use std::path::Path;

use ctrld_sync::TokenSource;

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
    let tokens = [("CTRLD_API_TOKEN".to_string(), token.to_string())];
    ctrld_sync::run(line, TokenSource::Given(tokens.into_iter().collect())).await
}
