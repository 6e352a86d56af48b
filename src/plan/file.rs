//! Saved plan files (`plan --out PLANFILE`): the plan plus what it was computed from, so that
//! `apply PLANFILE` can refuse a stale one, and a sha256 of its canonical content, so that it can
//! refuse one edited since. Never holds a token.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::types::{ProfilePlan, ProfileTarget};
use crate::state::{write_atomically, StateError};

/// The saved plan file format.
/// 2: a target folder's `excluded` is split into `overlapped` and `held_by_unmanaged`.
pub const PLAN_FILE_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    /// Always [`PLAN_FILE_VERSION`].
    pub format_version: u32,
    /// The config's hash when planned; a changed config makes the plan stale.
    pub config_hash: String,
    pub profiles: Vec<PlanFileProfile>,
    /// Folders whose source failed, planned as they were (`[sources] on_error = "keep"`): applying
    /// the plan still fails the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<crate::model::KeptFolder>,
    /// sha256 of the file's canonical content (compact JSON, with this field empty); `load`
    /// refuses a file that does not match. It makes an edit evident, not impossible: what `apply`
    /// finds destructive is worked out from the steps anyway ([`super::audit`]).
    #[serde(default)]
    pub sha256: String,
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
    pub target: Arc<ProfileTarget>,
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
        "{path}: the plan's content does not match its checksum (edited or damaged since it was \
         saved): make a new plan with `ctrld-sync plan --out`"
    )]
    Checksum { path: std::path::PathBuf },
    #[error(
        "{path}: plan file format {found} is not supported (this build reads {PLAN_FILE_VERSION})"
    )]
    Version {
        path: std::path::PathBuf,
        found: u64,
    },
}

impl PlanFile {
    /// Writes the file atomically as pretty JSON with a trailing newline, with its checksum.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        // The checksum covers the content as it will be read back: after redaction.
        let redacted = crate::redact::text(&self.canonical());
        let mut sealed: PlanFile =
            serde_json::from_str(&redacted).expect("a redacted plan is still a plan");
        sealed.seal();
        let text = serde_json::to_string_pretty(&sealed).expect("a plan serialises to JSON");
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
        let file: PlanFile = serde_json::from_value(value).map_err(parse)?;
        if file.sha256 != file.checksum() {
            return Err(PlanFileError::Checksum {
                path: path.to_path_buf(),
            });
        }
        Ok(file)
    }

    /// Sets the checksum to match the content as it is now.
    pub fn seal(&mut self) {
        self.sha256 = self.checksum();
    }

    /// Compact JSON of everything but the checksum (maps are sorted, so it is deterministic).
    fn canonical(&self) -> String {
        let unsealed = PlanFile {
            sha256: String::new(),
            ..self.clone()
        };
        serde_json::to_string(&unsealed).expect("a plan serialises to JSON")
    }

    fn checksum(&self) -> String {
        crate::hash::sha256_hex(self.canonical().as_bytes())
    }
}
