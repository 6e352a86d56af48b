//! Domain types shared by every stage: actions, folders, and the desired state handed to the planner.
//!
//! Data flows one way: config -> sources -> [`DesiredProfile`]; state + remote -> current;
//! (desired, current) -> plan -> apply -> state.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod hostname;
mod settings;

pub use hostname::{Hostname, HostnameError};
pub use settings::{
    action_matches, is_external, same_value, shown_action, shown_option, CurrentFilter,
    CurrentSettings, FilterSwitch, FilterWant, Named, OptionWant, ProfileSettings, ServiceWant,
    SettingsRecord, Spot,
};

/// One folder's rules: each hostname once, in order, with its action. Shared: the state, the
/// sources, the refresh and the applier of a run hold the same map, each copy a reference count;
/// a change copies only the map it changes, and only when it changes something. Read it as the
/// map it derefs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleMap(Arc<BTreeMap<Hostname, RuleAction>>);

impl RuleMap {
    pub fn new(rules: BTreeMap<Hostname, RuleAction>) -> Self {
        Self(Arc::new(rules))
    }

    /// Sets the hostname's action; the action it had, if any.
    pub fn insert(&mut self, hostname: Hostname, action: RuleAction) -> Option<RuleAction> {
        Arc::make_mut(&mut self.0).insert(hostname, action)
    }

    /// Whether both are the same map, not copies (tests that a change copied nothing).
    #[cfg(test)]
    pub(crate) fn shares_with(&self, other: &RuleMap) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Takes the hostname out; its action, if it was there. A map without it is not copied.
    pub fn remove(&mut self, hostname: &str) -> Option<RuleAction> {
        match self.0.contains_key(hostname) {
            true => Arc::make_mut(&mut self.0).remove(hostname),
            false => None,
        }
    }
}

impl std::ops::Deref for RuleMap {
    type Target = BTreeMap<Hostname, RuleAction>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<BTreeMap<Hostname, RuleAction>> for RuleMap {
    fn from(rules: BTreeMap<Hostname, RuleAction>) -> Self {
        Self::new(rules)
    }
}

impl FromIterator<(Hostname, RuleAction)> for RuleMap {
    fn from_iter<I: IntoIterator<Item = (Hostname, RuleAction)>>(rules: I) -> Self {
        Self::new(rules.into_iter().collect())
    }
}

impl Extend<(Hostname, RuleAction)> for RuleMap {
    fn extend<I: IntoIterator<Item = (Hostname, RuleAction)>>(&mut self, rules: I) {
        Arc::make_mut(&mut self.0).extend(rules);
    }
}

impl<'a> IntoIterator for &'a RuleMap {
    type Item = (&'a Hostname, &'a RuleAction);
    type IntoIter = std::collections::btree_map::Iter<'a, Hostname, RuleAction>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for RuleMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RuleMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        hostname_map(deserializer).map(Self::new)
    }
}

/// Control D's integer primary key of a folder ("group"): identifies a folder within one profile
/// while it exists. Its own type, so a PK is not mixed up with a count or an index; written as
/// the number (state and plan files, the API's paths and forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FolderPk(u64);

impl FolderPk {
    pub const fn new(pk: u64) -> Self {
        Self(pk)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for FolderPk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Most hostnames one write may carry: the server silently drops form variables past about 1,001.
pub const MAX_HOSTNAMES_PER_REQUEST: usize = 500;

/// One folder of a profile as Control D holds it (`GET /profiles/{profile}/groups`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFolder {
    pub pk: FolderPk,
    pub name: String,
    pub action: FolderAction,
    /// How many rules the folder holds; the cheap drift check.
    pub count: u64,
}

/// Block rules for these hostnames (tests).
#[cfg(test)]
pub(crate) fn block_rules(hosts: &[&str]) -> BTreeMap<Hostname, RuleAction> {
    hosts
        .iter()
        .map(|h| (Hostname::from(*h), RuleAction::block()))
        .collect()
}

/// What a rule does: Control D's `do` field.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// `do = 0`
    Block,
    /// `do = 1` (Control D calls it BYPASS)
    Allow,
    /// `do = 2`, needs `via` (IP or CNAME target)
    Spoof,
    /// `do = 3`, needs `via` (proxy location id); paid plans only
    Redirect,
}

