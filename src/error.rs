//! The crate's error: one variant per stage, each carrying its module's typed error.
//! `main` maps every error to exit code 1 (see [`crate::exit::ExitStatus`]).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Api(#[from] crate::controld::ApiError),

    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),

    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),

    #[error(transparent)]
    Source(#[from] crate::source::SourceError),

    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    State(#[from] crate::state::StateError),

    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),

    #[error(transparent)]
    Refresh(#[from] crate::refresh::RefreshError),

    #[error(transparent)]
    PlanFile(#[from] crate::plan::PlanFileError),

    /// The `--sandbox` emulator could not start.
    #[error("{0}")]
    Sandbox(String),

    /// A command that cannot run as asked; the message says what to do instead.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
