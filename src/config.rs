//! The config file: its TOML model and its validation. Every error points at `file:line:column`
//! and says what to write instead.
//!
//! ```toml
//! [api]        # optional: base_url, max_rps, parallelism, timeout (seconds)
//! [sources]    # optional: max_bytes, timeout (seconds), concurrency, strict
//! [safety]     # max_delete_percent, min_rules, allow_destroy
//! [[profile]]  # id, name, token_env, folders = ["key", ...]
//! [folder.key] # url | path, format, name, action, via, via_v6, status, strict
//! ```
//!
//! The API token is never in the config: it comes from `CTRLD_API_TOKEN` or the variable a profile
//! names in `token_env`.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::model::{ActionKind, FolderAction};

/// Sources bigger than this are refused unless `[sources].max_bytes` says otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;
const DEFAULT_SOURCE_TIMEOUT_SECS: f64 = 30.0;
const DEFAULT_SOURCE_CONCURRENCY: usize = 8;
const DEFAULT_MAX_DELETE_PERCENT: f64 = 30.0;
const DEFAULT_MIN_RULES: usize = 10;

/// The whole config, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub path: PathBuf,
    /// sha256 of the file's bytes, lowercase hex (a saved plan records it).
    pub hash: String,
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
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            timeout: Duration::from_secs_f64(DEFAULT_SOURCE_TIMEOUT_SECS),
            concurrency: DEFAULT_SOURCE_CONCURRENCY,
            strict: false,
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
    /// 16 hex chars of sha256 over the settings that change how the rules are derived.
    pub fingerprint: String,
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
    /// The URL, or the path as written: the key under which the source is recorded.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Url(url) => url.as_str(),
            Self::Path { written, .. } => written,
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A source's list format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Auto,
    Controld,
    Domains,
    Hosts,
    Adblock,
}

impl Format {
    pub fn as_str(self) -> &'static str {
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

/// One problem in the config, at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config {}: {source}; write one with `ctrld-sync init` or pass `--config FILE`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", join_lines(.0))]
    Invalid(Vec<ConfigProblem>),
}

