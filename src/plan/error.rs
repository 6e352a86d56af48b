//! Why a plan cannot be made. Each message names the profile and folder concerned.

use crate::model::FolderPk;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "profile {profile}: the plan would leave {after} rules ({managed} managed + {unmanaged} not managed), \
         over Control D's limit of {limit} per profile; nothing was sent. Remove folders from this profile \
         or split them over several profiles"
    )]
    RuleLimit {
        profile: String,
        after: usize,
        managed: usize,
        unmanaged: usize,
        limit: usize,
    },

    #[error(
        "refusing a destructive plan; pass --allow-destroy (or set `allow_destroy = true` under [safety]) \
         if this is intended:\n{}",
        offenses.iter().map(|offense| format!("  - {offense}")).collect::<Vec<_>>().join("\n")
    )]
    Destructive { offenses: Vec<String> },

    #[error(
        "profile {profile}: {} folders are named \"{name}\" (PKs {}); rename or delete all but one so the \
         folder can be adopted",
        pks.len(),
        pks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousFolder {
        profile: String,
        name: String,
        pks: Vec<FolderPk>,
    },

    #[error("profile {profile}: reading the remote profile failed: {source}")]
    Refresh {
        profile: String,
        #[source]
        source: Box<crate::controld::ApiError>,
    },
}
