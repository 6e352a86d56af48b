//! Saved plan files (`plan --out PLANFILE`): the plan plus what it was computed from, so that
//! `apply PLANFILE` can refuse a stale one, and a sha256 of its canonical content, so that it can
//! refuse one edited since. Never holds a token.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::types::{ProfilePlan, ProfileTarget};
use crate::shared::atomic::write_atomically;

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
    #[error("{path}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}")]
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
    #[error("{path}: the plan cannot be written as JSON")]
    Json {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl PlanFile {
    /// Writes the file atomically as pretty JSON with a trailing newline, with its checksum. The
    /// fields that can hold a URL are redacted as they are serialised ([`crate::redact`]'s serde
    /// modules on [`crate::model::SourceRecord`] and [`crate::model::KeptFolder`]), so the checksum
    /// covers the content exactly as it is written and read back.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let serialize = |source| PlanFileError::Json {
            path: path.to_path_buf(),
            source,
        };
        let mut sealed = self.clone();
        sealed.sha256 = sealed.checksum().map_err(serialize)?;
        let mut text = serde_json::to_string_pretty(&sealed).map_err(serialize)?;
        text.push('\n');
        write_atomically(path, text.as_bytes()).map_err(|err| PlanFileError::Write {
            path: err.path,
            source: err.source,
        })
    }

    pub(crate) fn load(path: &Path) -> Result<Self, PlanFileError> {
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
        let checksum = file.checksum().map_err(|source| PlanFileError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        if file.sha256 != checksum {
            return Err(PlanFileError::Checksum {
                path: path.to_path_buf(),
            });
        }
        Ok(file)
    }

    /// Sets the checksum to match the content as it is now.
    pub fn seal(&mut self) -> Result<(), serde_json::Error> {
        self.sha256 = self.checksum()?;
        Ok(())
    }

    /// sha256 of the compact JSON of everything but the checksum (maps are sorted, so it is
    /// deterministic).
    fn checksum(&self) -> Result<String, serde_json::Error> {
        let unsealed = PlanFile {
            sha256: String::new(),
            ..self.clone()
        };
        let canonical = serde_json::to_string(&unsealed)?;
        Ok(crate::hash::sha256_hex(canonical.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeptFolder;

    /// A saved plan keeping a folder whose source failed at a URL with credentials, and whose
    /// error quotes a signed redirect target.
    fn with_secrets() -> PlanFile {
        PlanFile {
            format_version: PLAN_FILE_VERSION,
            config_hash: "0".repeat(64),
            profiles: Vec::new(),
            kept: vec![KeptFolder {
                key: "ads".into(),
                location: "https://user:PASSWORD@lists.example/ads.txt?token=QUERY".into(),
                error: "refused a redirect to http://cdn.example/ads.txt?X-Amz-Signature=SIGNED \
                        (https only)"
                    .into(),
            }],
            sha256: String::new(),
        }
    }

    #[test]
    fn urls_are_redacted_field_by_field_and_the_checksum_covers_what_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        with_secrets().save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for secret in ["PASSWORD", "QUERY", "SIGNED"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("X-Amz-Signature=***"), "{text}");
        let loaded = PlanFile::load(&path).unwrap();
        assert_eq!(
            loaded.kept[0].location,
            "https://***:***@lists.example/ads.txt?token=***"
        );
        loaded.save(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "saved again unchanged"
        );
    }
}
