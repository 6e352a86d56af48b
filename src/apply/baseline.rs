//! The profile as the plan found it, rebuilt from the plan itself, so that applying a saved plan
//! needs no extra read: each folder's rules before = its target, minus what the plan adds or moves
//! in, plus what it changes (old action), removes, or moves out.

use std::collections::BTreeMap;

use crate::model::{FolderPk, Hostname, RuleAction, RuleMap, SettingsRecord};
use crate::plan::{FolderChange, FolderChangeKind, ProfilePlan, Step};
use crate::state::{FolderState, ProfileState};

/// The settings as the plan found them. With no step, they are what the plan read, mark
/// included; with steps, the last apply's record without its mark: the writes (settings or
/// folders) move what `GET /profiles` says, so a run that stops half way has its next run read
/// the settings rather than trust a record that may be out of date.
fn baseline_settings(old: &ProfileState, plan: &ProfilePlan) -> Option<SettingsRecord> {
    if plan.steps.is_empty() {
        return plan.target.settings.clone();
    }
    let mut record = old.settings.clone()?;
    record.mark = None;
    Some(record)
}

/// The state apply starts from: what is true remotely, as the plan saw it.
pub(crate) fn baseline(old: Option<&ProfileState>, plan: &ProfilePlan) -> ProfileState {
    let never_synced;
    let old = match old {
        Some(old) => old,
        None => {
            never_synced = ProfileState::new(plan.profile.clone());
            &never_synced
        }
    };
    let previous = &old.folders;
    let mut state = ProfileState {
        version: old.version,
        lineage: old.lineage.clone(),
        serial: old.serial,
        profile: old.profile.clone(),
        folders: BTreeMap::new(),
        scratch: leftover_scratch(plan, &old.scratch),
        settings: baseline_settings(old, plan),
    };
    for change in &plan.folders {
        let Some(pk) = change
            .pk
            .filter(|_| change.kind != FolderChangeKind::Create)
        else {
            continue;
        };
        let rules = rules_before(plan, change);
        let (name, action) = match &change.kind {
            FolderChangeKind::Update {
                from_name,
                from_action,
            } => (from_name.clone(), from_action.clone()),
            _ => (change.name.clone(), change.action.clone()),
        };
        let kept = previous
            .get(&change.key)
            .filter(|old| old.pk == pk && *old.rules == rules);
        state.folders.insert(
            change.key.clone(),
            FolderState {
                pk,
                name,
                action,
                // The state's own map when it already says so: shared, not a second copy.
                rules: kept.map_or_else(|| RuleMap::new(rules), |old| RuleMap::clone(&old.rules)),
                overlapped: kept.map(|old| old.overlapped.clone()).unwrap_or_default(),
                held_by_unmanaged: kept
                    .map(|old| old.held_by_unmanaged.clone())
                    .unwrap_or_default(),
                source: kept.and_then(|old| old.source.clone()),
            },
        );
    }
    // A desired folder the plan has nothing to say about is as the state had it.
    for (key, folder) in previous {
        let listed = plan.folders.iter().any(|change| &change.key == key);
        if !listed && plan.target.folders.contains_key(key) {
            state.folders.insert(key.clone(), folder.clone());
        }
    }
    state
}

fn rules_before(plan: &ProfilePlan, change: &FolderChange) -> BTreeMap<Hostname, RuleAction> {
    let mut rules = plan
        .target
        .folders
        .get(&change.key)
        .filter(|_| change.kind != FolderChangeKind::Delete)
        .map(|target| target.rules.clone())
        .unwrap_or_default();
    for hostname in change.add.keys().chain(change.move_in.keys()) {
        rules.remove(hostname);
    }
    for (hostname, action) in &change.change {
        rules.insert(hostname.clone(), action.from.clone());
    }
    for (hostname, action) in &change.remove {
        rules.insert(hostname.clone(), action.clone());
    }
    for other in &plan.folders {
        for (hostname, moved) in &other.move_in {
            if moved.from_key == change.key {
                rules.insert(hostname.clone(), moved.from_action.clone());
            }
        }
    }
    rules
}

/// Scratch folders an interrupted run left: they exist until the plan's steps delete them. Those
/// the state remembers stay remembered even when this plan keeps them (their rules were not read).
fn leftover_scratch(plan: &ProfilePlan, remembered: &[FolderPk]) -> Vec<FolderPk> {
    let mut pks: Vec<FolderPk> = plan
        .steps
        .iter()
        .filter_map(|step| match step {
            Step::DeleteLeftoverScratch { pk } => Some(*pk),
            _ => None,
        })
        .chain(remembered.iter().copied())
        .collect();
    pks.sort_unstable();
    pks.dedup();
    pks
}
