//! The client's typed errors. Every message names the call (method and URL, which holds the
//! profile) and says what went wrong in words a user understands. The token is never part of it:
//! it travels in a header, and headers are never printed. Text the server sent (messages, a
//! `Location`, a body's first line) is kept as sent, for the checks that read it, and escaped
//! ([`crate::quote`]) only when shown, so that it cannot act on a terminal.

use std::fmt;
use std::time::Duration;

use crate::quote::{escape, sanitize};

/// Which request failed: `POST https://api.controld.com/profiles/p1/rules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub method: &'static str,
    /// The route template, e.g. `POST /profiles/{profile}/rules`.
    pub route: &'static str,
    /// The URL with ids filled in (never credentials).
    pub url: String,
    pub profile: Option<String>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid API base URL `{url}`: {reason}")]
    InvalidBaseUrl { url: String, reason: String },

    #[error("could not set up the HTTP client: {0}")]
    Setup(String),

    #[error(
        "{call}: the API token was rejected (code {code}): {} Check CTRLD_API_TOKEN \
         (or the profile's token_env), that the token belongs to this account and that it is a \
         write token.",
        sentence(.message)
    )]
    Unauthorized {
        call: Call,
        code: u32,
        message: String,
    },

    #[error("{call}: not found (code {code}): {}", escape(.message))]
    NotFound {
        call: Call,
        code: u32,
        message: String,
    },

    #[error("{call}: REDIRECT rules need a paid Control D plan (code {code}): {}", escape(.message))]
    PaymentRequired {
        call: Call,
        code: u32,
        message: String,
    },

    #[error("{call}: missing parameter (code {code}): {}", escape(.message))]
    MissingParameter {
        call: Call,
        code: u32,
        message: String,
    },

    #[error("{call}: rejected by Control D (code {code}): {}", escape(.message))]
    Rejected {
        call: Call,
        code: u32,
        message: String,
    },

    /// An error code this client has no special meaning for.
    #[error("{call}: failed with HTTP {status} (code {code}): {}", escape(.message))]
    Unexpected {
        call: Call,
        status: u16,
        code: u32,
        message: String,
    },

    #[error("{call}: rate limited by Control D (HTTP 429) after {}; lower --max-rps or try again later", count_attempts(*.attempts))]
    RateLimited { call: Call, attempts: u32 },

    #[error(
        "{call}: Control D asked to wait {seconds} seconds before trying again (Retry-After), more \
         than the {max} seconds this tool waits; try again later"
    )]
    WaitTooLong { call: Call, seconds: u64, max: u64 },

    /// Redirects are never followed: a redirected write could come back as a GET.
    #[error("{call}: answered with a redirect (HTTP {status}) to {}; redirects are not followed: check the API URL", sanitize(.location))]
    Redirected {
        call: Call,
        status: u16,
        location: String,
    },

    #[error("{call}: Control D server error (HTTP {status}) after {}{}", count_attempts(*.attempts), detail(.message))]
    Server {
        call: Call,
        status: u16,
        attempts: u32,
        message: Option<String>,
    },

    #[error("{call}: no answer within {} s after {}", .timeout.as_secs_f64(), count_attempts(*.attempts))]
    Timeout {
        call: Call,
        timeout: Duration,
        attempts: u32,
    },

    #[error("{call}: connection failed after {}: {}", count_attempts(*.attempts), escape(.reason))]
    Connection {
        call: Call,
        attempts: u32,
        reason: String,
    },

    #[error("{call}: invalid response (HTTP {status}): {}", escape(.reason))]
    InvalidResponse {
        call: Call,
        status: u16,
        reason: String,
    },

    #[error(
        "{call}: {count} hostnames in one request, at most {max} are allowed (the server silently \
         drops form fields past about 1,001)"
    )]
    TooManyHostnames {
        call: Call,
        count: usize,
        max: usize,
    },

    /// A write that is not safe to repeat was sent but its outcome is unknown (server error,
    /// timeout or a connection dropped after sending). It was NOT retried: read back and continue.
    #[error(
        "{call}: outcome unknown ({}); the change may or may not have been made, so it was \
         not repeated: read the profile back before continuing",
        escape(.reason)
    )]
    Ambiguous { call: Call, reason: String },

    /// A settings write whose answer was lost was repeated, and the repeat refused with 40003.
    /// The server may refuse a write that changes nothing, so the first attempt may have made the
    /// change: the caller must read back, as after [`ApiError::Ambiguous`].
    #[error(
        "{call}: outcome unknown: an answer was lost and the repeated request was refused ({}); \
         the first may have made the change: read the profile back before continuing",
        escape(.message)
    )]
    RepeatRefused { call: Call, message: String },
}

