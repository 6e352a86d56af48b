//! What one failed attempt means: may it be retried, and which error does it become.
//!
//! The split that matters: a request that never reached the server, or was refused with 429, was
//! not applied and is always safe to repeat; a 5xx, a timeout or a connection lost after sending
//! leaves the outcome unknown, which only idempotent requests may retry blindly.

use std::time::Duration;

use serde_json::Value;

use super::envelope::{self, Answer};
use super::error::{ApiError, Call};

/// Why one attempt failed, before deciding whether to try again.
#[derive(Debug)]
pub(crate) enum Failure {
    /// HTTP 429: not applied; always safe to repeat.
    RateLimited { retry_after: Option<Duration> },
    /// The connection could not be made: the request never reached the server.
    NotSent(String),
    /// HTTP 5xx: the server may or may not have applied the request.
    Server {
        status: u16,
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// No complete answer in time after sending.
    Timeout,
    /// The connection broke after the request was sent.
    Lost(String),
    /// An answer that is not a Control D envelope; after a 2xx the change was probably made.
    Unreadable { status: u16, reason: String },
    /// A definite answer that retrying cannot change (4xx).
    Final(ApiError),
}

impl Failure {
    /// The attempt's result from a complete HTTP answer.
    pub(super) fn from_answer(
        answer: Answer,
        retry_after: Option<Duration>,
        call: &Call,
    ) -> Result<Value, Failure> {
        match answer {
            Answer::Success(body) => Ok(body),
            Answer::RateLimited => Err(Self::RateLimited { retry_after }),
            Answer::ServerError { status, message } => Err(Self::Server {
                status,
                message,
                retry_after,
            }),
            Answer::Failure {
                status,
                code,
                message,
            } => {
                let error = envelope::failure_error(call.clone(), status, code, message);
                Err(Self::Final(error))
            }
            Answer::Invalid { status, reason } => Err(Self::Unreadable { status, reason }),
        }
    }

    pub(super) fn from_transport(error: reqwest::Error) -> Self {
        if error.is_connect() {
            Self::NotSent(transport_reason(error))
        } else if error.is_timeout() {
            Self::Timeout
        } else {
            Self::Lost(transport_reason(error))
        }
    }

    /// The request may have been applied although no success came back.
    pub(super) fn outcome_unknown(&self) -> bool {
        match self {
            Self::Server { .. } | Self::Timeout | Self::Lost(_) => true,
            Self::Unreadable { status, .. } => (200..300).contains(status),
            Self::RateLimited { .. } | Self::NotSent(_) | Self::Final(_) => false,
        }
    }

    pub(super) fn may_retry(&self, idempotent: bool) -> bool {
        match self {
            Self::RateLimited { .. } | Self::NotSent(_) => true,
            Self::Server { .. } | Self::Timeout | Self::Lost(_) => idempotent,
            Self::Unreadable { .. } | Self::Final(_) => false,
        }
    }

    pub(super) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(super) fn is_not_found(&self) -> bool {
        matches!(self, Self::Final(error) if error.is_not_found())
    }

    pub(super) fn into_error(
        self,
        call: Call,
        attempts: u32,
        idempotent: bool,
        timeout: Duration,
    ) -> ApiError {
        if !idempotent && self.outcome_unknown() {
            return ApiError::Ambiguous {
                reason: self.unknown_outcome_reason(timeout),
                call,
            };
        }
        match self {
            Self::RateLimited { .. } => ApiError::RateLimited { call, attempts },
            Self::Server {
                status, message, ..
            } => ApiError::Server {
                call,
                status,
                attempts,
                message,
            },
            Self::Timeout => ApiError::Timeout {
                call,
                timeout,
                attempts,
            },
            Self::NotSent(reason) | Self::Lost(reason) => ApiError::Connection {
                call,
                attempts,
                reason,
            },
            Self::Unreadable { status, reason } => ApiError::InvalidResponse {
                call,
                status,
                reason,
            },
            Self::Final(error) => error,
        }
    }

    pub(super) fn unknown_outcome_reason(&self, timeout: Duration) -> String {
        match self {
            Self::Server {
                status,
                message: Some(message),
                ..
            } => format!("HTTP {status}: {message}"),
            Self::Server { status, .. } => format!("HTTP {status}"),
            Self::Timeout => format!("no answer within {} s", timeout.as_secs_f64()),
            Self::Lost(reason) => format!("connection lost: {reason}"),
            Self::Unreadable { status, reason } => format!("HTTP {status}, {reason}"),
            Self::RateLimited { .. } | Self::NotSent(_) | Self::Final(_) => "unknown".to_owned(),
        }
    }
}

/// The innermost cause, which says what really happened ("Connection refused (os error 111)",
/// "invalid peer certificate: UnknownIssuer") without reqwest's generic wrappers or the URL.
pub(crate) fn transport_reason(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut innermost: &dyn std::error::Error = &error;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    innermost.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::controld::error::tests::call;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn server_error() -> Failure {
        Failure::Server {
            status: 502,
            message: None,
            retry_after: None,
        }
    }

    #[test]
    fn unknown_outcomes_are_retried_only_when_idempotent() {
        for failure in [
            server_error(),
            Failure::Timeout,
            Failure::Lost("reset".into()),
        ] {
            assert!(failure.outcome_unknown());
            assert!(failure.may_retry(true));
            assert!(!failure.may_retry(false));
        }
    }

    #[test]
    fn unapplied_requests_are_always_retried() {
        let rate_limited = Failure::RateLimited { retry_after: None };
        for failure in [rate_limited, Failure::NotSent("refused".into())] {
            assert!(!failure.outcome_unknown());
            assert!(failure.may_retry(false));
        }
    }

    #[test]
    fn an_unknown_outcome_of_a_post_is_ambiguous() {
        let error = server_error().into_error(call(), 1, false, TIMEOUT);
        assert!(error.is_ambiguous());
        assert!(error.to_string().contains("outcome unknown (HTTP 502)"));
        let error = server_error().into_error(call(), 3, true, TIMEOUT);
        assert!(matches!(error, ApiError::Server { attempts: 3, .. }));
    }

    #[test]
    fn an_unreadable_success_is_ambiguous_for_a_post_only() {
        let unreadable = || Failure::Unreadable {
            status: 200,
            reason: "expected JSON".into(),
        };
        assert!(unreadable()
            .into_error(call(), 1, false, TIMEOUT)
            .is_ambiguous());
        let error = unreadable().into_error(call(), 1, true, TIMEOUT);
        assert!(matches!(
            error,
            ApiError::InvalidResponse { status: 200, .. }
        ));
        assert!(!unreadable().may_retry(true));
    }

    #[test]
    fn client_errors_are_final() {
        let answer = Answer::Failure {
            status: 400,
            code: 40003,
            message: "Custom Rule already exists".into(),
        };
        let failure = Failure::from_answer(answer, None, &call()).unwrap_err();
        assert!(!failure.may_retry(true));
        assert!(failure
            .into_error(call(), 1, false, TIMEOUT)
            .is_rule_exists());
    }
}
