//! The scenario sequence per size: first sync into empty profiles, no-change re-sync, 1% and 30%
//! upstream churn, a folder removed, adoption of folders made by delete-and-repush, and the old
//! tool's model on the same data.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use controld_emulator::{
    ActionDump, Dump, Emulator, EmulatorConfig, FolderDump, ProfileDump, RuleDump,
};

use super::data::{effective, EffectiveFolder, ProfileLists};
use super::error::BenchError;
use super::gen;
use super::minimum::{self, Change};
use super::old_tool;
use super::runner::{self, ApplyOptions, Workspace, TOKEN};

/// One benchmark size.
#[derive(Clone, Debug)]
pub struct Size {
    pub label: String,
    pub profiles: usize,
    pub folders: usize,
    pub rules_per_profile: usize,
}

/// Knobs shared by every run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub seed: u64,
    pub latency: Duration,
    /// The emulator's rate limit (429 + Retry-After past it); `None`: no limit.
    pub emulator_rps: Option<f64>,
    /// The emulator's token-bucket capacity (0: one second's worth of `emulator_rps`).
    pub emulator_burst: u32,
    /// The binary's `--max-rps`; `None`: its default (adaptive pacing, no ceiling).
    pub max_rps: Option<f64>,
}

/// Which tool made a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    CtrldSync,
    OldToolModel,
}

/// One measured run.
#[derive(Clone, Debug)]
pub struct Row {
    pub size: String,
    pub rules: usize,
    pub scenario: &'static str,
    pub tool: Tool,
    pub wall: Duration,
    pub calls: BTreeMap<String, u64>,
    pub routes: BTreeMap<String, u64>,
    pub total: u64,
    pub change: Change,
    pub rate_limited: u64,
    pub retries: Option<u64>,
    /// The plan's `~N API calls` (from the report), for ctrld-sync rows.
    pub planned: Option<u64>,
    pub max_rss_kib: Option<u64>,
    /// `Ok` when the emulator ends holding exactly the desired folders and rules.
    pub outcome: Result<(), String>,
    pub note: String,
}

impl Row {
    pub fn minimum(&self) -> usize {
        self.change.minimum_calls()
    }

    pub fn ratio(&self) -> f64 {
        self.total as f64 / self.minimum() as f64
    }
}

/// Every scenario for one size, in order.
pub fn run_size(binary: &Path, size: &Size, settings: &Settings) -> Result<Vec<Row>, BenchError> {
    let base = gen::generate(
        settings.seed,
        size.profiles,
        size.folders,
        size.rules_per_profile,
    );
    let churn1 = gen::churn(settings.seed + 1, &base, 0.01);
    let churn30 = gen::churn(settings.seed + 2, &churn1, 0.30);
    let removed = without_folder(&churn30, 3);
    let fast = ApplyOptions {
        max_rps: settings.max_rps,
        parallelism: None,
        allow_destroy: false,
    };
    let destroy = ApplyOptions {
        allow_destroy: true,
        ..fast.clone()
    };
    let mut rows = Vec::new();

    let bench = Bench::fresh(binary, size, settings)?;
    rows.push(bench.run("first sync", &base, &fast, false)?);
    rows.push(bench.run("no change", &base, &fast, false)?);
    rows.push(bench.run("1% churn", &churn1, &fast, false)?);
    rows.push(bench.run("30% churn", &churn30, &fast, false)?);
    rows.push(bench.run("folder removed", &removed, &destroy, false)?);

    let bench = Bench::fresh(binary, size, settings)?;
    bench.emulator.load(old_tool_dump(&base));
    rows.push(bench.run("adoption", &base, &fast, true)?);

    let emulator = start_emulator(size, settings)?;
    rows.push(old_tool_row(&emulator, size, "first sync", &base)?);
    rows.push(old_tool_row(&emulator, size, "1% churn", &churn1)?);
    Ok(rows)
}

pub fn start_emulator(size: &Size, settings: &Settings) -> Result<Emulator, BenchError> {
    start_emulator_with(size, settings, false)
}