impl ConfigError {
    /// One line per problem.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

fn join_lines(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
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

    /// The directory relative paths in the config are resolved against.
    pub fn dir(&self) -> &Path {
        config_dir(&self.path)
    }
}

fn config_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// serde's messages, plus what to write instead where we know better.
fn explain_toml_error(err: &toml::de::Error) -> String {
    let message = err.message().trim().to_string();
    if let Some(field) = unknown_field(&message) {
        if looks_like_token(field) {
            return format!(
                "`{field}`: an API token must never be in the config (it is committed to git); \
                 remove it and set CTRLD_API_TOKEN, or name another variable with `token_env = \"NAME\"` under [[profile]]"
            );
        }
    }
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .and_then(explain_missing);
    missing.unwrap_or(message)
}

/// "missing field `id`" -> what to add.
fn explain_missing(field: &str) -> Option<String> {
    let example = match field {
        "id" => "id = \"1abcdefgh2ij\" (the profile id as Control D shows it)",
        _ => return None,
    };
    Some(format!("missing field `{field}`: add {example}"))
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn looks_like_token(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key != "token_env" && (key.contains("token") || key.contains("secret") || key == "api_key")
}

fn problem_at(path: &Path, text: &str, offset: usize, message: String) -> ConfigProblem {
    let (line, column) = line_column(text, offset);
    ConfigProblem {
        file: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

// ---- the raw TOML shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    api: RawApi,
    #[serde(default)]
    sources: RawSources,
    #[serde(default)]
    safety: RawSafety,
    #[serde(default)]
    profile: Vec<Spanned<RawProfile>>,
    #[serde(default)]
    folder: OrderedFolders,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    base_url: Option<Spanned<String>>,
    max_rps: Option<Spanned<f64>>,
    parallelism: Option<Spanned<i64>>,
    timeout: Option<Spanned<f64>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    max_bytes: Option<Spanned<i64>>,
    timeout: Option<Spanned<f64>>,
    concurrency: Option<Spanned<i64>>,
    strict: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSafety {
    max_delete_percent: Option<Spanned<f64>>,
    min_rules: Option<Spanned<i64>>,
    allow_destroy: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: Spanned<String>,
    name: Option<String>,
    token_env: Option<Spanned<String>>,
    #[serde(default)]
    folders: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFolder {
    url: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    action: Option<Spanned<String>>,
    via: Option<Spanned<String>>,
    via_v6: Option<Spanned<String>>,
    status: Option<Spanned<String>>,
    strict: Option<bool>,
}

/// `[folder.<key>]` tables in file order (a map type would sort them or lose the key spans).
#[derive(Default)]
struct OrderedFolders(Vec<(Spanned<String>, Spanned<RawFolder>)>);

impl<'de> Deserialize<'de> for OrderedFolders {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FoldersVisitor;
        impl<'de> Visitor<'de> for FoldersVisitor {
            type Value = OrderedFolders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tables `[folder.<key>]`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut folders = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    folders.push(entry);
                }
                Ok(OrderedFolders(folders))
            }
        }
        deserializer.deserialize_map(FoldersVisitor)
    }
}

// ---- validation ---------------------------------------------------------------------------------

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<ConfigProblem>,
}

impl Checker<'_> {
    fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        let problem = problem_at(self.path, self.text, span.start, message.into());
        self.problems.push(problem);
    }

    fn build(&mut self, raw: RawConfig) -> Config {
        let api = self.api(raw.api);
        let sources = self.sources(raw.sources);
        let safety = self.safety(raw.safety);
        let defined: Vec<String> = raw
            .folder
            .0
            .iter()
            .map(|(key, _)| key.get_ref().clone())
            .collect();
        let folders: Vec<FolderConfig> = raw
            .folder
            .0
            .into_iter()
            .filter_map(|(key, folder)| self.folder(key, folder, sources.strict))
            .collect();
        let profiles = self.profiles(raw.profile, &defined);
        Config {
            path: self.path.to_path_buf(),
            hash: sha256_hex(self.text.as_bytes()),
            api,
            sources,
            safety,
            profiles,
            folders,
        }
    }

    fn api(&mut self, raw: RawApi) -> ApiConfig {
        let base_url = raw.base_url.and_then(|url| {
            let span = url.span();
            match check_url(url.get_ref()) {
                Ok(parsed) => Some(parsed.to_string()),
                Err(message) => {
                    self.report(span, format!("`base_url`: {message}"));
                    None
                }
            }
        });
        ApiConfig {
            base_url,
            max_rps: raw
                .max_rps
                .and_then(|rps| self.positive(rps, "max_rps", "requests per second")),
            parallelism: raw
                .parallelism
                .and_then(|n| self.at_least_one(n, "parallelism")),
            timeout: raw
                .timeout
                .and_then(|secs| self.positive(secs, "timeout", "seconds"))
                .map(Duration::from_secs_f64),
        }
    }

    fn sources(&mut self, raw: RawSources) -> SourcesConfig {
        let defaults = SourcesConfig::default();
        SourcesConfig {
            max_bytes: raw
                .max_bytes
                .and_then(|n| self.at_least_one(n, "max_bytes"))
                .map_or(defaults.max_bytes, |n| n as u64),
            timeout: raw
                .timeout
                .and_then(|secs| self.positive(secs, "timeout", "seconds"))
                .map_or(defaults.timeout, Duration::from_secs_f64),
            concurrency: raw
                .concurrency
                .and_then(|n| self.at_least_one(n, "concurrency"))
                .unwrap_or(defaults.concurrency),
            strict: raw.strict.unwrap_or(defaults.strict),
        }
    }

    fn safety(&mut self, raw: RawSafety) -> SafetyConfig {
        let defaults = SafetyConfig::default();
        let max_delete_percent = raw.max_delete_percent.and_then(|percent| {
            let value = *percent.get_ref();
            if (0.0..=100.0).contains(&value) {
                Some(value)
            } else {
                self.report(
                    percent.span(),
                    format!("`max_delete_percent = {value}`: write a percentage from 0 to 100"),
                );
                None
            }
        });
        let min_rules = raw.min_rules.and_then(|n| {
            let value = *n.get_ref();
            match usize::try_from(value) {
                Ok(value) => Some(value),
                Err(_) => {
                    self.report(
                        n.span(),
                        format!("`min_rules = {value}`: write 0 or a positive number of rules"),
                    );
                    None
                }
            }
        });
        SafetyConfig {
            max_delete_percent: max_delete_percent.unwrap_or(defaults.max_delete_percent),
            min_rules: min_rules.unwrap_or(defaults.min_rules),
            allow_destroy: raw.allow_destroy.unwrap_or(defaults.allow_destroy),
        }
    }

    fn positive(&mut self, value: Spanned<f64>, key: &str, unit: &str) -> Option<f64> {
        let number = *value.get_ref();
        if number.is_finite() && number > 0.0 {
            Some(number)
        } else {
            self.report(
                value.span(),
                format!("`{key} = {number}`: write a positive number of {unit}"),
            );
            None
        }
    }

    fn at_least_one(&mut self, value: Spanned<i64>, key: &str) -> Option<usize> {
        let number = *value.get_ref();
        match usize::try_from(number) {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                self.report(
                    value.span(),
                    format!("`{key} = {number}`: write a whole number of at least 1"),
                );
                None
            }
        }
    }

    fn profiles(
        &mut self,
        raw: Vec<Spanned<RawProfile>>,
        defined: &[String],
    ) -> Vec<ProfileConfig> {
        let known: HashSet<&str> = defined.iter().map(String::as_str).collect();
        let mut seen_ids = HashSet::new();
        let mut profiles = Vec::new();
        for profile in raw {
            let profile = profile.into_inner();
            let id_span = profile.id.span();
            let id = profile.id.into_inner();
            if id.trim().is_empty() || id.chars().any(char::is_whitespace) {
                self.report(
                    id_span,
                    "`id`: write the profile's id as Control D shows it, e.g. id = \"1abcdefgh2ij\"",
                );
                continue;
            }
            if !seen_ids.insert(id.clone()) {
                self.report(
                    id_span,
                    format!("profile `{id}` is listed twice: merge the two [[profile]] entries"),
                );
                continue;
            }
            let token_env = profile.token_env.and_then(|name| self.token_env(name));
            let folder_keys = self.profile_folders(&id, profile.folders, &known);
            profiles.push(ProfileConfig {
                id,
                name: profile.name,
                token_env,
                folders: folder_keys,
            });
        }
        profiles
    }

    fn token_env(&mut self, name: Spanned<String>) -> Option<String> {
        let valid = !name.get_ref().is_empty()
            && !name.get_ref().starts_with(|c: char| c.is_ascii_digit())
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            Some(name.into_inner())
        } else {
            self.report(
                name.span(),
                "`token_env` names an environment variable (letters, digits, `_`), e.g. token_env = \"CTRLD_TOKEN_HOME\"; never the token itself",
            );
            None
        }
    }

    fn profile_folders(
        &mut self,
        id: &str,
        keys: Vec<Spanned<String>>,
        known: &HashSet<&str>,
    ) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut folders = Vec::new();
        for key in keys {
            let span = key.span();
            let key = key.into_inner();
            if !known.contains(key.as_str()) {
                self.report(
                    span,
                    format!("profile `{id}` names folder `{key}`, which is not defined: add a [folder.{key}] table or fix the name"),
                );
            } else if !seen.insert(key.clone()) {
                self.report(
                    span,
                    format!("profile `{id}` lists folder `{key}` twice: keep one"),
                );
            } else {
                folders.push(key);
            }
        }
        folders
    }

    fn folder(
        &mut self,
        key: Spanned<String>,
        folder: Spanned<RawFolder>,
        default_strict: bool,
    ) -> Option<FolderConfig> {
        let key_span = key.span();
        let key = key.into_inner();
        let raw = folder.into_inner();
        let before = self.problems.len();
        let location = self.location(&key, key_span.clone(), raw.url, raw.path);
        let format = raw.format.and_then(|format| {
            format
                .get_ref()
                .parse::<Format>()
                .map_err(|message| self.report(format.span(), message))
                .ok()
        });
        let name = raw.name.and_then(|name| self.folder_name(name));
        let (action, via_v6) =
            self.folder_action(&key, key_span, raw.action, raw.via, raw.via_v6, raw.status);
        if self.problems.len() > before {
            return None;
        }
        let mut folder = FolderConfig {
            key,
            location: location?,
            format: format.unwrap_or(Format::Auto),
            name,
            action,
            via_v6,
            strict: raw.strict.unwrap_or(default_strict),
            fingerprint: String::new(),
        };
        folder.fingerprint = fingerprint(&folder);
        Some(folder)
    }

    fn location(
        &mut self,
        key: &str,
        key_span: Range<usize>,
        url: Option<Spanned<String>>,
        path: Option<Spanned<String>>,
    ) -> Option<SourceLocation> {
        match (url, path) {
            (Some(url), None) => match check_url(url.get_ref()) {
                Ok(parsed) => Some(SourceLocation::Url(parsed)),
                Err(message) => {
                    self.report(url.span(), format!("folder `{key}`: `url`: {message}"));
                    None
                }
            },
            (None, Some(path)) => {
                let written = path.get_ref().trim().to_string();
                if written.is_empty() {
                    self.report(path.span(), format!("folder `{key}`: `path` is empty: write the list's path relative to the config file"));
                    return None;
                }
                let resolved = config_dir(self.path).join(&written);
                Some(SourceLocation::Path { written, resolved })
            }
            (Some(_), Some(path)) => {
                self.report(
                    path.span(),
                    format!("folder `{key}` has both `url` and `path`: keep exactly one"),
                );
                None
            }
            (None, None) => {
                self.report(key_span, format!("folder `{key}` has no source: add `url = \"https://...\"` or `path = \"lists/{key}.txt\"`"));
                None
            }
        }
    }

    fn folder_name(&mut self, name: Spanned<String>) -> Option<String> {
        let trimmed = name.get_ref().trim();
        if trimmed.is_empty() {
            self.report(
                name.span(),
                "`name` is empty: write the folder's name in Control D, or remove `name` to take it from a controld source",
            );
            None
        } else {
            Some(trimmed.to_string())
        }
    }

    fn folder_action(
        &mut self,
        key: &str,
        key_span: Range<usize>,
        action: Option<Spanned<String>>,
        via: Option<Spanned<String>>,
        via_v6: Option<Spanned<String>>,
        status: Option<Spanned<String>>,
    ) -> (Option<FolderAction>, Option<String>) {
        let enabled = status.and_then(|status| match status.get_ref().as_str() {
            "enabled" => Some(true),
            "disabled" => Some(false),
            other => {
                self.report(
                    status.span(),
                    format!("`status = \"{other}\"`: write \"enabled\" or \"disabled\""),
                );
                None
            }
        });
        let kind = action.as_ref().and_then(|action| {
            action
                .get_ref()
                .parse::<ActionKind>()
                .map_err(|message| self.report(action.span(), format!("folder `{key}`: {message}")))
                .ok()
        });
        let via = self.check_via(key, key_span, kind, action.is_some(), via, via_v6.as_ref());
        let folder_action = match (kind, enabled) {
            (None, None) => None,
            (kind, enabled) => Some(FolderAction {
                kind,
                enabled: enabled.unwrap_or(true),
                via,
            }),
        };
        (folder_action, via_v6.map(Spanned::into_inner))
    }

    fn check_via(
        &mut self,
        key: &str,
        key_span: Range<usize>,
        kind: Option<ActionKind>,
        has_action: bool,
        via: Option<Spanned<String>>,
        via_v6: Option<&Spanned<String>>,
    ) -> Option<String> {
        match (kind, &via) {
            (Some(kind), None) if kind.needs_via() => {
                self.report(key_span, format!("folder `{key}`: action \"{kind}\" needs `via` (an IP or CNAME target for spoof, a proxy location id for redirect)"));
            }
            (Some(kind), Some(via)) if !kind.needs_via() => {
                self.report(via.span(), format!("folder `{key}`: `via` applies only to spoof and redirect, not \"{kind}\": remove it"));
            }
            (None, Some(via)) if !has_action => {
                self.report(via.span(), format!("folder `{key}`: `via` needs `action = \"spoof\"` or `action = \"redirect\"`"));
            }
            _ => {}
        }
        if let Some(via_v6) = via_v6 {
            if kind != Some(ActionKind::Spoof) {
                self.report(
                    via_v6.span(),
                    format!(
                        "folder `{key}`: `via_v6` applies only to `action = \"spoof\"`: remove it"
                    ),
                );
            }
        }
        via.map(Spanned::into_inner)
    }
}

