//! The whole data set as plain data: `GET /_emulator/dump`, `POST /_emulator/load` and the state file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every profile with its folders and rules. Lists are sorted: folders by PK, rules by hostname.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Dump {
    /// One above the highest PK handed out so far: the next folder's PK under
    /// `FolderPks::GlobalCounter` (per-profile PKs only keep it up to date).
    pub next_pk: u64,
    pub profiles: BTreeMap<String, ProfileDump>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ProfileDump {
    pub name: String,
    /// Rules outside any folder.
    #[serde(default)]
    pub root: Vec<RuleDump>,
    #[serde(default)]
    pub folders: Vec<FolderDump>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FolderDump {
    pub pk: u64,
    pub name: String,
    pub action: ActionDump,
    #[serde(default)]
    pub rules: Vec<RuleDump>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RuleDump {
    pub hostname: String,
    pub action: ActionDump,
}

/// An action as the API shows it: `{"do": 0, "status": 1, "via": "..."}`, absent fields omitted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ActionDump {
    #[serde(rename = "do", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    pub status: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_v6: Option<String>,
}
