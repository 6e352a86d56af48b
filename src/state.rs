//! State files: one JSON file per profile, `state/<profile id>.json`, committed to git.
//!
//! They are deterministic (sorted maps, one rule per line, no timestamps), self-sufficient for
//! planning (folder PK, name, action, every rule and where each folder's rules came from), free of
//! secrets, and written atomically. `serial` moves only when the content changes, so a no-op save
//! leaves the file byte-identical and `git status` clean.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::model::{
    FolderAction, FolderPk, Hostname, RuleAction, RuleMap, SettingsRecord, SourceRecord,
};
use crate::source::{CachedSource, SourceCache};

mod writer;

pub(crate) use writer::StateWriter;

/// The state file format this build writes. It reads this one and version 1.
/// 2: a folder's `excluded` is split into `overlapped` and `held_by_unmanaged`.
pub(crate) const STATE_VERSION: u32 = 2;

/// Version 1 recorded every hostname a source listed but the folder did not get as `excluded`,
/// whatever the reason; it is read and migrated ([`ProfileStateFile`]).
const LEGACY_VERSION: u32 = 1;

/// The lock file inside the state directory; git-ignored.
const LOCK_FILE: &str = ".lock";

/// Where `--sandbox` keeps its emulator's data, beside the state files (never committed).
pub(crate) const SANDBOX_DATA_FILE: &str = ".sandbox.json";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}:{line}:{column}: not a valid state file: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "{path}: state file version {found} is not supported by this build (it reads version {STATE_VERSION}); \
         use the ctrld-sync release that wrote it"
    )]
    UnsupportedVersion { path: PathBuf, found: u64 },

    #[error("{path}: the file is for profile `{found}`, expected `{expected}`")]
    WrongProfile {
        path: PathBuf,
        found: String,
        expected: String,
    },

    /// An earlier background save failed (its message); nothing more is saved for the profile.
    #[error("{0}")]
    SaveFailed(String),

    #[error(
        "state dir {dir} is locked by {holder} (another ctrld-sync run); wait for it or remove the lock \
         if that process is gone"
    )]
    Locked { dir: PathBuf, holder: String },
}

impl StateError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Everything ctrld-sync knows about one profile's managed folders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ProfileStateFile")]
pub struct ProfileState {
    /// Always [`STATE_VERSION`].
    pub version: u32,
    /// Random 16 hex digits, set when the file is first made; never changes afterwards.
    pub lineage: String,
    /// Moves by one each time the content changes.
    pub serial: u64,
    /// The Control D profile id.
    pub profile: String,
    /// Managed folders by their `[folder.<key>]` config key.
    pub folders: BTreeMap<String, FolderState>,
    /// Scratch folders left by an interrupted apply; the next plan deletes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scratch: Vec<FolderPk>,
    /// The managed filters, services, default rule and options (absent when none is managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsRecord>,
}

/// One managed folder as it is in Control D.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FolderState {
    pub pk: FolderPk,
    pub name: String,
    pub action: FolderAction,
    /// What is in the folder in Control D.
    pub rules: RuleMap,
    /// In the source, but kept by an earlier managed folder in config order (an overlap). Worked
    /// out again by every plan: when that folder is gone or no longer lists it, this one gets it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub overlapped: BTreeMap<Hostname, RuleAction>,
    /// In the source, but held by a rule the config does not manage (the root or an unmanaged
    /// folder) when the last apply tried to add it: skipped until `--refresh full` sees it free.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub held_by_unmanaged: BTreeMap<Hostname, RuleAction>,
    /// Present only when `rules` ∪ `overlapped` ∪ `held_by_unmanaged` is exactly what this source
    /// yields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRecord>,
}

impl FolderState {
    /// Every hostname the folder's source listed when it was last complete, each with its action.
    pub(crate) fn listed(&self) -> RuleMap {
        if self.overlapped.is_empty() && self.held_by_unmanaged.is_empty() {
            return RuleMap::clone(&self.rules);
        }
        let mut rules = BTreeMap::clone(&self.rules);
        let left_out = self.overlapped.iter().chain(&self.held_by_unmanaged);
        rules.extend(left_out.map(|(h, a)| (h.clone(), a.clone())));
        RuleMap::new(rules)
    }
}