impl ActionKind {
    pub(crate) const ALL: [ActionKind; 4] = [Self::Block, Self::Allow, Self::Spoof, Self::Redirect];

    /// The API's `do` code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Block => 0,
            Self::Allow => 1,
            Self::Spoof => 2,
            Self::Redirect => 3,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Allow => "allow",
            Self::Spoof => "spoof",
            Self::Redirect => "redirect",
        }
    }

    /// Spoof and redirect point somewhere; block and allow do not.
    pub(crate) fn needs_via(self) -> bool {
        matches!(self, Self::Spoof | Self::Redirect)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "block" => Ok(Self::Block),
            "allow" | "bypass" => Ok(Self::Allow),
            "spoof" => Ok(Self::Spoof),
            "redirect" => Ok(Self::Redirect),
            other => Err(format!(
                "unknown action `{other}`: expected block, allow, spoof or redirect"
            )),
        }
    }
}

/// The action of one rule. Every rule has a `do`; `status` is independent of it.
///
/// Serialised as one compact string so state files keep one hostname per line:
/// `block`, `allow disabled`, `spoof via=1.2.3.4 via_v6=::1`, `redirect via=US-NYC`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleAction {
    pub kind: ActionKind,
    pub enabled: bool,
    pub via: Option<String>,
    pub via_v6: Option<String>,
}

impl RuleAction {
    pub fn new(kind: ActionKind) -> Self {
        Self {
            kind,
            enabled: true,
            via: None,
            via_v6: None,
        }
    }

    pub fn block() -> Self {
        Self::new(ActionKind::Block)
    }

    pub fn allow() -> Self {
        Self::new(ActionKind::Allow)
    }
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        if let Some(via) = &self.via {
            write!(f, " via={via}")?;
        }
        if let Some(via_v6) = &self.via_v6 {
            write!(f, " via_v6={via_v6}")?;
        }
        if !self.enabled {
            f.write_str(" disabled")?;
        }
        Ok(())
    }
}

impl FromStr for RuleAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        let kind: ActionKind = words.next().ok_or("empty action")?.parse()?;
        let mut action = RuleAction::new(kind);
        for word in words {
            if word == "disabled" {
                action.enabled = false;
            } else if let Some(via) = word.strip_prefix("via=") {
                action.via = Some(via.to_string());
            } else if let Some(via_v6) = word.strip_prefix("via_v6=") {
                action.via_v6 = Some(via_v6.to_string());
            } else {
                return Err(format!("unexpected `{word}` in action `{s}`"));
            }
        }
        Ok(action)
    }
}

impl Serialize for RuleAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RuleAction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor::new("a rule action", |text| {
            text.parse::<RuleAction>()
        }))
    }
}

/// A map keyed by hostname, built in bulk (each key is made straight from the text: see
/// [`Hostname`]'s `Deserialize`).
pub(crate) fn hostname_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<Hostname, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Entries<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Entries<V> {
        type Value = BTreeMap<Hostname, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of hostnames")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some((hostname, value)) = map.next_entry::<Hostname, V>()? {
                entries.push((hostname, value));
            }
            // Built in bulk: state files list hostnames sorted, so this is one pass.
            Ok(entries.into_iter().collect())
        }
    }

    deserializer.deserialize_map(Entries(std::marker::PhantomData))
}

/// Reads a string without owning it first, then converts it.
pub(crate) struct TextVisitor<F> {
    expecting: &'static str,
    convert: F,
}

impl<F> TextVisitor<F> {
    pub(crate) fn new<T, E>(expecting: &'static str, convert: F) -> Self
    where
        F: FnOnce(&str) -> Result<T, E>,
    {
        Self { expecting, convert }
    }
}

impl<'de, T, E, F> serde::de::Visitor<'de> for TextVisitor<F>
where
    F: FnOnce(&str) -> Result<T, E>,
    E: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Er: serde::de::Error>(self, text: &str) -> Result<T, Er> {
        (self.convert)(text).map_err(Er::custom)
    }
}

/// The action of a folder. Unlike a rule's, `do` may be absent (e.g. hagezi's "Most Abused TLDs").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FolderAction {
    #[serde(rename = "do", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ActionKind>,
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

fn enabled_default() -> bool {
    true
}

impl FolderAction {
    pub fn none() -> Self {
        Self {
            kind: None,
            enabled: true,
            via: None,
        }
    }

