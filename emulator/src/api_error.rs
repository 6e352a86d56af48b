//! A Control D error: a five-digit code whose first three digits are the HTTP status.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub code: u32,
    pub message: String,
}

pub(crate) const AUTH: u32 = 40001;
pub(crate) const MISSING_PARAMETER: u32 = 40002;
pub(crate) const BAD_REQUEST: u32 = 40003;
pub(crate) const NEEDS_PAID_PLAN: u32 = 40201;
pub(crate) const NO_SUCH_GROUP: u32 = 40401;
pub(crate) const RATE_LIMITED: u32 = 42900;

impl ApiError {
    pub(crate) fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(BAD_REQUEST, message)
    }

    pub(crate) fn missing(parameter: &str) -> Self {
        Self::new(MISSING_PARAMETER, format!("Missing parameter: {parameter}"))
    }

    pub(crate) fn no_such_group() -> Self {
        Self::new(NO_SUCH_GROUP, "No such group exists.")
    }

    /// What `PUT /groups/{pk}` of an unknown folder answers (observed).
    pub(crate) fn folder_does_not_exist() -> Self {
        Self::bad_request("This folder does not exist")
    }

    /// Bad paths look like permission errors on the live service; they never 404.
    pub(crate) fn no_permission() -> Self {
        Self::new(AUTH, "You do not have permission to access this resource")
    }

    pub(crate) fn no_such_profile() -> Self {
        Self::bad_request("No such profile")
    }

    pub(crate) fn needs_paid_plan() -> Self {
        Self::new(
            NEEDS_PAID_PLAN,
            "Redirect rules require a paid plan, please upgrade.",
        )
    }

    /// The HTTP status: the code's first three digits.
    pub(crate) fn http_status(&self) -> u16 {
        u16::try_from(self.code / 100).unwrap_or(500)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}