/// A state file as written, of this version or version 1, before [`ProfileState`] is made of it.
#[derive(Deserialize)]
struct ProfileStateFile {
    version: u32,
    lineage: String,
    serial: u64,
    profile: String,
    folders: BTreeMap<String, FolderStateFile>,
    #[serde(default)]
    scratch: Vec<FolderPk>,
    #[serde(default)]
    settings: Option<SettingsRecord>,
}

#[derive(Deserialize)]
struct FolderStateFile {
    pk: FolderPk,
    name: String,
    action: FolderAction,
    rules: RuleMap,
    #[serde(default, deserialize_with = "crate::model::hostname_map")]
    overlapped: BTreeMap<Hostname, RuleAction>,
    #[serde(default, deserialize_with = "crate::model::hostname_map")]
    held_by_unmanaged: BTreeMap<Hostname, RuleAction>,
    /// Version 1 only.
    #[serde(default, deserialize_with = "crate::model::hostname_map")]
    excluded: BTreeMap<Hostname, RuleAction>,
    #[serde(default)]
    source: Option<SourceRecord>,
}

impl From<ProfileStateFile> for ProfileState {
    /// A version 1 file's `excluded` hostname is an overlap when another of the profile's folders
    /// lists it too (holds it, or left it out too: a hostname lost when the folder that kept it was
    /// deleted shows that way), else it was held by an unmanaged rule.
    fn from(file: ProfileStateFile) -> Self {
        let legacy = file.version == LEGACY_VERSION;
        let mut listings: HashMap<Hostname, usize> = HashMap::new();
        if legacy {
            for folder in file.folders.values() {
                for hostname in folder.rules.keys().chain(folder.excluded.keys()) {
                    *listings.entry(hostname.clone()).or_default() += 1;
                }
            }
        }
        let folders = file
            .folders
            .into_iter()
            .map(|(key, folder)| {
                let mut state = FolderState {
                    pk: folder.pk,
                    name: folder.name,
                    action: folder.action,
                    rules: folder.rules,
                    overlapped: folder.overlapped,
                    held_by_unmanaged: folder.held_by_unmanaged,
                    source: folder.source,
                };
                for (hostname, action) in folder.excluded {
                    let overlap = listings.get(&hostname).is_some_and(|&n| n > 1);
                    match overlap {
                        true => state.overlapped.insert(hostname, action),
                        false => state.held_by_unmanaged.insert(hostname, action),
                    };
                }
                (key, state)
            })
            .collect();
        Self {
            version: if legacy { STATE_VERSION } else { file.version },
            lineage: file.lineage,
            serial: file.serial,
            profile: file.profile,
            folders,
            scratch: file.scratch,
            settings: file.settings,
        }
    }
}

impl ProfileState {
    /// A fresh state for a profile never synced before: new lineage, serial 0 (the first save makes it 1).
    pub fn new(profile: impl Into<String>) -> Self {
        Self {
            version: STATE_VERSION,
            lineage: new_lineage(),
            serial: 0,
            profile: profile.into(),
            folders: BTreeMap::new(),
            scratch: Vec::new(),
            settings: None,
        }
    }

    /// The file's exact bytes: pretty JSON, 2-space indent, sorted maps, trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("state serialises to JSON");
        text.push('\n');
        text
    }

    /// Whether two states hold the same content, whatever their serials.
    pub(crate) fn same_content(&self, other: &ProfileState) -> bool {
        self.version == other.version
            && self.lineage == other.lineage
            && self.profile == other.profile
            && self.folders == other.folders
            && self.scratch == other.scratch
            && self.settings == other.settings
    }

    /// Parses a state file's text; `path` only names the file in errors.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, StateError> {
        let unsupported = |found: u64| StateError::UnsupportedVersion {
            path: path.to_path_buf(),
            found,
        };
        match serde_json::from_str::<Self>(text) {
            Ok(state) if state.version == STATE_VERSION => Ok(state),
            Ok(state) => Err(unsupported(u64::from(state.version))),
            // Another version's file may not have this shape: name its version, not a field.
            Err(err) => match serde_json::from_str::<VersionOnly>(text) {
                Ok(VersionOnly {
                    version: Some(found),
                }) if found != u64::from(STATE_VERSION) => Err(unsupported(found)),
                _ => Err(parse_error(path, &err)),
            },
        }
    }
}

