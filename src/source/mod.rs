//! Desired state: fetch every folder's source (once per unique source, concurrently), parse it,
//! validate and normalise hostnames, resolve actions; reuse the cached rules when the source did
//! not change (HTTP 304, or the same sha256).

mod auth;
mod cache;
pub(crate) mod derive;
mod error;
pub(crate) mod fetch;
pub(crate) mod format;

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

pub use cache::{CachedSource, SourceCache};
pub use derive::DerivedFolder;
pub use error::{FolderProblem, SourceError};
pub(crate) use fetch::FetchOptions;

use crate::config::{Config, FolderConfig, Format, OnError, SourceAuth, SourceLocation};
use crate::model::{ActionKind, DesiredFolder, DesiredProfile, KeptFolder, RuleMap, SourceRecord};
use crate::printer::Printer;
use crate::shared::blocking;
use crate::shared::progress::{NoProgress, Progress};
use fetch::{Fetched, Fetcher, Validators};

/// Every selected profile as the config and its sources say it must be.
#[derive(Clone, Debug)]
pub struct Desired {
    /// In config order.
    pub profiles: Vec<DesiredProfile>,
    pub report: FetchReport,
}

/// What fetching cost and found. Each unique source counts once in `fetched`, `not_modified` or
/// `unchanged_by_hash`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FetchReport {
    /// Sources downloaded (or read) and parsed.
    pub fetched: usize,
    /// Sources that answered HTTP 304: no download, no parse.
    pub not_modified: usize,
    /// Sources downloaded whose sha256 matched the cache: no parse.
    pub unchanged_by_hash: usize,
    pub bytes_downloaded: u64,
    /// Attempts repeated after a 429, 5xx, timeout or connection failure.
    pub retries: u64,
    /// Folders whose source failed, kept as they were (`[sources] on_error = "keep"`).
    pub kept: Vec<KeptFolder>,
    /// In the order the folders were first used.
    pub folders: Vec<FolderReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FolderReport {
    pub key: String,
    pub location: String,
    /// The format detected (or named); for a reused parse, the configured one.
    pub format: Format,
    pub origin: Origin,
    pub rules_by_action: BTreeMap<ActionKind, usize>,
    /// Invalid entries left out (0 when the parse was reused).
    pub skipped: usize,
    /// `location:line: reason`, at most five.
    pub skipped_examples: Vec<String>,
    /// Entries in syntax not applied (adblock options and exceptions).
    pub unsupported: usize,
    pub unsupported_examples: Vec<String>,
}

/// Where a folder's rules came from this time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Fetched,
    NotModified,
    UnchangedByHash,
    /// The source failed; the last good parse is kept (`on_error = "keep"`).
    Kept,
}

/// Folders by key, with the report.
#[derive(Clone, Debug)]
pub(crate) struct LoadedFolders {
    pub folders: BTreeMap<String, DesiredFolder>,
    pub report: FetchReport,
}

/// The desired state of `profiles` (empty = every profile in the config).
pub async fn load_desired(
    config: &Config,
    profiles: &[String],
    cache: &SourceCache,
    printer: &Printer,
) -> Result<Desired, SourceError> {
    load_desired_reporting(config, profiles, cache, printer, &NoProgress).await
}

/// [`load_desired`], reporting each source read to `progress`.
pub(crate) async fn load_desired_reporting(
    config: &Config,
    profiles: &[String],
    cache: &SourceCache,
    printer: &Printer,
    progress: &dyn Progress,
) -> Result<Desired, SourceError> {
    let selected = select_profiles(config, profiles)?;
    let mut keys: Vec<&str> = Vec::new();
    for profile in &selected {
        for key in &profile.folders {
            if !keys.contains(&key.as_str()) {
                keys.push(key);
            }
        }
    }
    let loaded = load_folders(config, &keys, cache, printer, progress).await?;
    let profiles = selected
        .iter()
        .map(|profile| DesiredProfile {
            id: profile.id.clone(),
            name: profile.name.clone(),
            settings: profile.settings.clone(),
            folders: profile
                .folders
                .iter()
                .filter_map(|key| loaded.folders.get(key).cloned())
                .collect(),
        })
        .collect();
    Ok(Desired {
        profiles,
        report: loaded.report,
    })
}

fn select_profiles<'a>(
    config: &'a Config,
    ids: &[String],
) -> Result<Vec<&'a crate::config::ProfileConfig>, SourceError> {
    if config.profiles.is_empty() {
        return Err(SourceError::NothingToManage {
            config: config.path.clone(),
        });
    }
    if ids.is_empty() {
        return Ok(config.profiles.iter().collect());
    }
    let mut errors = Vec::new();
    for id in ids {
        if config.profile(id).is_none() {
            errors.push(SourceError::UnknownProfile {
                id: id.clone(),
                config: config.path.clone(),
            });
        }
    }
    SourceError::from_all(errors)?;
    Ok(config
        .profiles
        .iter()
        .filter(|profile| ids.contains(&profile.id))
        .collect())
}

