//! Saved plan files (`plan --out PLANFILE`): the plan plus what it was computed from, so that
//! `apply PLANFILE` can refuse a stale one. Never holds a token.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::types::{ProfilePlan, ProfileTarget};
use crate::state::{write_atomically, StateError};

/// The saved plan file format.
pub const PLAN_FILE_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    /// Always [`PLAN_FILE_VERSION`].
    pub format_version: u32,
    /// The config's hash when planned; a changed config makes the plan stale.
    pub config_hash: String,
    pub profiles: Vec<PlanFileProfile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanFileProfile {
    pub profile: String,
    /// The state file's lineage and serial when planned; `None`/0 when there was no state file.
    pub lineage: Option<String>,
    pub serial: u64,
    /// [`super::CurrentProfile::fingerprint`] when planned; apply compares it with a fresh `GET /groups`.
    pub remote_fingerprint: String,
    pub plan: ProfilePlan,
    /// What the state holds once the plan is applied.
    pub target: ProfileTarget,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error(transparent)]
    Write(#[from] StateError),
    #[error("{path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a ctrld-sync plan file: {message}")]
    Parse {
        path: std::path::PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: plan file format {found} is not supported (this build reads {PLAN_FILE_VERSION})"
    )]
    Version {
        path: std::path::PathBuf,
        found: u64,
    },
}

impl PlanFile {
    /// Writes the file atomically as pretty JSON with a trailing newline.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let text = serde_json::to_string_pretty(self).expect("a plan serialises to JSON");
        let mut text = crate::redact::text(&text);
        text.push('\n');
        write_atomically(path, text.as_bytes())?;
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Self, PlanFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let parse = |err: serde_json::Error| PlanFileError::Parse {
            path: path.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(parse)?;
        let version = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if let Some(found) = version.filter(|v| *v != u64::from(PLAN_FILE_VERSION)) {
            return Err(PlanFileError::Version {
                path: path.to_path_buf(),
                found,
            });
        }
        serde_json::from_value(value).map_err(parse)
    }
}