/// Just the `version` of a state file (any other field ignored, whatever its shape).
#[derive(Deserialize)]
struct VersionOnly {
    version: Option<u64>,
}

fn parse_error(path: &Path, err: &serde_json::Error) -> StateError {
    StateError::Parse {
        path: path.to_path_buf(),
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    }
}

fn new_lineage() -> String {
    let value: u64 = rand::thread_rng().gen();
    format!("{value:016x}")
}

/// The state directory, locked for the life of this value.
#[derive(Debug)]
pub struct StateStore {
    dir: PathBuf,
    /// Held for its OS lock; the lock dies with the process, so a crash never leaves a stale lock.
    /// `None` when opened to read only.
    _lock: Option<File>,
}

impl StateStore {
    /// Opens (creating if needed) the state directory and takes its lock.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StateError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|err| StateError::io(&dir, err))?;
        ensure_gitignore(&dir)?;
        let lock = take_lock(&dir)?;
        Ok(Self {
            dir,
            _lock: Some(lock),
        })
    }

    /// Opens the directory to read only (`state show`): no lock, nothing created.
    pub(crate) fn open_read_only(dir: impl Into<PathBuf>) -> Result<Self, StateError> {
        let dir = dir.into();
        // Only checks that it is a directory that can be read: a directory cannot be opened as a
        // file on Windows.
        fs::read_dir(&dir).map_err(|err| StateError::io(&dir, err))?;
        Ok(Self { dir, _lock: None })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// `state/<profile>.json`
    pub(crate) fn path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{profile}.json"))
    }

    /// The profile's state, or `None` when it was never synced.
    pub(crate) fn load(&self, profile: &str) -> Result<Option<ProfileState>, StateError> {
        load_file(self.path(profile), profile)
    }

    /// [`load`](Self::load) as a job that owns what it needs, for a blocking thread.
    pub(crate) fn loader(
        &self,
        profile: &str,
    ) -> impl FnOnce() -> Result<Option<ProfileState>, StateError> + Send + 'static {
        let (path, profile) = (self.path(profile), profile.to_string());
        move || load_file(path, &profile)
    }

    /// Saves atomically. Unchanged content leaves the file byte-identical (and `state.serial` as on
    /// disk); changed content moves the serial by one. Returns whether the file was written.
    #[cfg(test)]
    pub(crate) fn save(&self, state: &mut ProfileState) -> Result<bool, StateError> {
        let on_disk = self.load(&state.profile)?;
        if let Some(existing) = &on_disk {
            if existing.same_content(state) {
                state.serial = existing.serial;
                return Ok(false);
            }
        }
        let previous = on_disk.map_or(state.serial, |existing| existing.serial.max(state.serial));
        state.serial = previous + 1;
        write_atomically(&self.path(&state.profile), state.to_json().as_bytes())?;
        Ok(true)
    }

    /// The profile ids that have a state file, sorted.
    pub(crate) fn profiles(&self) -> Result<Vec<String>, StateError> {
        let entries = fs::read_dir(&self.dir).map_err(|err| StateError::io(&self.dir, err))?;
        let mut profiles = Vec::new();
        for entry in entries {
            let path = entry.map_err(|err| StateError::io(&self.dir, err))?.path();
            let is_json = path.extension().is_some_and(|ext| ext == "json");
            match path.file_stem().and_then(|stem| stem.to_str()) {
                Some(stem) if is_json && !stem.starts_with('.') => profiles.push(stem.to_string()),
                _ => {}
            }
        }
        profiles.sort();
        Ok(profiles)
    }
}

/// What the state files know about each folder's source, so an unchanged source is neither
/// downloaded again (HTTP 304) nor parsed (same sha256). Only folders whose recorded source is
/// complete (`source` is set) are cached, with their rules and the hostnames they left out together.
pub(crate) fn source_cache<'a>(states: impl IntoIterator<Item = &'a ProfileState>) -> SourceCache {
    let mut cache = SourceCache::default();
    for folder in states.into_iter().flat_map(|state| state.folders.values()) {
        let Some(record) = &folder.source else {
            continue;
        };
        let rules = folder.listed();
        let cached = CachedSource {
            record: record.clone(),
            name: folder.name.clone(),
            action: folder.action.clone(),
            rules,
        };
        cache.insert(&record.fingerprint, cached);
    }
    cache
}

