//! Typed Control D API client: envelope and error codes, pacing, retries, call counting.

mod base_url;
mod client;
mod config;
#[cfg(test)]
mod decode_tests;
mod encode;
mod endpoint;
mod envelope;
mod error;
mod failure;
mod pacing;
mod request_log;
mod settings_types;
mod settings_wire;
mod stats;
mod types;
mod wire;

/// The domain's, re-exported where the client's callers look for what it takes and returns.
pub use crate::model::{RemoteFolder, MAX_HOSTNAMES_PER_REQUEST};
use crate::shared::retry;
pub(crate) use base_url::check as check_base_url;
pub use client::{Client, RawAnswer};
pub use config::{ClientConfig, Token};
pub use error::ApiError;
pub use pacing::{RateCeiling, INITIAL_RPS};
pub use request_log::RequestLog;
pub use settings_types::{
    OptionInfo, OptionKind, RemoteFilter, RemoteFilterLevel, RemoteService, SettingsSignature,
};
pub use stats::CallStats;
pub use types::{RemoteProfile, RemoteRule, RuleTarget};