    pub fn of(kind: ActionKind) -> Self {
        Self {
            kind: Some(kind),
            enabled: true,
            via: None,
        }
    }

    /// The action a rule without its own inherits from this folder (block when the folder has no `do`).
    pub(crate) fn rule_default(&self) -> RuleAction {
        RuleAction {
            kind: self.kind.unwrap_or(ActionKind::Block),
            enabled: self.enabled,
            via: self.via.clone(),
            via_v6: None,
        }
    }
}

impl fmt::Display for FolderAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Some(kind) => f.write_str(kind.as_str())?,
            None => f.write_str("no action")?,
        }
        if let Some(via) = &self.via {
            write!(f, " via={via}")?;
        }
        if !self.enabled {
            f.write_str(" disabled")?;
        }
        Ok(())
    }
}

/// Where a folder's rules came from, and what is needed to know next time that it did not change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// The URL, or the path as written in the config (relative to the config file). Redacted
    /// when written and when read.
    #[serde(with = "crate::redact::serde_location")]
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// sha256 of the body, lowercase hex.
    pub sha256: String,
    /// The folder settings' fingerprint ([`crate::config::FolderConfig::fingerprint`]): a cached
    /// parse is reused only while these settings are unchanged.
    #[serde(default)]
    pub fingerprint: String,
}

/// A folder whose source failed, planned as it was last time (`[sources] on_error = "keep"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptFolder {
    pub key: String,
    /// The URL (redacted) or path of the source that failed.
    #[serde(with = "crate::redact::serde_location")]
    pub location: String,
    /// Why the source could not be had (a URL in it redacted, as in the location).
    #[serde(with = "crate::redact::serde_text")]
    pub error: String,
}

impl fmt::Display for KeptFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "folder `{}` kept as it is: {}: {}",
            self.key, self.location, self.error
        )
    }
}

/// One folder as the config and its source say it must be, for one profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredFolder {
    /// The `[folder.<key>]` key in the config; the stable identity of a managed folder.
    pub key: String,
    /// The folder's name in Control D.
    pub name: String,
    pub action: FolderAction,
    /// Every rule the source yields, each with its own action, before overlaps between folders are
    /// resolved (that is the planner's job).
    pub rules: RuleMap,
    /// What to record in the state so that an unchanged source is recognised next time.
    pub source: SourceRecord,
}

/// One profile as the config says it must be. `folders` is in the profile's config order, which
/// decides overlaps: the first folder that lists a hostname keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredProfile {
    pub id: String,
    pub name: Option<String>,
    pub folders: Vec<DesiredFolder>,
    /// Filters, services, the default rule and options the config manages.
    pub settings: ProfileSettings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_pk_is_written_as_its_number() {
        let pk = FolderPk::new(12351);
        assert_eq!(pk.to_string(), "12351");
        assert_eq!(serde_json::to_string(&pk).unwrap(), "12351");
        assert_eq!(serde_json::from_str::<FolderPk>("12351").unwrap(), pk);
        assert!(serde_json::from_str::<FolderPk>("\"12351\"").is_err());
    }

    #[test]
    fn a_rule_map_is_copied_only_by_a_change() {
        let shared = RuleMap::new(block_rules(&["a.example", "b.example"]));
        let mut copy = shared.clone();
        assert_eq!(copy.remove("absent.example"), None);
        assert!(
            Arc::ptr_eq(&shared.0, &copy.0),
            "removing nothing copied the map"
        );
        assert_eq!(copy.remove("a.example"), Some(RuleAction::block()));
        assert!(!Arc::ptr_eq(&shared.0, &copy.0));
        assert_eq!(shared.len(), 2);
        copy.insert("c.example".into(), RuleAction::allow());
        assert_eq!(
            copy.keys().map(Hostname::as_str).collect::<Vec<_>>(),
            ["b.example", "c.example"]
        );
    }

    #[test]
    fn a_rule_map_is_written_sorted_and_read_back() {
        let rules: RuleMap = [
            ("b.example".into(), RuleAction::allow()),
            ("a.example".into(), RuleAction::block()),
        ]
        .into_iter()
        .collect();
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(json, r#"{"a.example":"block","b.example":"allow"}"#);
        assert_eq!(serde_json::from_str::<RuleMap>(&json).unwrap(), rules);
        assert!(serde_json::from_str::<RuleMap>(r#"{"":"block"}"#).is_err());
    }
}
