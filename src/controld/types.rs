//! What the API returns, already decoded into the shared model.

use crate::model::{FolderPk, Hostname, RuleAction};

use super::settings_types::SettingsSignature;

/// One profile from `GET /profiles`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteProfile {
    /// The profile id (`PK`, a 12-13 character string).
    pub id: String,
    pub name: String,
    /// When the profile last changed, as the API writes it (a number or a date; compared only).
    pub updated: Option<String>,
    /// `profile.rule.count`: the live service counts enabled rules only.
    pub enabled_rule_count: Option<u64>,
    /// The settings counts and option values the row carries, to see whether settings moved.
    pub settings: SettingsSignature,
}

impl RemoteProfile {
    /// sha256 of what the row says of the settings: `updated` (where the service moves it for a
    /// settings change, unknown, this catches a level swapped or an action changed in the
    /// dashboard), the counts of enabled filters and services, and every option value. Equal
    /// marks: the settings are as they were.
    pub(crate) fn settings_mark(&self) -> String {
        let signature = serde_json::json!({
            "updated": self.updated,
            "settings": self.settings,
        });
        crate::hash::sha256_hex(signature.to_string().as_bytes())
    }
}

/// One rule from `GET /profiles/{profile}/rules[/{folder}]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteRule {
    pub hostname: Hostname,
    pub action: RuleAction,
    /// The folder the rule lives in; `None` for the root.
    pub folder: Option<FolderPk>,
}

/// Where a PUT moves rules to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleTarget {
    /// `group=0`
    Root,
    Folder(FolderPk),
}
