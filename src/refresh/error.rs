//! Why the remote profile could not be read. Each message names the profile concerned.

use crate::model::FolderPk;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
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
    Api {
        profile: String,
        #[source]
        source: Box<crate::controld::ApiError>,
    },
}
