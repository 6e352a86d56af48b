//! The config file: its TOML model and its validation. Every error points at `file:line:column`
//! and says what to write instead.
//!
//! ```toml
//! state_dir = "state" # optional: where the state files live, relative to the config file and inside its repository
//! [api]        # optional: base_url, max_rps, parallelism, timeout (seconds)
//! [sources]    # optional: max_bytes, timeout (seconds), concurrency, strict, retries, on_error
//! [safety]     # max_delete_percent, min_rules, allow_destroy
//! [[profile]]  # id, name, token_env, folders = ["key", ...], default, filters, services, options
//! [folder.key] # url | path, format, name, action, via, via_v6, status, strict, auth_env, auth_header
//! ```
//!
//! The API token is never in the config: it comes from `CTRLD_API_TOKEN` or the variable a profile
//! names in `token_env`.

mod check;
mod error;
mod numbers;
mod raw;
mod secrets;
mod settings;
mod source_keys;
mod state_dir;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::model::{FolderAction, ProfileSettings};
use check::Checker;
use error::{explain_toml_error, problem_at};
use raw::RawConfig;

pub use error::{ConfigError, ConfigProblem};

/// The token variable used when a profile names none in `token_env`.
pub(crate) const DEFAULT_TOKEN_ENV: &str = "CTRLD_API_TOKEN";

/// Sources bigger than this are refused unless `[sources].max_bytes` says otherwise.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;
const DEFAULT_SOURCE_TIMEOUT_SECS: f64 = 30.0;
const DEFAULT_SOURCE_CONCURRENCY: usize = 8;
/// Attempts after the first, as for API calls.
const DEFAULT_SOURCE_RETRIES: u32 = crate::shared::retry::DEFAULT_MAX_RETRIES;
const DEFAULT_MAX_DELETE_PERCENT: f64 = 30.0;
const DEFAULT_MIN_RULES: usize = 10;