/// The state file at `path`, which must be `profile`'s; `None` when there is none.
fn load_file(path: PathBuf, profile: &str) -> Result<Option<ProfileState>, StateError> {
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(StateError::io(&path, err)),
    };
    let state = ProfileState::parse(&path, &text)?;
    if state.profile != profile {
        return Err(StateError::WrongProfile {
            path,
            found: state.profile,
            expected: profile.to_string(),
        });
    }
    Ok(Some(state))
}

/// [`shared::atomic::write_atomically`](crate::shared::atomic::write_atomically), its error as a
/// state error.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    crate::shared::atomic::write_atomically(path, bytes)
        .map_err(|err| StateError::io(&err.path, err.source))
}

/// Keeps the lock file and the `--sandbox` emulator's data out of git, which holds the state files.
fn ensure_gitignore(dir: &Path) -> Result<(), StateError> {
    let path = dir.join(".gitignore");
    if path.exists() {
        return Ok(());
    }
    let ignored = format!("{LOCK_FILE}\n{}\n", SANDBOX_DATA_FILE);
    fs::write(&path, ignored).map_err(|err| StateError::io(&path, err))
}

fn take_lock(dir: &Path) -> Result<File, StateError> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|err| StateError::io(&path, err))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(StateError::Locked {
                dir: dir.to_path_buf(),
                holder: describe_holder(&holder),
            });
        }
        Err(fs::TryLockError::Error(err)) => return Err(StateError::io(&path, err)),
    }
    write_holder(&mut file).map_err(|err| StateError::io(&path, err))?;
    Ok(file)
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    let since = httpdate::fmt_http_date(std::time::SystemTime::now());
    writeln!(file, "pid={}", std::process::id())?;
    writeln!(file, "host={}", host_name())?;
    writeln!(file, "since={since}")?;
    file.sync_all()
}