/// The message with exactly one final period, so that a sentence can follow it.
fn sentence(message: &str) -> String {
    format!("{}.", escape(message.trim_end().trim_end_matches('.')))
}

fn count_attempts(count: u32) -> String {
    match count {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    }
}

fn detail(message: &Option<String>) -> String {
    match message {
        Some(message) if !message.is_empty() => format!(": {}", escape(message)),
        _ => String::new(),
    }
}

impl ApiError {
    /// The API's `error.code` (e.g. 40003), when the server sent one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Unauthorized { code, .. }
            | Self::NotFound { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::MissingParameter { code, .. }
            | Self::Rejected { code, .. }
            | Self::Unexpected { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A write whose outcome is unknown; the caller must read back before going on.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Ambiguous { .. } | Self::RepeatRefused { .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// POST rules failed because a hostname already exists somewhere in the profile.
    pub fn is_rule_exists(&self) -> bool {
        self.rejected_message_contains("already exists")
    }

    /// The batch would pass the 10,000 custom rules limit of the profile.
    pub fn is_rule_limit(&self) -> bool {
        self.rejected_message_contains("maximum number of custom rules")
    }

    // Control D uses 40003 for almost every client error (duplicate rule, unknown folder, rule
    // limit, bad hostname, ...), so these two cases can only be told apart by the message text.
    fn rejected_message_contains(&self, needle: &str) -> bool {
        match self {
            Self::Rejected { message, .. } => message.to_ascii_lowercase().contains(needle),
            _ => false,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn call() -> Call {
        Call {
            method: "POST",
            route: "POST /profiles/{profile}/rules",
            url: "https://api.controld.com/profiles/p1/rules".into(),
            profile: Some("p1".into()),
        }
    }

    fn rejected(message: &str) -> ApiError {
        ApiError::Rejected {
            call: call(),
            code: 40003,
            message: message.into(),
        }
    }

    #[test]
    fn rule_exists_and_rule_limit_are_told_apart_by_message() {
        assert!(rejected("Custom Rule already exists").is_rule_exists());
        assert!(!rejected("Custom Rule already exists").is_rule_limit());
        let limit = rejected("You have reached the maximum number of custom rules");
        assert!(limit.is_rule_limit());
        assert!(!limit.is_rule_exists());
        assert!(!rejected("hostnames must be an array").is_rule_exists());
    }

    #[test]
    fn auth_message_names_the_call_and_what_to_check() {
        let error = ApiError::Unauthorized {
            call: call(),
            code: 40001,
            message: "Invalid session, please login again.".into(),
        };
        let text = error.to_string();
        assert!(
            text.contains("the API token was rejected (code 40001)"),
            "{text}"
        );
        assert!(
            text.contains("POST https://api.controld.com/profiles/p1/rules"),
            "{text}"
        );
        assert!(text.contains("CTRLD_API_TOKEN"), "{text}");
        assert!(text.contains("please login again. Check"), "{text}");
        assert!(text.ends_with("write token."), "{text}");
        assert_eq!(error.code(), Some(40001));
    }

    #[test]
    fn text_from_the_server_is_escaped_when_shown_and_kept_as_sent() {
        let hostile = "Custom Rule already exists\u{1b}[2J\u{1b}]0;owned\u{7}";
        let error = rejected(hostile);
        assert!(error.is_rule_exists());
        let text = error.to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(
            text.ends_with("exists\\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
            "{text}"
        );
        let redirected = ApiError::Redirected {
            call: call(),
            status: 301,
            location: format!("https://elsewhere.example/\u{9b}{}", "x".repeat(200)),
        };
        let text = redirected.to_string();
        assert!(text.contains("elsewhere.example/\\u{9b}xx"), "{text}");
        assert!(
            !text.contains(&"x".repeat(81)),
            "a header value is cut: {text}"
        );
    }

    #[test]
    fn server_error_shows_detail_only_when_present() {
        let mut error = ApiError::Server {
            call: call(),
            status: 500,
            attempts: 3,
            message: None,
        };
        assert!(error.to_string().ends_with("(HTTP 500) after 3 attempts"));
        if let ApiError::Server { message, .. } = &mut error {
            *message = Some("database down".into());
        }
        assert!(error
            .to_string()
            .ends_with("after 3 attempts: database down"));
    }
}