/// The whole config, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub path: PathBuf,
    /// sha256 of the file's bytes, lowercase hex (a saved plan records it).
    pub hash: String,
    /// `state_dir`, resolved against the config file's directory; `None`: `state/` beside it.
    pub state_dir: Option<PathBuf>,
    pub api: ApiConfig,
    pub sources: SourcesConfig,
    pub safety: SafetyConfig,
    pub profiles: Vec<ProfileConfig>,
    /// In file order.
    pub folders: Vec<FolderConfig>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiConfig {
    pub base_url: Option<String>,
    pub max_rps: Option<f64>,
    pub parallelism: Option<usize>,
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourcesConfig {
    pub max_bytes: u64,
    pub timeout: Duration,
    pub concurrency: usize,
    pub strict: bool,
    /// Attempts after the first for a source that answered 429 or 5xx, timed out or dropped the
    /// connection.
    pub retries: u32,
    pub on_error: OnError,
}

/// What a failed source does to the run (`[sources] on_error`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Nothing is planned or applied.
    #[default]
    Fail,
    /// Its folder is kept as it was last time; the others sync; the run still exits 1.
    Keep,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            timeout: Duration::from_secs_f64(DEFAULT_SOURCE_TIMEOUT_SECS),
            concurrency: DEFAULT_SOURCE_CONCURRENCY,
            strict: false,
            retries: DEFAULT_SOURCE_RETRIES,
            on_error: OnError::Fail,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SafetyConfig {
    pub max_delete_percent: f64,
    /// The percent rule applies to folders with at least this many rules.
    pub min_rules: usize,
    pub allow_destroy: bool,
}

impl Default for SafetyConfig {
    fn default() -> Self {
        Self {
            max_delete_percent: DEFAULT_MAX_DELETE_PERCENT,
            min_rules: DEFAULT_MIN_RULES,
            allow_destroy: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    pub id: String,
    pub name: Option<String>,
    /// The environment variable holding this profile's token (else `CTRLD_API_TOKEN`).
    pub token_env: Option<String>,
    /// Folder keys; the order decides overlaps (the first folder listing a hostname keeps it).
    pub folders: Vec<String>,
    /// The default rule, filters, services and options the config manages (empty: none).
    pub settings: ProfileSettings,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderConfig {
    pub key: String,
    pub location: SourceLocation,
    pub format: Format,
    pub name: Option<String>,
    /// The action the config sets. `kind: None` means only `status` was written: the source's group
    /// action is kept with that status.
    pub action: Option<FolderAction>,
    /// `via_v6` for spoof rules that take the folder's action.
    pub via_v6: Option<String>,
    pub strict: bool,
    /// The source may yield no rules: the folder is meant to be empty (else an empty list is an error).
    pub allow_empty: bool,
    /// How a private URL source authenticates (`auth_env`, `auth_header`); never the secret itself.
    pub auth: Option<SourceAuth>,
    /// 16 hex chars of sha256 over the settings that change how the rules are derived.
    pub fingerprint: String,
}

/// `auth_env = "NAME"`: the variable's value is sent as `Authorization: Bearer <value>`, or raw
/// under `auth_header` when one is named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceAuth {
    pub env: String,
    pub header: Option<String>,
}

/// Where a folder's rules come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SourceLocation {
    Url(url::Url),
    Path {
        /// As written in the config (recorded in state files).
        written: String,
        /// Relative to the config file's directory.
        resolved: PathBuf,
    },
}

impl SourceLocation {
    /// The URL (through the redactor: a URL is never shown or recorded with a secret in it), or
    /// the path as written: the key under which the source is recorded.
    pub(crate) fn shown(&self) -> String {
        match self {
            Self::Url(url) => crate::redact::url(url),
            Self::Path { written, .. } => written.clone(),
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

/// A source's list format.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Auto,
    Controld,
    Domains,
    Hosts,
    Adblock,
}

impl Format {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Controld => "controld",
            Self::Domains => "domains",
            Self::Hosts => "hosts",
            Self::Adblock => "adblock",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "controld" => Ok(Self::Controld),
            "domains" => Ok(Self::Domains),
            "hosts" => Ok(Self::Hosts),
            "adblock" => Ok(Self::Adblock),
            other => Err(format!(
                "unknown format `{other}`: write one of \"auto\", \"controld\", \"domains\", \"hosts\", \"adblock\""
            )),
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let text = String::from_utf8(bytes).map_err(|err| {
            let offset = err.utf8_error().valid_up_to();
            let bytes = err.as_bytes();
            let text = String::from_utf8_lossy(bytes);
            ConfigError::Invalid(vec![problem_at(
                path,
                &text,
                offset,
                "the config is not valid UTF-8 here; save the file as UTF-8".into(),
            )])
        })?;
        Self::from_str(&text, path)
    }

    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let offset = err.span().map_or(0, |span| span.start);
            ConfigError::Invalid(vec![problem_at(
                path,
                text,
                offset,
                explain_toml_error(&err),
            )])
        })?;
        let mut checker = Checker {
            path,
            text,
            problems: Vec::new(),
        };
        let config = checker.build(raw);
        if checker.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(checker.problems))
        }
    }

    pub fn folder(&self, key: &str) -> Option<&FolderConfig> {
        self.folders.iter().find(|folder| folder.key == key)
    }

    pub fn profile(&self, id: &str) -> Option<&ProfileConfig> {
        self.profiles.iter().find(|profile| profile.id == id)
    }
}

/// The config's JSON Schema, generated from the types that parse it (`ctrld-sync schema`).
pub(crate) fn json_schema() -> String {
    raw::json_schema()
}

/// The config's `state_dir` (resolved against its directory), read before the config is loaded in
/// full: the state dir is chosen before any command runs. A file that cannot be read or parsed, or
/// a `state_dir` outside the config's repository, gives `None` here (nothing is ever made there);
/// loading the config reports why.
pub(crate) fn state_dir_setting(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let dir = table.get("state_dir")?.as_str()?;
    if dir.trim().is_empty() {
        return None;
    }
    state_dir::contained(path, dir).ok()
}

