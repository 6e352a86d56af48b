//! What was fetched before (the state files supply it), so an unchanged source is neither
//! downloaded (HTTP 304) nor parsed (same sha256).

use std::collections::HashMap;

use crate::model::{FolderAction, RuleMap, SourceRecord};

/// Keyed by (location, folder fingerprint): a parse is reused only while the folder's settings
/// are the same as when it was made.
#[derive(Clone, Debug, Default)]
pub struct SourceCache {
    entries: HashMap<(String, String), CachedSource>,
}

/// One folder's rules as derived last time from a source; shared with the state that recorded
/// them where it can be (copying every rule of every folder was a no-change run's largest cost).
#[derive(Clone, Debug)]
pub struct CachedSource {
    pub record: SourceRecord,
    pub name: String,
    pub action: FolderAction,
    pub rules: RuleMap,
}

impl SourceCache {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Records `cached` under its location and `fingerprint`.
    pub fn insert(&mut self, fingerprint: &str, cached: CachedSource) {
        let key = (cached.record.location.clone(), fingerprint.to_string());
        self.entries.insert(key, cached);
    }

    pub(crate) fn get(&self, location: &str, fingerprint: &str) -> Option<&CachedSource> {
        self.entries
            .get(&(location.to_string(), fingerprint.to_string()))
    }
}

impl From<&crate::model::DesiredFolder> for CachedSource {
    /// What to cache of a folder just derived (its `source` carries location and fingerprint).
    fn from(folder: &crate::model::DesiredFolder) -> Self {
        Self {
            record: folder.source.clone(),
            name: folder.name.clone(),
            action: folder.action.clone(),
            rules: RuleMap::clone(&folder.rules),
        }
    }
}
