//! `ctrld-sync completions <shell>`

use clap::CommandFactory;

use super::Context;
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

pub(super) fn run(context: &Context, shell: clap_complete::Shell) -> Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ctrld-sync", &mut script);
    let script = String::from_utf8(script).map_err(|err| Error::Usage(err.to_string()))?;
    context
        .printer
        .stdout(&script)
        .map_err(|err| Error::io("<stdout>", err))?;
    Ok(ExitStatus::Success)
}