/// `own_tokens`: every profile's own token is accepted too, each with a rate limit of its own.
pub fn start_emulator_with(
    size: &Size,
    settings: &Settings,
    own_tokens: bool,
) -> Result<Emulator, BenchError> {
    let extra_tokens = match own_tokens {
        true => (0..size.profiles).map(runner::profile_token).collect(),
        false => Vec::new(),
    };
    let config = EmulatorConfig {
        token: TOKEN.to_string(),
        extra_tokens,
        rate_limit_per_token: own_tokens,
        profiles: (0..size.profiles).map(gen::profile_id).collect(),
        latency: settings.latency,
        rps: settings.emulator_rps,
        burst: settings.emulator_burst,
        max_rules: 10_000,
        ..EmulatorConfig::default()
    };
    Emulator::start_background(config)
        .map_err(|e| BenchError::Failed(format!("starting the emulator: {e}")))
}

/// The same profiles without the list at `index` (its folder is to be deleted).
fn without_folder(profiles: &[ProfileLists], index: usize) -> Vec<ProfileLists> {
    profiles
        .iter()
        .map(|profile| {
            let mut profile = profile.clone();
            profile.lists.remove(index.min(profile.lists.len() - 1));
            profile
        })
        .collect()
}

/// One emulator and one config workspace, run through scenarios in turn.
pub struct Bench<'a> {
    binary: &'a Path,
    size: &'a Size,
    pub emulator: Emulator,
    workspace: Workspace,
}

impl<'a> Bench<'a> {
    /// An empty emulator and a new workspace.
    pub fn fresh(
        binary: &'a Path,
        size: &'a Size,
        settings: &Settings,
    ) -> Result<Self, BenchError> {
        Self::fresh_with(binary, size, settings, false)
    }

    /// `own_tokens`: each profile on a token of its own, limited on its own.
    pub fn fresh_with(
        binary: &'a Path,
        size: &'a Size,
        settings: &Settings,
        own_tokens: bool,
    ) -> Result<Self, BenchError> {
        Ok(Self {
            binary,
            size,
            emulator: start_emulator_with(size, settings, own_tokens)?,
            workspace: Workspace::with_tokens(own_tokens)?,
        })
    }

    /// The state dir of this bench's workspace.
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.workspace.state_dir()
    }

    /// Writes the lists, runs `apply`, and measures it against the theoretical minimum.
    pub fn run(
        &self,
        scenario: &'static str,
        lists: &[ProfileLists],
        options: &ApplyOptions,
        adopting: bool,
    ) -> Result<Row, BenchError> {
        eprintln!("bench: {} / {scenario} ...", self.size.label);
        let desired = desired_of(lists);
        let before = self.emulator.dump();
        let change = total_change(&before, &desired, adopting);
        self.workspace.write(lists)?;
        self.emulator.reset_stats();
        let process =
            runner::run_apply(self.binary, &self.workspace, &self.emulator.url(), options)?;
        let stats = self.emulator.stats();
        let mut outcome = compare(&self.emulator.dump(), &desired);
        if process.exit_code != 0 {
            let last_line = process.stderr.lines().last().unwrap_or("").to_string();
            outcome = Err(format!("exit {}: {last_line}", process.exit_code));
        }
        Ok(Row {
            size: self.size.label.clone(),
            rules: rule_total(&desired),
            scenario,
            tool: Tool::CtrldSync,
            wall: process.wall,
            calls: stats.by_method,
            routes: stats.by_route,
            total: stats.total,
            change,
            rate_limited: stats.rate_limited,
            retries: process
                .report
                .as_ref()
                .and_then(|report| runner::report_number(report, "retries")),
            planned: process
                .report
                .as_ref()
                .and_then(|report| runner::report_number(report, "planned_calls")),
            max_rss_kib: Some(process.max_rss_kib),
            outcome,
            note: String::new(),
        })
    }
}

pub fn old_tool_row(
    emulator: &Emulator,
    size: &Size,
    scenario: &'static str,
    lists: &[ProfileLists],
) -> Result<Row, BenchError> {
    eprintln!("bench: {} / {scenario} (old tool model) ...", size.label);
    let desired = desired_of(lists);
    let change = total_change(&emulator.dump(), &desired, false);
    emulator.reset_stats();
    let wall = old_tool::sync(&emulator.url(), lists)?;
    let stats = emulator.stats();
    Ok(Row {
        size: size.label.clone(),
        rules: rule_total(&desired),
        scenario,
        tool: Tool::OldToolModel,
        wall,
        calls: stats.by_method,
        routes: stats.by_route,
        total: stats.total,
        change,
        rate_limited: stats.rate_limited,
        retries: None,
        planned: None,
        max_rss_kib: None,
        outcome: compare(&emulator.dump(), &desired),
        note: String::new(),
    })
}