/// https anywhere; plain http only to loopback.
fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|err| {
        format!("`{text}` is not a URL ({err}): write e.g. \"https://example.com/list.txt\"")
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{text}` uses plain http: write https:// (http is allowed only for 127.0.0.1, ::1 or localhost)"
        )),
        other => Err(format!(
            "`{text}` uses `{other}:`: write an https:// URL, or `path = \"...\"` for a local file"
        )),
    }
}

/// 127.0.0.0/8, ::1 and localhost.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// 16 hex chars over location, format, name, action, via_v6 and strict.
fn fingerprint(folder: &FolderConfig) -> String {
    let action = folder
        .action
        .as_ref()
        .map_or_else(|| "-".to_string(), ToString::to_string);
    let text = format!(
        "location={}\nformat={}\nname={}\naction={}\nvia_v6={}\nstrict={}\n",
        folder.location,
        folder.format,
        folder.name.as_deref().unwrap_or("-"),
        action,
        folder.via_v6.as_deref().unwrap_or("-"),
        folder.strict
    );
    sha256_hex(text.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_str(text, Path::new("dir/ctrld-sync.toml"))
    }

    fn first_problem(text: &str) -> ConfigProblem {
        match parse(text) {
            Err(ConfigError::Invalid(problems)) => problems[0].clone(),
            other => panic!("expected a problem, got {other:?}"),
        }
    }

    const GOOD: &str = r#"
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
    fn fingerprint_changes_with_the_settings_that_shape_rules() {
        let before = parse(GOOD).unwrap();
        let after = parse(&GOOD.replace("format = \"controld\"", "format = \"domains\"")).unwrap();
        assert_ne!(
            before.folder("ads").unwrap().fingerprint,
            after.folder("ads").unwrap().fingerprint
        );
        assert_eq!(
            before.folder("local").unwrap().fingerprint,
            after.folder("local").unwrap().fingerprint
        );
    }

    #[test]
    fn an_unknown_key_points_at_its_line() {
        let problem =
            first_problem(&GOOD.replace("format = \"controld\"", "fromat = \"controld\""));
        assert_eq!((problem.line, problem.column), (11, 1));
        assert!(
            problem.message.contains("unknown field `fromat`"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn a_token_in_the_config_is_refused_with_the_alternative() {
        let problem = first_problem(&GOOD.replace("id = \"p1\"", "id = \"p1\"\ntoken = \"abc\""));
        assert_eq!(problem.line, 7);
        assert!(
            problem.message.contains("CTRLD_API_TOKEN"),
            "{}",
            problem.message
        );
        assert!(!problem.message.contains("abc"));
    }

    #[test]
    fn a_profile_naming_an_unknown_folder_is_an_error() {
        let problem = first_problem(&GOOD.replace("\"ads\", \"local\"", "\"ads\", \"nope\""));
        assert_eq!(problem.line, 7);
        assert!(
            problem.message.contains("[folder.nope]"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn a_folder_listed_twice_in_a_profile_is_an_error() {
        let problem = first_problem(&GOOD.replace("\"ads\", \"local\"", "\"ads\", \"ads\""));
        assert!(problem.message.contains("twice"), "{}", problem.message);
    }

    #[test]
    fn spoof_without_via_is_an_error() {
        let problem = first_problem(&GOOD.replace("via = \"10.0.0.1\"\n", ""));
        assert_eq!(problem.line, 13);
        assert!(
            problem.message.contains("needs `via`"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn both_or_neither_url_and_path_is_an_error() {
        let both = first_problem(&GOOD.replace(
            "path = \"lists/local.txt\"",
            "path = \"lists/local.txt\"\nurl = \"https://x.test/\"",
        ));
        assert!(both.message.contains("both"), "{}", both.message);
        let neither = first_problem(&GOOD.replace("path = \"lists/local.txt\"\n", ""));
        assert!(neither.message.contains("no source"), "{}", neither.message);
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        let problem = first_problem(&GOOD.replace("https://example.com", "http://example.com"));
        assert_eq!(problem.line, 10);
        assert!(problem.message.contains("https://"), "{}", problem.message);
        assert!(parse(&GOOD.replace("https://example.com", "http://127.0.0.1:8080")).is_ok());
        assert!(parse(&GOOD.replace("https://example.com", "http://[::1]:8080")).is_ok());
        assert!(parse(&GOOD.replace("https://example.com", "http://localhost")).is_ok());
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

    #[test]
    fn a_bad_action_names_the_choices() {
        let problem = first_problem(&GOOD.replace("action = \"spoof\"", "action = \"deny\""));
        assert!(problem.message.contains("block, allow, spoof or redirect"));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
