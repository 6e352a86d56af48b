//! Credentials of private sources (`auth_env`, `auth_header`): read from the environment at fetch
//! time, sent as a sensitive header, and never printed, logged, stored or put in a plan.

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use super::error::FetchProblem;
use crate::config::SourceAuth;

/// The header to send. Debug shows the header name only.
#[derive(Clone)]
pub(super) struct Credential {
    pub name: HeaderName,
    pub value: HeaderValue,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({}: ***)", self.name)
    }
}

impl Credential {
    /// `Authorization: Bearer $VAR`, or `$auth_header: $VAR`; a missing or empty variable is an
    /// error naming the variable.
    pub(super) fn from_env(auth: &SourceAuth) -> Result<Credential, FetchProblem> {
        let missing = || FetchProblem::MissingSecret {
            variable: auth.env.clone(),
        };
        let secret = std::env::var(&auth.env).map_err(|_| missing())?;
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(missing());
        }
        let (name, text) = match &auth.header {
            None => (AUTHORIZATION, format!("Bearer {secret}")),
            Some(header) => (
                // Checked when the config was loaded.
                HeaderName::from_bytes(header.as_bytes()).map_err(|_| missing())?,
                secret.to_string(),
            ),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| FetchProblem::BadSecret {
            variable: auth.env.clone(),
        })?;
        value.set_sensitive(true);
        Ok(Credential { name, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let credential = Credential {
            name: AUTHORIZATION,
            value: HeaderValue::from_static("Bearer s3cr3t"),
        };
        assert_eq!(format!("{credential:?}"), "Credential(authorization: ***)");
    }
}