type Desired = Vec<(String, Vec<EffectiveFolder>)>;

fn desired_of(lists: &[ProfileLists]) -> Desired {
    lists
        .iter()
        .map(|profile| (profile.id.clone(), effective(profile)))
        .collect()
}

fn rule_total(desired: &Desired) -> usize {
    desired
        .iter()
        .map(|(_, folders)| super::data::effective_rule_count(folders))
        .sum()
}

fn total_change(before: &Dump, desired: &Desired, adopting: bool) -> Change {
    let mut total = Change::default();
    for (id, folders) in desired {
        let current = before
            .profiles
            .get(id)
            .map(|profile| profile.folders.as_slice())
            .unwrap_or(&[]);
        total.add(&minimum::change(current, folders, adopting));
    }
    total
}

/// Whether the emulator holds exactly the desired folders (name, action) and rules (hostname, action).
pub fn compare(dump: &Dump, desired: &Desired) -> Result<(), String> {
    for (id, folders) in desired {
        let profile = dump
            .profiles
            .get(id)
            .ok_or_else(|| format!("profile {id} is missing"))?;
        if let Some(rule) = profile.root.first() {
            return Err(format!(
                "profile {id}: rule {} is in the root",
                rule.hostname
            ));
        }
        if profile.folders.len() != folders.len() {
            return Err(format!(
                "profile {id}: {} folders, want {}",
                profile.folders.len(),
                folders.len()
            ));
        }
        for want in folders {
            compare_folder(id, profile, want)?;
        }
    }
    Ok(())
}

fn compare_folder(id: &str, profile: &ProfileDump, want: &EffectiveFolder) -> Result<(), String> {
    let have = profile
        .folders
        .iter()
        .find(|folder| folder.name == want.name)
        .ok_or_else(|| format!("profile {id}: folder {} is missing", want.name))?;
    if have.action.kind != want.action.kind || have.action.status != want.action.status {
        return Err(format!(
            "profile {id}: folder {} has action {:?}",
            want.name, have.action
        ));
    }
    let rules: BTreeMap<&str, (Option<u8>, u8)> = have
        .rules
        .iter()
        .map(|rule| {
            (
                rule.hostname.as_str(),
                (rule.action.kind, rule.action.status),
            )
        })
        .collect();
    let wanted: BTreeMap<&str, (Option<u8>, u8)> = want
        .rules
        .iter()
        .map(|(host, act)| (host.as_str(), (Some(act.kind), act.status)))
        .collect();
    if rules != wanted {
        let missing = wanted
            .keys()
            .filter(|host| !rules.contains_key(*host))
            .count();
        let extra = rules
            .keys()
            .filter(|host| !wanted.contains_key(*host))
            .count();
        return Err(format!(
            "profile {id}: folder {}: {missing} rules missing, {extra} extra, or actions differ",
            want.name
        ));
    }
    Ok(())
}

/// What the old delete-and-repush tool leaves: the same folders under the same names, with PKs our
/// tool has never seen and no state files.
fn old_tool_dump(lists: &[ProfileLists]) -> Dump {
    let mut next_pk = 900_000;
    let mut profiles = BTreeMap::new();
    for profile in lists {
        let folders = effective(profile)
            .into_iter()
            .map(|folder| {
                next_pk += 7;
                FolderDump {
                    pk: next_pk,
                    name: folder.name,
                    action: ActionDump {
                        kind: folder.action.kind,
                        status: folder.action.status,
                        via: None,
                        via_v6: None,
                    },
                    rules: folder
                        .rules
                        .into_iter()
                        .map(|(hostname, act)| RuleDump {
                            hostname,
                            action: ActionDump {
                                kind: Some(act.kind),
                                status: act.status,
                                via: None,
                                via_v6: None,
                            },
                        })
                        .collect(),
                }
            })
            .collect();
        profiles.insert(
            profile.id.clone(),
            ProfileDump {
                name: profile.id.clone(),
                root: Vec::new(),
                folders,
                ..ProfileDump::default()
            },
        );
    }
    Dump {
        next_pk: next_pk + 1,
        profiles,
    }
}
