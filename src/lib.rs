//! ctrld-sync: plan and apply Control D folders and rules from blocklists kept in git.
//!
//! The binary is a thin shell over [`main`]. The rest of the public surface is what the
//! integration tests, property tests and benchmarks drive directly: [`run`] runs a command line
//! in-process, and the stage types below (the config, the sources, the planner and its file, the
//! API client, the state store) let them build and check each stage's input and output.
#![warn(unreachable_pub)]

mod apply;
mod bounds;
mod cli;
mod commands;
pub mod config;
pub mod controld;
mod error;
mod exit;
mod hash;
mod http;
pub mod model;
pub mod plan;
pub mod printer;
mod quote;
mod redact;
mod refresh;
mod shared;
pub mod source;
pub mod state;
mod sync;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::printer::{Printer, Verbosity};
use crate::shared::chain::chain;

pub use crate::commands::TokenSource;

/// The whole program: parse the process's command line, run it, map the outcome to an exit code.
/// Errors are printed to stderr as one sentence with their causes.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage(&err),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            return fail(format!(
                "could not start the async runtime: {}",
                chain(&err)
            ))
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitStatus::Success.into(),
        Err(err) => fail(chain(&err)),
    }
}

/// Runs the command line `args` (the program's name first) in-process, reading the API tokens
/// from `tokens`: the exit code, or the message of a usage error or failure (not printed).
/// Programs and tests that run many commands use it instead of starting a process for each.
pub async fn run<I, T>(args: I, tokens: TokenSource) -> Result<u8, String>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|error| error.to_string())?;
    commands::run_with_tokens(cli, tokens)
        .await
        .map(|status| status.code())
        .map_err(|error| chain(&error))
}

/// `--help` and `--version` print to stdout and exit 0; a usage error (unknown flag, bad value)
/// prints clap's message to stderr and exits 1, never 2: 2 means "changes present" with
/// `--detailed-exitcode`.
fn usage(err: &clap::Error) -> ExitCode {
    // Printing can only fail on a closed stream; the exit code still says what happened.
    let _ = err.print();
    if err.use_stderr() {
        ExitStatus::Error.into()
    } else {
        ExitStatus::Success.into()
    }
}

/// `ctrld-sync plan | head` closing stdout early is not a failure.
fn is_broken_pipe(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// One clear sentence on stderr, with its causes ([`chain`]); never a panic or a debug dump.
fn fail(message: String) -> ExitCode {
    Printer::new(Verbosity::Normal, true, false).error(message);
    ExitStatus::Error.into()
}
