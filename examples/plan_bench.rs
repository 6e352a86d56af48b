//! Planning benchmark (not a test): how long planning takes and how much memory it needs.
//!
//! Scenarios: one 10,000-rule profile (first sync, 1% churn and no change against a synced state),
//! and a 1,000,000-rule set over 100 profiles of 10,000 rules (no change, and 30% churn). Prints wall
//! time per scenario, the resident memory once the inputs are built, and the peak resident memory
//! while planning and rendering (VmRSS and VmHWM from /proc/self/status, Linux only; the peak is
//! reset per scenario where the kernel allows it, else it is the process's peak so far).
//!
//!     cargo run --release --example plan_bench

use std::collections::BTreeMap;
use std::time::Instant;

use ctrld_sync::controld::RemoteFolder;
use ctrld_sync::model::{
    ActionKind, DesiredFolder, DesiredProfile, FolderAction, FolderPk, RuleAction, SourceRecord,
};
use ctrld_sync::plan::render::Format;
use ctrld_sync::plan::{plan, render::render, CurrentFolder, CurrentProfile, PlanSettings};

const FOLDERS_PER_PROFILE: usize = 20;
const RULES_PER_PROFILE: usize = 10_000;

/// A profile of 20 folders of 500 rules; `churn` of them replaced by new hostnames.
fn desired(profile: usize, churn: f64) -> DesiredProfile {
    let per_folder = RULES_PER_PROFILE / FOLDERS_PER_PROFILE;
    let changed = (per_folder as f64 * churn).round() as usize;
    let folders = (0..FOLDERS_PER_PROFILE)
        .map(|folder| {
            let rules = (0..per_folder)
                .map(|i| {
                    let generation = if i < changed { "new" } else { "old" };
                    let host =
                        format!("{generation}-{i:04}.f{folder:02}.p{profile:03}.example.com");
                    (host.parse().unwrap(), RuleAction::block())
                })
                .collect::<std::collections::BTreeMap<_, _>>()
                .into();
            DesiredFolder {
                key: format!("folder{folder:02}"),
                name: format!("Folder {folder}"),
                action: FolderAction::of(ActionKind::Block),
                rules,
                source: SourceRecord {
                    location: format!("https://lists.example/{folder}.json"),
                    etag: None,
                    last_modified: None,
                    sha256: "00".repeat(32),
                    fingerprint: "0".repeat(16),
                },
            }
        })
        .collect();
    DesiredProfile {
        id: format!("profile{profile:03}"),
        settings: Default::default(),
        name: None,
        folders,
    }
}

/// What the profile holds after a sync of `desired(profile, 0.0)`; empty for a first sync.
fn current(profile: usize, synced: bool) -> CurrentProfile {
    let mut managed = BTreeMap::new();
    let mut remote_folders = Vec::new();
    if synced {
        for (index, folder) in desired(profile, 0.0).folders.into_iter().enumerate() {
            let pk = FolderPk::new(1_000 + index as u64);
            remote_folders.push(RemoteFolder {
                pk,
                name: folder.name.clone(),
                action: folder.action.clone(),
                count: folder.rules.len() as u64,
            });
            let now = CurrentFolder {
                pk,
                name: folder.name,
                action: folder.action,
                rules: folder.rules,
                adopted: false,
            };
            managed.insert(folder.key, now);
        }
    }
    CurrentProfile {
        profile: format!("profile{profile:03}"),
        remote_folders,
        managed,
        unmanaged_rules: None,
        scratch: Vec::new(),
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: String::new(),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    }
}

/// A memory figure of this process from /proc/self/status: "VmRSS:" now, "VmHWM:" the peak.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok());
    kib.map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Starts a new peak (VmHWM) from the current resident memory (Linux 4.0+).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn scenario(label: &str, profiles: usize, synced: bool, churn: f64) {
    reset_peak_rss();
    let inputs: Vec<(DesiredProfile, CurrentProfile)> = (0..profiles)
        .map(|p| (desired(p, churn), current(p, synced)))
        .collect();
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    let inputs_mib = status_mib("VmRSS:");
    let started = Instant::now();
    let plan = plan(inputs.iter().map(|(d, c)| (d, c)), &settings).expect("the plan is valid");
    let planned = started.elapsed();
    let text = render(&plan, Format::Text);
    let rendered = started.elapsed() - planned;
    let summary = plan.summary();
    println!(
        "{label}: {} rules over {profiles} profiles: plan {:.3} s, text render {:.3} s ({} bytes); \
         {} to add, {} to remove; ~{} API calls; RSS with inputs {:.0} MiB, peak {:.0} MiB",
        profiles * RULES_PER_PROFILE,
        planned.as_secs_f64(),
        rendered.as_secs_f64(),
        text.len(),
        summary.rules_to_add,
        summary.rules_to_remove,
        plan.estimate.total,
        inputs_mib,
        status_mib("VmHWM:"),
    );
}

fn main() {
    scenario("first sync", 1, false, 0.0);
    scenario("1% churn", 1, true, 0.01);
    scenario("no change", 1, true, 0.0);
    scenario("1M rules, no change", 100, true, 0.0);
    scenario("1M rules, 30% churn", 100, true, 0.30);
}