/// "pid N on HOST since T" from the lock file's `key=value` lines.
fn describe_holder(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or("?")
            .to_string()
    };
    format!(
        "pid {} on {} since {}",
        field("pid"),
        field("host"),
        field("since")
    )
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "an unknown host".to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::ActionKind;

    pub(crate) fn sample() -> ProfileState {
        let mut state = ProfileState::new("p1");
        let mut rules = BTreeMap::new();
        rules.insert("b.example".into(), RuleAction::block());
        rules.insert("a.example".into(), RuleAction::allow());
        state.folders.insert(
            "ads".into(),
            FolderState {
                pk: FolderPk::new(7),
                name: "Ads".into(),
                action: FolderAction::of(ActionKind::Block),
                rules: rules.into(),
                overlapped: BTreeMap::new(),
                held_by_unmanaged: BTreeMap::new(),
                source: None,
            },
        );
        state
    }

    #[test]
    fn json_is_sorted_one_rule_per_line_with_trailing_newline() {
        let text = sample().to_json();
        assert!(text.ends_with("}\n"));
        let a = text.find("\"a.example\": \"allow\"").unwrap();
        let b = text.find("\"b.example\": \"block\"").unwrap();
        assert!(a < b);
    }

    #[test]
    fn rules_parse_in_any_order_and_with_escapes() {
        let state = sample();
        let mut text = state.to_json();
        // Out of order, and a key and an action spelled with JSON escapes.
        text = text.replace(
            "\"a.example\": \"allow\",\n        \"b.example\": \"block\"",
            "\"b.example\": \"block\",\n        \"\\u0061.example\": \"\\u0061llow\"",
        );
        assert!(text.contains("u0061"), "{text}");
        let parsed = ProfileState::parse(Path::new("p1.json"), &text).unwrap();
        assert_eq!(parsed, state);
    }

    #[test]
    fn save_moves_serial_only_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let mut state = sample();
        assert!(store.save(&mut state).unwrap());
        assert_eq!(state.serial, 1);
        let before = fs::read(store.path("p1")).unwrap();
        assert!(!store.save(&mut state.clone()).unwrap());
        assert_eq!(fs::read(store.path("p1")).unwrap(), before);
        state.folders.get_mut("ads").unwrap().name = "Ads 2".into();
        assert!(store.save(&mut state).unwrap());
        assert_eq!(store.load("p1").unwrap().unwrap().serial, 2);
        assert_eq!(store.profiles().unwrap(), vec!["p1".to_string()]);
    }

    #[test]
    fn second_store_on_same_dir_is_refused_with_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _first = StateStore::open(dir.path()).unwrap();
        let err = StateStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is locked by pid"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
    }

    #[test]
    fn source_cache_holds_complete_folders_with_the_rules_they_left_out() {
        let mut state = sample();
        let mut complete = state.folders["ads"].clone();
        complete
            .overlapped
            .insert("c.example".into(), RuleAction::block());
        complete
            .held_by_unmanaged
            .insert("d.example".into(), RuleAction::allow());
        complete.source = Some(SourceRecord {
            location: "https://lists.example/ads.json".into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
            sha256: "ab".repeat(32),
            fingerprint: "0123456789abcdef".into(),
        });
        state.folders.insert("complete".into(), complete);
        let cache = source_cache([&state]);
        assert_eq!(
            cache.len(),
            1,
            "the folder without a source record is not cached"
        );
        let cached = cache
            .get("https://lists.example/ads.json", "0123456789abcdef")
            .unwrap();
        let hosts: Vec<&str> = cached.rules.keys().map(|h| &**h).collect();
        assert_eq!(hosts, ["a.example", "b.example", "c.example", "d.example"]);
    }

    #[test]
    fn overlaps_and_unmanaged_holds_are_recorded_apart_and_read_back() {
        let mut state = sample();
        let ads = state.folders.get_mut("ads").unwrap();
        ads.overlapped
            .insert("o.example".into(), RuleAction::block());
        ads.held_by_unmanaged
            .insert("h.example".into(), RuleAction::allow());
        let text = state.to_json();
        assert!(
            text.contains("\"overlapped\": {\n        \"o.example\": \"block\""),
            "{text}"
        );
        assert!(
            text.contains("\"held_by_unmanaged\": {\n        \"h.example\": \"allow\""),
            "{text}"
        );
        assert!(text.contains("\"version\": 2"), "{text}");
        assert_eq!(
            ProfileState::parse(Path::new("p1.json"), &text).unwrap(),
            state
        );
    }

    /// Version 1 recorded both facts as `excluded`: a hostname another folder lists too (held or
    /// left out: the folder that kept it may have been deleted since) is an overlap; one no other
    /// folder lists was held by an unmanaged rule.
    #[test]
    fn a_version_1_file_is_migrated() {
        let text = r#"{
  "version": 1,
  "lineage": "0123456789abcdef",
  "serial": 4,
  "profile": "p1",
  "folders": {
    "ads": {"pk": 1, "name": "Ads", "action": {"do": "block"}, "rules": {"kept.example": "block"},
            "excluded": {"lost.example": "block"}},
    "badware": {"pk": 2, "name": "Badware", "action": {"do": "block"},
                "rules": {"b.example": "block"},
                "excluded": {"kept.example": "block", "lost.example": "allow", "held.example": "block"}}
  }
}"#;
        let state = ProfileState::parse(Path::new("p1.json"), text).unwrap();
        assert_eq!(state.version, STATE_VERSION);
        assert_eq!(state.serial, 4);
        let keys = |map: &BTreeMap<Hostname, RuleAction>| -> Vec<String> {
            map.keys().map(|h| h.to_string()).collect()
        };
        let (ads, badware) = (&state.folders["ads"], &state.folders["badware"]);
        assert_eq!(keys(&ads.overlapped), ["lost.example"]);
        assert!(ads.held_by_unmanaged.is_empty());
        assert_eq!(keys(&badware.overlapped), ["kept.example", "lost.example"]);
        assert_eq!(keys(&badware.held_by_unmanaged), ["held.example"]);
    }

    #[test]
    fn unknown_version_is_a_clear_error() {
        let err = ProfileState::parse(Path::new("state/p1.json"), r#"{"version": 9}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 9 is not supported"), "{err}");
    }
}
