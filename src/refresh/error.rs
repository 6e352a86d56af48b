//! Why the remote profile could not be read. Each message names the profile concerned.

#[derive(Debug, thiserror::Error)]
pub(crate) enum RefreshError {
    #[error("profile {profile}: reading the remote profile failed")]
    Api {
        profile: String,
        #[source]
        source: Box<crate::controld::ApiError>,
    },
}
