//! Validation: the raw TOML shape into the validated model, collecting every problem.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::problem_at;
use super::raw::{OrderedFolders, RawApi, RawConfig, RawFolder, RawProfile, RawSafety, RawSources};
use super::secrets::{API_REMEDY, LIST_REMEDY};
use super::settings::RawSettings;
use super::{
    config_dir, ApiConfig, Config, ConfigProblem, FolderConfig, Format, ProfileConfig,
    SafetyConfig, SourceLocation, SourcesConfig,
};
use crate::bounds;
use crate::hash::sha256_hex;
use crate::model::{ActionKind, FolderAction};

pub(super) struct Checker<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    pub(super) problems: Vec<ConfigProblem>,
}

impl Checker<'_> {
    pub(super) fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        let problem = problem_at(self.path, self.text, span.start, message.into());
        self.problems.push(problem);
    }

    pub(super) fn build(&mut self, raw: RawConfig) -> Config {
        let state_dir = raw.state_dir.and_then(|dir| self.state_dir(dir));
        let api = self.api(raw.api);
        let sources = self.sources(raw.sources);
        let safety = self.safety(raw.safety);
        let defined: Vec<String> = raw
            .folder
            .0
            .iter()
            .map(|(key, _)| key.get_ref().clone())
            .collect();
        let name_spans = folder_name_spans(&raw.folder);
        let auth_env_spans = auth_env_spans(&raw.folder);
        let folders: Vec<FolderConfig> = raw
            .folder
            .0
            .into_iter()
            .filter_map(|(key, folder)| self.folder(key, folder, sources.strict))
            .collect();
        let profiles = self.profiles(raw.profile, &defined);
        self.duplicate_folder_names(&profiles, &folders, &name_spans);
        self.auth_env_holding_an_api_token(&profiles, &folders, &auth_env_spans);
        Config {
            path: self.path.to_path_buf(),
            hash: sha256_hex(self.text.as_bytes()),
            state_dir,
            api,
            sources,
            safety,
            profiles,
            folders,
        }
    }

    fn state_dir(&mut self, dir: Spanned<String>) -> Option<PathBuf> {
        if dir.get_ref().trim().is_empty() {
            self.report(
                dir.span(),
                "`state_dir` is empty: name a directory relative to the config file, e.g. \"state\"",
            );
            return None;
        }
        super::state_dir::contained(self.path, dir.get_ref())
            .map_err(|message| self.report(dir.span(), message))
            .ok()
    }

    fn api(&mut self, raw: RawApi) -> ApiConfig {
        let base_url = raw.base_url.and_then(|url| {
            let span = url.span();
            match check_url(url.get_ref()) {
                Ok(parsed)
                    if self.refuse_secrets("`base_url`", span.clone(), &parsed, API_REMEDY) =>
                {
                    None
                }
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
                .and_then(|rps| self.decimal(rps, "max_rps", "api", &bounds::RATE_PER_SECOND)),
            parallelism: raw
                .parallelism
                .and_then(|n| self.whole(n, "parallelism", "api", &bounds::PARALLELISM))
                .map(|n| n as usize),
            timeout: raw
                .timeout
                .and_then(|secs| self.decimal(secs, "timeout", "api", &bounds::TIMEOUT_SECONDS))
                .map(Duration::from_secs_f64),
        }
    }

    fn sources(&mut self, raw: RawSources) -> SourcesConfig {
        let defaults = SourcesConfig::default();
        SourcesConfig {
            max_bytes: raw
                .max_bytes
                .and_then(|n| self.whole(n, "max_bytes", "sources", &bounds::MAX_BYTES))
                .unwrap_or(defaults.max_bytes),
            timeout: raw
                .timeout
                .and_then(|secs| self.decimal(secs, "timeout", "sources", &bounds::TIMEOUT_SECONDS))
                .map_or(defaults.timeout, Duration::from_secs_f64),
            concurrency: raw
                .concurrency
                .and_then(|n| self.whole(n, "concurrency", "sources", &bounds::CONCURRENCY))
                .map_or(defaults.concurrency, |n| n as usize),
            strict: raw.strict.unwrap_or(defaults.strict),
            retries: raw
                .retries
                .and_then(|n| self.retries(n))
                .unwrap_or(defaults.retries),
            on_error: raw
                .on_error
                .and_then(|value| self.on_error(value))
                .unwrap_or(defaults.on_error),
        }
    }

    fn safety(&mut self, raw: RawSafety) -> SafetyConfig {
        let defaults = SafetyConfig::default();
        let max_delete_percent = raw.max_delete_percent.and_then(|percent| {
            self.decimal(percent, "max_delete_percent", "safety", &bounds::PERCENT)
        });
        let min_rules = raw
            .min_rules
            .and_then(|n| self.whole(n, "min_rules", "safety", &bounds::MIN_RULES))
            .map(|n| n as usize);
        SafetyConfig {
            max_delete_percent: max_delete_percent.unwrap_or(defaults.max_delete_percent),
            min_rules: min_rules.unwrap_or(defaults.min_rules),
            allow_destroy: raw.allow_destroy.unwrap_or(defaults.allow_destroy),
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
            if let Err(message) = check_profile_id(&id) {
                self.report(id_span, message);
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
            let settings = self.profile_settings(
                &id,
                RawSettings {
                    default: profile.default,
                    filters: profile.filters,
                    services: profile.services,
                    options: profile.options,
                },
            );
            profiles.push(ProfileConfig {
                id,
                name: profile.name,
                token_env,
                folders: folder_keys,
                settings,
            });
        }
        profiles
    }

    /// Two managed folders of one profile with the same `name`: refused, since folders are found
    /// (and adopted) by name in Control D. Names taken from a source are checked at plan time.
    fn duplicate_folder_names(
        &mut self,
        profiles: &[ProfileConfig],
        folders: &[FolderConfig],
        name_spans: &HashMap<String, Range<usize>>,
    ) {
        for profile in profiles {
            let mut first_by_name: HashMap<&str, &str> = HashMap::new();
            for key in &profile.folders {
                let Some(name) = folders
                    .iter()
                    .find(|folder| &folder.key == key)
                    .and_then(|folder| folder.name.as_deref())
                else {
                    continue;
                };
                let Some(first) = first_by_name.insert(name, key) else {
                    continue;
                };
                first_by_name.insert(name, first);
                let span = name_spans.get(key).cloned().unwrap_or(0..0);
                self.report(
                    span,
                    format!(
                        "profile `{}`: folders `{first}` and `{key}` are both named \"{}\": a \
                         profile's managed folders need different names in Control D; rename one",
                        profile.id,
                        crate::quote::sanitize(name)
                    ),
                );
            }
        }
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
        let auth = self.source_auth(&key, location.as_ref(), raw.auth_env, raw.auth_header);
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
            allow_empty: raw.allow_empty.unwrap_or(false),
            auth,
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
                Ok(parsed)
                    if self.refuse_secrets(
                        &format!("folder `{key}`: `url`"),
                        url.span(),
                        &parsed,
                        LIST_REMEDY,
                    ) =>
                {
                    None
                }
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
                match contained_path(config_dir(self.path), &written) {
                    Ok(resolved) => Some(SourceLocation::Path { written, resolved }),
                    Err(message) => {
                        self.report(path.span(), format!("folder `{key}`: `path`: {message}"));
                        None
                    }
                }
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

/// Where each folder's `name` is written, by folder key.
fn folder_name_spans(folders: &OrderedFolders) -> HashMap<String, Range<usize>> {
    folders
        .0
        .iter()
        .filter_map(|(key, folder)| {
            let name = folder.get_ref().name.as_ref()?;
            Some((key.get_ref().clone(), name.span()))
        })
        .collect()
}

/// Where each folder's `auth_env` is written, by folder key.
fn auth_env_spans(folders: &OrderedFolders) -> HashMap<String, Range<usize>> {
    folders
        .0
        .iter()
        .filter_map(|(key, folder)| {
            let auth_env = folder.get_ref().auth_env.as_ref()?;
            Some((key.get_ref().clone(), auth_env.span()))
        })
        .collect()
}

/// A profile id names a state file (`state/<id>.json`) and goes into request paths: letters and
/// digits only, as Control D's ids are, so it can never point outside the state dir.
fn check_profile_id(id: &str) -> Result<(), String> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(());
    }
    Err(format!(
        "`id = \"{}\"`: a profile id is letters and digits only, as Control D shows it, \
         e.g. id = \"1abcdefgh2ij\"",
        crate::quote::sanitize(id)
    ))
}

/// A `path` source must stay inside the config's directory once `..` and symlinks are resolved:
/// the plan job in CI has the token in its environment and posts its output, so a config in a
/// pull request must not read `/proc/self/environ` or any other file outside the repository.
/// Returns the path to read (the config's directory joined with what is written).
fn contained_path(dir: &Path, written: &str) -> Result<PathBuf, String> {
    let outside = || {
        format!(
            "`{}` leads outside the config's directory: keep lists beside the config \
             (e.g. path = \"lists/mine.txt\")",
            crate::quote::sanitize(written)
        )
    };
    let relative = Path::new(written);
    let mut depth: usize = 0;
    for component in relative.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1).ok_or_else(outside)?,
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    let joined = dir.join(relative);
    // Symlinks (the file's or a directory's on the way) are resolved by the file system; a path
    // that does not exist yet is reported when it is read.
    match std::fs::canonicalize(&joined) {
        Ok(real) => {
            let root = std::fs::canonicalize(dir).map_err(|_| outside())?;
            if real.starts_with(&root) {
                Ok(joined)
            } else {
                Err(outside())
            }
        }
        Err(_) if joined.symlink_metadata().is_ok() => Err(format!(
            "`{}` is a link that cannot be followed: point it at a file inside the config's directory",
            crate::quote::sanitize(written)
        )),
        Err(_) => Ok(joined),
    }
}

/// https anywhere; plain http only to loopback. Messages never repeat a secret the text holds:
/// an unparsable text is not repeated, a URL is shown redacted.
fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|err| {
        format!("this is not a URL ({err}): write e.g. \"https://example.com/list.txt\"")
    })?;
    let shown = crate::redact::url(&url);
    match url.scheme() {
        "https" => Ok(url),
        "http" if crate::shared::loopback::is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{shown}` uses plain http: write https:// (http is allowed only for 127.0.0.1, ::1 or localhost)"
        )),
        other => Err(format!(
            "`{shown}` uses `{other}:`: write an https:// URL, or `path = \"...\"` for a local file"
        )),
    }
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
    // Only when set, so that the fingerprints of existing configs do not move.
    let text = match folder.allow_empty {
        true => format!("{text}allow_empty=true\n"),
        false => text,
    };
    sha256_hex(text.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{first_problem, parse, GOOD};

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
    fn a_bad_action_names_the_choices() {
        let problem = first_problem(&GOOD.replace("action = \"spoof\"", "action = \"deny\""));
        assert!(problem.message.contains("block, allow, spoof or redirect"));
    }
}
