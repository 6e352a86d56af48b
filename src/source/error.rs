//! What can go wrong while reading sources; every message names the URL or path, and the folder.

use std::path::PathBuf;
use std::time::Duration;

use super::format::ParseError;
use crate::quote::{escape, sanitize};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source could not be fetched or read; `folders` are the folder keys that use it.
    #[error("{location}: {problem} (used by folder {})", quoted(folders))]
    Fetch {
        location: String,
        folders: Vec<String>,
        problem: FetchProblem,
    },

    /// The source was read, but does not give this folder its rules.
    #[error("folder `{key}` ({location}): {problem}")]
    Folder {
        key: String,
        location: String,
        problem: FolderProblem,
    },

    #[error("profile `{id}` is not in the config {}: add a [[profile]] with `id = \"{id}\"` or fix `--profile`", config.display())]
    UnknownProfile { id: String, config: PathBuf },

    #[error("no [[profile]] in {}: nothing to manage; add a [[profile]] with `id = \"...\"` and `folders = [...]`", config.display())]
    NothingToManage { config: PathBuf },

    /// `on_error = "keep"`, but the state holds no complete record of the folders' last source.
    #[error("{cause}; with on_error = \"keep\" folder {} cannot be kept as it is: the state holds no complete record of its last good source", quoted(folders))]
    CannotKeep {
        folders: Vec<String>,
        cause: Box<SourceError>,
    },

    /// `on_error = "keep"` kept these folders as they were; the run still fails.
    #[error("{} kept as it is because its source failed (on_error = \"keep\"); the other folders were synced: {}", folder_word(kept), kept.iter().map(|k| format!("`{}`", k.key)).collect::<Vec<_>>().join(", "))]
    Kept { kept: Vec<crate::model::KeptFolder> },

    #[error("cannot start the HTTP client: {0}")]
    Client(String),

    /// Several of the above; one line each.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<SourceError>),
}

impl SourceError {
    /// One line per problem.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Several(errors) => errors.iter().flat_map(SourceError::lines).collect(),
            other => vec![other.to_string()],
        }
    }

    /// `Ok` when there is nothing, the error itself when one, `Several` otherwise.
    pub(crate) fn from_all(mut errors: Vec<SourceError>) -> Result<(), SourceError> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Self::Several(errors)),
        }
    }
}

fn folder_word(kept: &[crate::model::KeptFolder]) -> String {
    match kept.len() {
        1 => "1 folder".to_string(),
        n => format!("{n} folders"),
    }
}

fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a URL or file gave no body. What the server sent (a content type, an error's text) is
/// escaped when shown.
#[derive(Debug, thiserror::Error)]
pub enum FetchProblem {
    #[error("the server answered HTTP {0}")]
    Status(reqwest::StatusCode),
    /// 429 or 5xx: worth another try, after `Retry-After` when the server sent one.
    #[error("the server answered HTTP {status}")]
    Unavailable {
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
    },
    #[error("timed out after {} s ([sources].timeout)", .0.as_secs_f64())]
    Timeout(Duration),
    /// A transient problem that was still there after every retry.
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp {
        attempts: u32,
        last: Box<FetchProblem>,
    },
    #[error(
        "larger than the {0}-byte limit; raise [sources].max_bytes if the list really is that big"
    )]
    TooLarge(u64),
    #[error("the server sent `{}` where {expected} was expected (an error or login page?)", sanitize(.found))]
    WrongContentType {
        found: String,
        expected: &'static str,
    },
    #[error("`auth_env = \"{variable}\"` but ${variable} is not set or is empty: export it (in CI, from a secret)")]
    MissingSecret { variable: String },
    #[error("${variable} (named by `auth_env`) holds characters an HTTP header cannot carry")]
    BadSecret { variable: String },
    #[error("request failed: {}", escape(.0))]
    Network(String),
    /// The connection failed or was reset: worth another try.
    #[error("request failed: {}", escape(.0))]
    Connection(String),
    /// Written into the folder's message, so the cause is part of the text, not a `source`.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl FetchProblem {
    /// `Some(retry_after)` when another attempt may succeed (429, 5xx, a timeout, a connection
    /// failure or reset); `None` for what retrying cannot fix (404, 403, too large, not a list).
    pub(crate) fn transient(&self) -> Option<Option<Duration>> {
        match self {
            Self::Unavailable { retry_after, .. } => Some(*retry_after),
            Self::Timeout(_) | Self::Connection(_) => Some(None),
            _ => None,
        }
    }
}

/// Why a read source gives a folder no rules.
#[derive(Debug, thiserror::Error)]
pub enum FolderProblem {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("the source yielded no rules; an empty upstream list must never silently empty a folder: check the source, remove the folder from the config, or write `allow_empty = true` under the folder if it is meant to be empty")]
    NoRules,
    #[error("the source does not name the folder: add `name = \"...\"` under [folder.{0}]")]
    NoName(String),
    #[error("the server answered 304 Not Modified to a request that was not conditional")]
    UnexpectedNotModified,
    #[error("{count} invalid entries and `strict = true`: {}", examples.join("; "))]
    Invalid { count: usize, examples: Vec<String> },
}