/// Loads the folders named by `keys` (unknown keys are ignored): each unique source fetched once,
/// at most `[sources].concurrency` at a time. Every problem is reported, one per source or folder.
pub(crate) async fn load_folders(
    config: &Config,
    keys: &[&str],
    cache: &SourceCache,
    printer: &Printer,
    progress: &dyn Progress,
) -> Result<LoadedFolders, SourceError> {
    let fetcher = Fetcher::new(FetchOptions::from(&config.sources)).map_err(SourceError::Client)?;
    let jobs = group_by_source(config, keys);
    let bar = progress.counter("sources", jobs.len() as u64);
    // Each body is parsed as soon as it arrives (off the async threads) and then dropped; the
    // results are settled in config order, so messages and errors keep their order.
    let mut arrivals = stream::iter(jobs.iter())
        .map(|job| {
            let fetcher = &fetcher;
            let bar = &bar;
            async move {
                let validators = job.validators(cache);
                let result = fetcher
                    .fetch(
                        job.location,
                        job.auth,
                        validators.as_ref(),
                        job.expected_format(),
                    )
                    .await;
                let arrived = match result {
                    Ok(fetched) => Ok(Arrived::of(job, fetched, cache).await),
                    Err(problem) => Err(problem),
                };
                bar.advance(1);
                (job, arrived)
            }
        })
        .buffered(fetcher.options().concurrency);
    let mut outcome = Outcome::default();
    while let Some((job, arrived)) = arrivals.next().await {
        match arrived {
            Ok(arrived) => {
                // Settling may log a line: not torn by the bar.
                let mut arrived = Some(arrived);
                progress.suspend(&mut || {
                    if let Some(arrived) = arrived.take() {
                        outcome.settle(job, arrived, cache, printer);
                    }
                });
            }
            Err(problem) => outcome.errors.push(SourceError::Fetch {
                location: job.location.to_string(),
                folders: job.folders.iter().map(|f| f.key.clone()).collect(),
                problem,
            }),
        }
    }
    bar.finish();
    outcome.report.retries = fetcher.retries();
    if config.sources.on_error == OnError::Keep {
        outcome.keep_failed(config, cache, printer);
    }
    SourceError::from_all(outcome.errors)?;
    let order = |report: &FolderReport| keys.iter().position(|key| *key == report.key);
    outcome.report.folders.sort_by_key(order);
    let report = &outcome.report;
    printer.info(format!(
        "sources: {} fetched, {} not modified (HTTP 304), {} unchanged (same sha256), {} bytes downloaded, {} retries",
        report.fetched, report.not_modified, report.unchanged_by_hash, report.bytes_downloaded, report.retries
    ));
    Ok(LoadedFolders {
        folders: outcome.folders,
        report: outcome.report,
    })
}

/// Parses a body for one folder: decode, detect or apply the format, derive the rules.
pub fn parse_source(
    bytes: &[u8],
    folder: &FolderConfig,
    location: &str,
) -> Result<(Format, DerivedFolder), FolderProblem> {
    let text = format::decode(bytes)?;
    let (format, list) = format::parse(text, folder.format)?;
    let derived = derive::derive(list, folder, location)?;
    Ok((format, derived))
}

/// One unique source (location and credential) and the folders that use it.
struct SourceJob<'a> {
    location: &'a SourceLocation,
    auth: Option<&'a SourceAuth>,
    folders: Vec<&'a FolderConfig>,
}

impl SourceJob<'_> {
    /// Conditional GET only when every folder has a cached parse of the same body to fall back on.
    fn validators(&self, cache: &SourceCache) -> Option<Validators> {
        let location = self.location.shown();
        let cached: Option<Vec<&CachedSource>> = self
            .folders
            .iter()
            .map(|folder| cache.get(&location, &folder.fingerprint))
            .collect();
        let cached = cached?;
        let first = &cached.first()?.record;
        let same_body = cached.iter().all(|c| c.record.sha256 == first.sha256);
        let has_validators = first.etag.is_some() || first.last_modified.is_some();
        (same_body && has_validators).then(|| Validators {
            etag: first.etag.clone(),
            last_modified: first.last_modified.clone(),
        })
    }

    /// The format the folders expect, when they agree on one.
    fn expected_format(&self) -> Format {
        let first = self.folders.first().map_or(Format::Auto, |f| f.format);
        if self.folders.iter().all(|folder| folder.format == first) {
            first
        } else {
            Format::Auto
        }
    }
}

