//! Thin: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

use ctrld_sync::cli::Cli;
use ctrld_sync::error::Error;
use ctrld_sync::exit::ExitStatus;
use ctrld_sync::printer::Printer;

fn main() -> ExitCode {
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
            return fail(&anyhow::Error::new(err).context("could not start the async runtime"))
        }
    };
    match runtime.block_on(ctrld_sync::commands::run(cli)) {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitStatus::Success.into(),
        Err(err) => fail(&anyhow::Error::new(err)),
    }
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

/// One clear sentence on stderr, with its causes; never a panic or a debug dump.
fn fail(err: &anyhow::Error) -> ExitCode {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    Printer::new(ctrld_sync::printer::Verbosity::Normal, true, false).error(message);
    ExitStatus::Error.into()
}
