//! Why the remote profile could not be read. Each message names the profile concerned.

#[derive(Debug, thiserror::Error)]
pub(crate) enum RefreshError {
    #[error("profile {profile}: reading the remote profile failed")]
    Api {
        profile: String,
        #[source]
        source: Box<crate::controld::ApiError>,
    },

    /// A filter, level, service or option name Control D does not list, or a value its option
    /// does not take: pointed at in the config.
    #[error("{}:{line}:{column}: {message}", .file.display())]
    Setting {
        file: std::path::PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}