fn group_by_source<'a>(config: &'a Config, keys: &[&str]) -> Vec<SourceJob<'a>> {
    let mut jobs: Vec<SourceJob<'a>> = Vec::new();
    for folder in keys.iter().filter_map(|key| config.folder(key)) {
        let same = |job: &&mut SourceJob<'a>| {
            *job.location == folder.location && job.auth == folder.auth.as_ref()
        };
        match jobs.iter_mut().find(same) {
            Some(job) => job.folders.push(folder),
            None => jobs.push(SourceJob {
                location: &folder.location,
                auth: folder.auth.as_ref(),
                folders: vec![folder],
            }),
        }
    }
    jobs
}

/// One source as it arrived: not modified, or its body parsed for each of its folders.
enum Arrived {
    NotModified(Validators),
    Body {
        /// The body's size; the body itself is gone once parsed.
        size: usize,
        validators: Validators,
        sha256: String,
        downloaded: u64,
        /// One per folder of the job, in its order.
        folders: Vec<FolderBody>,
    },
}

/// What one folder makes of a body.
enum FolderBody {
    /// The cached parse, the body being the same (sha256) as last time.
    Unchanged(CachedSource),
    Parsed(Result<(Format, DerivedFolder), FolderProblem>),
}

impl Arrived {
    /// Parses the body, on the blocking pool, for every folder without a cached parse of it.
    async fn of(job: &SourceJob<'_>, fetched: Fetched, cache: &SourceCache) -> Self {
        let (bytes, validators, sha256, downloaded) = match fetched {
            Fetched::NotModified(validators) => return Self::NotModified(validators),
            Fetched::Body {
                bytes,
                validators,
                sha256,
                downloaded,
            } => (bytes, validators, sha256, downloaded),
        };
        let location = job.location.shown();
        let folders: Vec<(FolderConfig, Option<CachedSource>)> = job
            .folders
            .iter()
            .map(|folder| {
                let cached = cache
                    .get(&location, &folder.fingerprint)
                    .filter(|cached| cached.record.sha256 == sha256);
                ((*folder).clone(), cached.cloned())
            })
            .collect();
        let size = bytes.len();
        let unchanged = folders.iter().all(|(_, cached)| cached.is_some());
        let parse = move || {
            folders
                .into_iter()
                .map(|(folder, cached)| match cached {
                    Some(cached) => FolderBody::Unchanged(cached),
                    None => {
                        FolderBody::Parsed(parse_source(&bytes, &folder, &folder.location.shown()))
                    }
                })
                .collect()
        };
        let folders = if unchanged {
            parse()
        } else {
            blocking::run(parse).await
        };
        Self::Body {
            size,
            validators,
            sha256,
            downloaded,
            folders,
        }
    }
}

/// Results gathered source by source.
#[derive(Default)]
struct Outcome {
    folders: BTreeMap<String, DesiredFolder>,
    report: FetchReport,
    errors: Vec<SourceError>,
}

impl Outcome {
    fn settle(
        &mut self,
        job: &SourceJob<'_>,
        arrived: Arrived,
        cache: &SourceCache,
        printer: &Printer,
    ) {
        let location = &job.location.shown();
        match arrived {
            Arrived::NotModified(validators) => {
                printer.verbose(format!("{location}: not modified"));
                self.report.not_modified += 1;
                for folder in &job.folders {
                    // `validators()` asked conditionally only when every folder is cached.
                    if let Some(cached) = cache.get(location, &folder.fingerprint) {
                        let record = SourceRecord {
                            etag: validators.etag.clone().or(cached.record.etag.clone()),
                            last_modified: validators
                                .last_modified
                                .clone()
                                .or(cached.record.last_modified.clone()),
                            ..record_of(folder, &cached.record.sha256)
                        };
                        self.reuse(folder, cached, record, Origin::NotModified);
                    } else {
                        self.errors.push(SourceError::Folder {
                            key: folder.key.clone(),
                            location: location.to_string(),
                            problem: FolderProblem::UnexpectedNotModified,
                        });
                    }
                }
            }
            Arrived::Body {
                size,
                validators,
                sha256,
                downloaded,
                folders,
            } => {
                printer.verbose(format!("{location}: {size} bytes"));
                self.report.bytes_downloaded += downloaded;
                let mut parsed_any = false;
                for (folder, body) in job.folders.iter().zip(folders) {
                    let record = SourceRecord {
                        etag: validators.etag.clone(),
                        last_modified: validators.last_modified.clone(),
                        ..record_of(folder, &sha256)
                    };
                    match body {
                        FolderBody::Unchanged(cached) => {
                            self.reuse(folder, &cached, record, Origin::UnchangedByHash);
                        }
                        FolderBody::Parsed(parsed) => {
                            parsed_any = true;
                            self.parsed(folder, parsed, record, printer);
                        }
                    }
                }
                if parsed_any {
                    self.report.fetched += 1;
                } else {
                    self.report.unchanged_by_hash += 1;
                }
            }
        }
    }

