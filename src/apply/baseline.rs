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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceRecord;
    use crate::model::{block_rules, ActionKind, DesiredFolder, DesiredProfile, FolderAction};
    use crate::plan::{plan_profile, PlanSettings};

    fn source(sha256: &str) -> SourceRecord {
        SourceRecord {
            location: "ads.txt".into(),
            etag: None,
            last_modified: None,
            sha256: sha256.into(),
            fingerprint: String::new(),
        }
    }

    /// The state after the last apply: folder `ads` (PK 1) named `name` holding `rules`.
    fn last_apply(name: &str, rules: &[&str]) -> ProfileState {
        let mut state = ProfileState::new("p1");
        state.folders.insert(
            "ads".into(),
            FolderState {
                pk: FolderPk::new(1),
                name: name.into(),
                action: FolderAction::of(ActionKind::Block),
                rules: block_rules(rules).into(),
                overlapped: block_rules(&["o.example"]),
                held_by_unmanaged: block_rules(&["h.example"]),
                source: Some(source("old")),
            },
        );
        state
    }

    /// The config: folder `ads` named `Ads` listing `rules`.
    fn wanted(rules: &[&str]) -> DesiredProfile {
        DesiredProfile {
            id: "p1".into(),
            name: None,
            folders: vec![DesiredFolder {
                key: "ads".into(),
                name: "Ads".into(),
                action: FolderAction::of(ActionKind::Block),
                rules: block_rules(rules).into(),
                source: source("new"),
            }],
            settings: Default::default(),
        }
    }

    fn plan(desired: &DesiredProfile, current: &crate::plan::CurrentProfile) -> ProfilePlan {
        plan_profile(desired, current, &PlanSettings::default()).unwrap()
    }

    #[test]
    fn a_folder_to_rename_starts_under_its_old_name_and_keeps_its_record() {
        let old = last_apply("Old", &["a.example"]);
        let current = crate::refresh::from_state("p1", Some(&old));
        let plan = plan(&wanted(&["a.example"]), &current);
        let start = baseline(Some(&old), &plan);
        let ads = &start.folders["ads"];
        assert_eq!(ads.name, "Old");
        // Its rules are what the state says: the state's record of the folder is kept.
        assert_eq!(ads, &old.folders["ads"]);
    }

    #[test]
    fn a_drifted_folder_starts_as_it_was_read_not_as_the_state_says() {
        let old = last_apply("Ads", &["a.example", "b.example"]);
        let mut current = crate::refresh::from_state("p1", Some(&old));
        // `b.example` was deleted in the dashboard.
        let ads = current.managed.get_mut("ads").unwrap();
        ads.rules = block_rules(&["a.example"]).into();
        let plan = plan(&wanted(&["a.example", "b.example"]), &current);
        let start = baseline(Some(&old), &plan);
        let ads = &start.folders["ads"];
        assert_eq!(*ads.rules, block_rules(&["a.example"]));
        assert_eq!(ads.source, None);
    }

    #[test]
    fn leftover_scratch_folders_are_remembered_until_deleted() {
        let mut old = last_apply("Ads", &["a.example"]);
        old.scratch = vec![FolderPk::new(4)];
        let current = crate::refresh::from_state("p1", Some(&old));
        let mut plan = plan(&wanted(&["a.example"]), &current);
        plan.steps.push(Step::DeleteLeftoverScratch {
            pk: FolderPk::new(9),
        });
        let start = baseline(Some(&old), &plan);
        assert_eq!(start.scratch, [FolderPk::new(4), FolderPk::new(9)]);
    }
}
