//! The bench's own small data model: actions as the API codes them, lists, and the effective desired
//! state of a profile (overlaps resolved, config order wins).

use std::collections::{BTreeMap, HashSet};

/// A rule's action as the API codes it: `do` and `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Act {
    pub kind: u8,
    pub status: u8,
}

impl Act {
    pub const BLOCK: Act = Act { kind: 0, status: 1 };
    pub const ALLOW: Act = Act { kind: 1, status: 1 };
}

/// A folder's action: `do` may be absent (like hagezi's "Most Abused TLDs").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FolderAct {
    pub kind: Option<u8>,
    pub status: u8,
}

/// One synthetic blocklist: a Control D folder JSON file.
#[derive(Clone, Debug)]
pub struct List {
    /// The `[folder.<key>]` key and the file's stem.
    pub key: String,
    pub name: String,
    pub action: FolderAct,
    /// In file order; a hostname appears once per list.
    pub rules: Vec<(String, Act)>,
}

/// The lists of one profile, in config order.
#[derive(Clone, Debug)]
pub struct ProfileLists {
    pub id: String,
    pub lists: Vec<List>,
}

/// One folder as it must end up in Control D.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveFolder {
    pub name: String,
    pub action: FolderAct,
    pub rules: BTreeMap<String, Act>,
}

/// Resolves overlaps the way the design says: the first folder in config order that lists a
/// hostname keeps it.
pub fn effective(profile: &ProfileLists) -> Vec<EffectiveFolder> {
    let mut taken: HashSet<&str> = HashSet::new();
    let mut folders = Vec::with_capacity(profile.lists.len());
    for list in &profile.lists {
        let mut rules = BTreeMap::new();
        for (host, act) in &list.rules {
            if taken.insert(host.as_str()) {
                rules.insert(host.clone(), *act);
            }
        }
        folders.push(EffectiveFolder {
            name: list.name.clone(),
            action: list.action,
            rules,
        });
    }
    folders
}

/// Rules in a profile's effective desired state.
pub fn effective_rule_count(folders: &[EffectiveFolder]) -> usize {
    folders.iter().map(|folder| folder.rules.len()).sum()
}

/// The list as Control D folder JSON (the hagezi `controld/*-folder.json` shape).
pub fn list_json(list: &List) -> String {
    let group_action = match list.action.kind {
        Some(kind) => serde_json::json!({"do": kind, "status": list.action.status}),
        None => serde_json::json!({"status": list.action.status}),
    };
    let rules: Vec<serde_json::Value> = list
        .rules
        .iter()
        .map(|(host, act)| {
            serde_json::json!({"PK": host, "action": {"do": act.kind, "status": act.status}})
        })
        .collect();
    let document = serde_json::json!({
        "group": {"group": list.name, "action": group_action},
        "rules": rules,
    });
    serde_json::to_string_pretty(&document).expect("a JSON value always serialises")
}