    /// `on_error = "keep"`: every folder whose source failed takes its last good parse from the
    /// state, as if the source had answered 304; a folder with none stays an error.
    fn keep_failed(&mut self, config: &Config, cache: &SourceCache, printer: &Printer) {
        for error in std::mem::take(&mut self.errors) {
            let failed = failed_folders(&error);
            if failed.is_empty() {
                self.errors.push(error);
                continue;
            }
            let mut unkept = Vec::new();
            for (key, reason) in failed {
                let last_good = config.folder(&key).and_then(|folder| {
                    let cached = cache.get(&folder.location.shown(), &folder.fingerprint)?;
                    Some((folder, cached))
                });
                match last_good {
                    Some((folder, cached)) => self.keep(folder, cached, reason, printer),
                    None => unkept.push(key),
                }
            }
            if !unkept.is_empty() {
                self.errors.push(SourceError::CannotKeep {
                    folders: unkept,
                    cause: Box::new(error),
                });
            }
        }
    }

    fn keep(
        &mut self,
        folder: &FolderConfig,
        cached: &CachedSource,
        reason: String,
        printer: &Printer,
    ) {
        let kept = KeptFolder {
            key: folder.key.clone(),
            location: cached.record.location.clone(),
            error: reason,
        };
        printer.warn(kept.to_string());
        self.report.kept.push(kept);
        self.reuse(folder, cached, cached.record.clone(), Origin::Kept);
    }

    fn reuse(
        &mut self,
        folder: &FolderConfig,
        cached: &CachedSource,
        record: SourceRecord,
        origin: Origin,
    ) {
        self.report.folders.push(FolderReport {
            key: folder.key.clone(),
            location: record.location.clone(),
            format: folder.format,
            origin,
            rules_by_action: count_by_action(&cached.rules),
            skipped: 0,
            skipped_examples: Vec::new(),
            unsupported: 0,
            unsupported_examples: Vec::new(),
        });
        self.folders.insert(
            folder.key.clone(),
            DesiredFolder {
                key: folder.key.clone(),
                name: cached.name.clone(),
                action: cached.action.clone(),
                rules: RuleMap::clone(&cached.rules),
                source: record,
            },
        );
    }

    fn parsed(
        &mut self,
        folder: &FolderConfig,
        parsed: Result<(Format, DerivedFolder), FolderProblem>,
        record: SourceRecord,
        printer: &Printer,
    ) {
        let (format, derived) = match parsed {
            Ok(parsed) => parsed,
            Err(problem) => {
                self.errors.push(SourceError::Folder {
                    key: folder.key.clone(),
                    location: record.location.clone(),
                    problem,
                });
                return;
            }
        };
        if derived.skipped > 0 {
            printer.warn(format!(
                "folder `{}`: skipped {} invalid entries, e.g. {}",
                folder.key,
                derived.skipped,
                derived.skipped_examples.first().map_or("", String::as_str)
            ));
        }
        self.report.folders.push(FolderReport {
            key: folder.key.clone(),
            location: record.location.clone(),
            format,
            origin: Origin::Fetched,
            rules_by_action: count_by_action(&derived.rules),
            skipped: derived.skipped,
            skipped_examples: derived.skipped_examples,
            unsupported: derived.unsupported,
            unsupported_examples: derived.unsupported_examples,
        });
        self.folders.insert(
            folder.key.clone(),
            DesiredFolder {
                key: folder.key.clone(),
                name: derived.name,
                action: derived.action,
                rules: RuleMap::new(derived.rules),
                source: record,
            },
        );
    }
}

/// The folder keys a source problem denies their rules, each with the reason; none for other errors.
fn failed_folders(error: &SourceError) -> Vec<(String, String)> {
    match error {
        SourceError::Fetch {
            folders, problem, ..
        } => folders
            .iter()
            .map(|key| (key.clone(), problem.to_string()))
            .collect(),
        SourceError::Folder { key, problem, .. } => vec![(key.clone(), problem.to_string())],
        _ => Vec::new(),
    }
}

fn record_of(folder: &FolderConfig, sha256: &str) -> SourceRecord {
    SourceRecord {
        location: folder.location.shown(),
        etag: None,
        last_modified: None,
        sha256: sha256.to_string(),
        fingerprint: folder.fingerprint.clone(),
    }
}

fn count_by_action(
    rules: &BTreeMap<crate::model::Hostname, crate::model::RuleAction>,
) -> BTreeMap<ActionKind, usize> {
    let mut counts = BTreeMap::new();
    for rule in rules.values() {
        *counts.entry(rule.kind).or_insert(0) += 1;
    }
    counts
}
