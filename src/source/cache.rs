//! What was fetched before (the state files supply it), so an unchanged source is neither
//! downloaded (HTTP 304) nor parsed (same sha256).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::model::{FolderAction, Hostname, RuleAction, SourceRecord};

/// Keyed by (location, folder fingerprint): a parse is reused only while the folder's settings
/// are the same as when it was made.
#[derive(Clone, Debug, Default)]
pub struct SourceCache<'a> {
    entries: HashMap<(String, String), CachedSource<'a>>,
}

/// One folder's rules as derived last time from a source; borrowed from the state that recorded
/// them where it can be (copying every rule of every folder was a no-change run's largest cost).
#[derive(Clone, Debug)]
pub struct CachedSource<'a> {
    pub record: SourceRecord,
    pub name: String,
    pub action: FolderAction,
    pub rules: Cow<'a, BTreeMap<Hostname, RuleAction>>,
}

impl<'a> SourceCache<'a> {
    /// Records `cached` under its location and `fingerprint`.
    pub fn insert(&mut self, fingerprint: &str, cached: CachedSource<'a>) {
        let key = (cached.record.location.clone(), fingerprint.to_string());
        self.entries.insert(key, cached);
    }

    pub fn get(&self, location: &str, fingerprint: &str) -> Option<&CachedSource<'a>> {
        self.entries
            .get(&(location.to_string(), fingerprint.to_string()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> From<&'a crate::model::DesiredFolder> for CachedSource<'a> {
    /// What to cache of a folder just derived (its `source` carries location and fingerprint).
    fn from(folder: &'a crate::model::DesiredFolder) -> Self {
        Self {
            record: folder.source.clone(),
            name: folder.name.clone(),
            action: folder.action.clone(),
            rules: Cow::Borrowed(&folder.rules),
        }
    }
}