/// `relative` resolved against the config file's directory, with `..` folded lexically
/// (`examples/../state` is `state`), so messages show the path a user would write.
fn beside_config(config: &Path, relative: &str) -> PathBuf {
    use std::path::Component;
    let mut resolved = PathBuf::new();
    for component in config_dir(config).join(relative).components() {
        let parent_is_named = matches!(
            resolved.components().next_back(),
            Some(Component::Normal(_))
        );
        match component {
            Component::CurDir => {}
            Component::ParentDir if parent_is_named => {
                resolved.pop();
            }
            other => resolved.push(other),
        }
    }
    if resolved.as_os_str().is_empty() {
        resolved.push(".");
    }
    resolved
}

fn config_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::ActionKind;

    pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_str(text, Path::new("dir/ctrld-sync.toml"))
    }

    pub(super) fn first_problem(text: &str) -> ConfigProblem {
        match parse(text) {
            Err(ConfigError::Invalid(problems)) => problems[0].clone(),
            other => panic!("expected a problem, got {other:?}"),
        }
    }

    pub(super) const GOOD: &str = r#"
[sources]
concurrency = 2

[[profile]]
id = "p1"
folders = ["ads", "local"]

[folder.ads]
url = "https://example.com/ads.json"
format = "controld"

[folder.local]
path = "lists/local.txt"
name = "Local"
action = "spoof"
via = "10.0.0.1"
"#;

    #[test]
    fn a_good_config_loads_with_defaults_and_file_order() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.sources.concurrency, 2);
        assert_eq!(config.sources.max_bytes, DEFAULT_MAX_BYTES);
        assert_eq!(config.safety.max_delete_percent, 30.0);
        assert_eq!(config.safety.min_rules, 10);
        let keys: Vec<_> = config.folders.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["ads", "local"]);
        let local = config.folder("local").unwrap();
        assert_eq!(
            local.location,
            SourceLocation::Path {
                written: "lists/local.txt".into(),
                resolved: PathBuf::from("dir/lists/local.txt"),
            }
        );
        let action = local.action.clone().unwrap();
        assert_eq!(action.kind, Some(ActionKind::Spoof));
        assert_eq!(action.via.as_deref(), Some("10.0.0.1"));
        assert_eq!(local.fingerprint.len(), 16);
        assert_eq!(config.hash.len(), 64);
        assert_eq!(config.profile("p1").unwrap().folders, ["ads", "local"]);
    }

    #[test]
    fn state_dir_is_resolved_against_the_config_dir_and_read_ahead() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(repo.path().join("dir")).unwrap();
        let path = repo.path().join("dir/ctrld-sync.toml");
        let config = Config::from_str(&format!("state_dir = \"../state\"\n{GOOD}"), &path);
        assert_eq!(config.unwrap().state_dir, Some(repo.path().join("state")));
        assert_eq!(parse(GOOD).unwrap().state_dir, None);
        let problem = first_problem(&format!("state_dir = \" \"\n{GOOD}"));
        assert!(problem.message.contains("state_dir"), "{}", problem.message);

        std::fs::write(&path, format!("state_dir = \"../state\"\n{GOOD}")).unwrap();
        assert_eq!(state_dir_setting(&path), Some(repo.path().join("state")));
        std::fs::write(&path, format!("state_dir = \"../..\"\n{GOOD}")).unwrap();
        assert_eq!(state_dir_setting(&path), None, "outside the repository");
        assert_eq!(
            beside_config(Path::new("ctrld-sync.toml"), "../s"),
            PathBuf::from("../s")
        );
        assert_eq!(
            beside_config(Path::new("a/c.toml"), ".."),
            PathBuf::from(".")
        );
        std::fs::write(&path, GOOD).unwrap();
        assert_eq!(state_dir_setting(&path), None);
    }

    #[test]
    fn duplicate_profiles_and_keys_are_errors() {
        let twice = format!("{GOOD}\n[[profile]]\nid = \"p1\"\n");
        assert!(first_problem(&twice).message.contains("listed twice"));
        let dup_key = GOOD.replace(
            "format = \"controld\"",
            "format = \"controld\"\nformat = \"hosts\"",
        );
        let problem = first_problem(&dup_key);
        assert_eq!(problem.line, 12);
        assert!(problem.message.contains("duplicate"), "{}", problem.message);
    }
}
