//! The client's settings and the API token.

use std::fmt;
use std::time::Duration;

use super::pacing::RateCeiling;
use super::request_log::RequestLog;

/// The API token. Never printed: Debug and Display show `***`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// e.g. `https://api.controld.com` or `http://127.0.0.1:PORT`
    pub base_url: url::Url,
    pub token: Token,
    /// A hard ceiling on requests per second, shared by every client given the same one (`--max-rps`);
    /// `None`: the adaptive pacing alone decides.
    pub ceiling: Option<RateCeiling>,
    /// Requests in flight at once.
    pub parallelism: usize,
    /// Per-request timeout (connect, send and read the whole answer).
    pub timeout: Duration,
    /// Attempts after the first for a retryable failure.
    pub max_retries: u32,
    /// First backoff ceiling; retry `n` waits a random time in `[0, min(max, base * 2^n)]`.
    pub retry_base_delay: Duration,
    /// The largest backoff ceiling. A `Retry-After` from the server may ask for longer.
    pub retry_max_delay: Duration,
    /// Sent as `X-Force-Org-Id` to act in a sub-organisation.
    pub org_id: Option<String>,
    /// Told of every HTTP attempt (`-vv`).
    pub request_log: Option<RequestLog>,
}

impl ClientConfig {
    pub(crate) const DEFAULT_PARALLELISM: usize = 4;
    pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    pub(crate) const DEFAULT_MAX_RETRIES: u32 = crate::shared::retry::DEFAULT_MAX_RETRIES;
    pub(crate) const DEFAULT_RETRY_BASE_DELAY: Duration =
        crate::shared::retry::DEFAULT_RETRY_BASE_DELAY;
    pub(crate) const DEFAULT_RETRY_MAX_DELAY: Duration =
        crate::shared::retry::DEFAULT_RETRY_MAX_DELAY;

    /// The defaults above for everything but the URL and the token.
    pub fn new(base_url: url::Url, token: Token) -> Self {
        Self {
            base_url,
            token,
            ceiling: None,
            parallelism: Self::DEFAULT_PARALLELISM,
            timeout: Self::DEFAULT_TIMEOUT,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            retry_base_delay: Self::DEFAULT_RETRY_BASE_DELAY,
            retry_max_delay: Self::DEFAULT_RETRY_MAX_DELAY,
            org_id: None,
            request_log: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints() {
        let token = Token::new("s3cret-value");
        assert_eq!(format!("{token}"), "***");
        let config = ClientConfig::new("https://api.controld.com".parse().unwrap(), token);
        assert!(!format!("{config:?}").contains("s3cret"));
        assert_eq!(config.token.expose(), "s3cret-value");
    }
}
