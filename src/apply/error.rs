//! The applier's errors: each names the profile, and the folder or file concerned.

use std::path::PathBuf;

use crate::controld::ApiError;
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApplyError {
    /// `what` may name a hostname or folder from Control D: escaped.
    #[error("profile {profile}: {}", crate::quote::escape(.what))]
    Api {
        profile: String,
        what: String,
        #[source]
        source: Box<ApiError>,
    },

    #[error("profile {profile}: could not save the state")]
    State {
        profile: String,
        #[source]
        source: StateError,
    },

    #[error(
        "profile {profile}: the plan names folder `{key}` but no step created it and it has no PK"
    )]
    UnknownFolder { profile: String, key: String },

    #[error("profile {profile}: the plan moves rules to a scratch folder before creating one")]
    NoScratch { profile: String },

    #[error(
        "profile {profile}: {count} hostname(s) in folder `{key}` still conflict after reading the \
         profile back (first: {}); run `ctrld-sync plan --refresh full` to see where they are",
        crate::quote::escape(.first)
    )]
    Unresolved {
        profile: String,
        key: String,
        count: usize,
        first: String,
    },

    #[error(
        "profile {profile}: Control D refused adding {count} rule(s) to folder `{key}` (PK {pk}): \
         the profile has reached its {limit}-rule limit; nothing more is sent for this profile. \
         Rules in the root and in folders ctrld-sync does not manage count too: run \
         `ctrld-sync plan --refresh full` to count them, then make room (remove rules by hand, or \
         folders from the config) and apply again"
    )]
    RuleLimit {
        profile: String,
        key: String,
        pk: crate::model::FolderPk,
        count: usize,
        limit: usize,
    },

    #[error(
        "profile {profile}: option `{option}`: Control D stored {} where {} was sent (out of its \
         range?); write a value it keeps, or the next plan changes it again",
        crate::quote::escape(.stored),
        crate::quote::escape(.sent)
    )]
    SettingNotStored {
        profile: String,
        option: String,
        sent: String,
        stored: String,
    },

    #[error(
        "profile {profile}: {} is not as written when read back (--verify); changed meanwhile in \
         the dashboard? run `ctrld-sync plan` to see it",
        crate::quote::escape(.what)
    )]
    SettingMismatch { profile: String, what: String },

    #[error(
        "{path}: the saved plan is stale: {reason}; nothing was changed; run `ctrld-sync plan --out {path}` \
         again and apply that"
    )]
    StalePlan { path: PathBuf, reason: String },

    #[error("{path}: not a plan file ctrld-sync can apply: {reason}")]
    BadPlanFile { path: PathBuf, reason: String },

    #[error("{path}: could not write the report")]
    Report {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("apply failed for {}; what succeeded is saved in the state, run `ctrld-sync apply` again to finish", .0.join(", "))]
    ProfilesFailed(Vec<String>),
}

impl ApplyError {
    pub(crate) fn api(profile: &str, what: impl Into<String>, source: ApiError) -> Self {
        Self::Api {
            profile: profile.to_string(),
            what: what.into(),
            source: Box::new(source),
        }
    }
}
