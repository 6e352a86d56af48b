//! PLACEHOLDER: the API client's public surface; bodies are written by the client work.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::controld::{RemoteFolder, RemoteProfile, RemoteRule, RuleTarget};
use crate::model::{FolderAction, FolderPk, RuleAction};

/// Most hostnames one write may carry: the server silently drops form variables past about 1,001.
pub const MAX_HOSTNAMES_PER_REQUEST: usize = 500;

/// The API token. Never printed: Debug and Display show `***`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// e.g. `https://api.controld.com` or `http://127.0.0.1:PORT`
    pub base_url: url::Url,
    pub token: Token,
    /// Client-side pacing shared by every request of this client (token bucket).
    pub max_rps: f64,
    /// Requests in flight at once.
    pub parallelism: usize,
    pub timeout: Duration,
    /// Attempts after the first for a retryable failure.
    pub max_retries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("placeholder")]
    Placeholder,
}

/// Every request counted once per HTTP attempt, retries included.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallStats {
    pub total: u64,
    /// "GET" -> n
    pub by_method: BTreeMap<String, u64>,
    /// "GET /profiles/{profile}/groups" -> n (route templates, never ids or hostnames)
    pub by_endpoint: BTreeMap<String, u64>,
    pub retries: u64,
    pub rate_limited: u64,
}

#[derive(Clone, Debug)]
pub struct Client;

impl Client {
    pub fn new(_config: ClientConfig) -> Result<Self, ApiError> {
        todo!()
    }
    pub async fn list_profiles(&self) -> Result<Vec<RemoteProfile>, ApiError> {
        todo!()
    }
    pub async fn list_folders(&self, _profile: &str) -> Result<Vec<RemoteFolder>, ApiError> {
        todo!()
    }
    pub async fn create_folder(
        &self,
        _profile: &str,
        _name: &str,
        _action: &FolderAction,
    ) -> Result<RemoteFolder, ApiError> {
        todo!()
    }
    pub async fn update_folder(
        &self,
        _profile: &str,
        _pk: FolderPk,
        _name: &str,
        _action: &FolderAction,
    ) -> Result<(), ApiError> {
        todo!()
    }
    pub async fn delete_folder(&self, _profile: &str, _pk: FolderPk) -> Result<(), ApiError> {
        todo!()
    }
    /// `folder = None` lists the root's rules.
    pub async fn list_rules(
        &self,
        _profile: &str,
        _folder: Option<FolderPk>,
    ) -> Result<Vec<RemoteRule>, ApiError> {
        todo!()
    }
    /// POST; `folder = None` creates in the root. At most [`MAX_HOSTNAMES_PER_REQUEST`].
    pub async fn create_rules(
        &self,
        _profile: &str,
        _folder: Option<FolderPk>,
        _action: &RuleAction,
        _hostnames: &[String],
    ) -> Result<(), ApiError> {
        todo!()
    }
    /// PUT: sets the action and, with `move_to`, moves the rules. At most [`MAX_HOSTNAMES_PER_REQUEST`].
    pub async fn update_rules(
        &self,
        _profile: &str,
        _move_to: Option<RuleTarget>,
        _action: &RuleAction,
        _hostnames: &[String],
    ) -> Result<(), ApiError> {
        todo!()
    }
    pub async fn delete_rule(&self, _profile: &str, _hostname: &str) -> Result<(), ApiError> {
        todo!()
    }
    pub fn stats(&self) -> CallStats {
        todo!()
    }
}
