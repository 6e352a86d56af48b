//! `ctrld-sync schema`: the config's JSON Schema, generated from the types that parse the config.

use super::Context;
use crate::config;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

pub(super) fn run(context: &Context) -> Result<ExitStatus> {
    context
        .printer
        .stdout(&config::json_schema())
        .map_err(|err| Error::io("<stdout>", err))?;
    Ok(ExitStatus::Success)
}
