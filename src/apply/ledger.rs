//! The applier's record of what is TRUE remotely, updated after every completed request.
//!
//! It starts from the profile as the plan saw it and ends equal to the plan's target. A folder's
//! `source`, `overlapped` and `held_by_unmanaged` are recorded only once the folder fully matches its target, so a run
//! killed half way never makes the next plan believe a half-applied folder is up to date.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::model::{FolderAction, FolderPk, Hostname, RuleAction, RuleMap};
use crate::plan::{Holder, ProfileTarget};
use crate::state::{FolderState, ProfileState};

/// What one profile's apply did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Tally {
    pub folders_created: u64,
    pub folders_updated: u64,
    pub folders_deleted: u64,
    pub rules_added: u64,
    pub rules_removed: u64,
    pub rules_moved: u64,
    pub rules_changed: u64,
    /// Filters, services, the default rule and options written.
    #[serde(skip_serializing_if = "is_zero")]
    pub settings_changed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tally {
    pub(crate) fn add(&mut self, other: &Tally) {
        self.folders_created += other.folders_created;
        self.folders_updated += other.folders_updated;
        self.folders_deleted += other.folders_deleted;
        self.rules_added += other.rules_added;
        self.rules_removed += other.rules_removed;
        self.rules_moved += other.rules_moved;
        self.rules_changed += other.rules_changed;
        self.settings_changed += other.settings_changed;
    }

    /// Rules that changed in any way.
    pub(crate) fn rules_touched(&self) -> u64 {
        self.rules_added + self.rules_removed + self.rules_moved + self.rules_changed
    }
}

/// A desired hostname left alone at apply time because an unmanaged rule holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct SkippedHostname {
    pub hostname: Hostname,
    /// The managed folder (config key) that lists it.
    pub key: String,
    pub held_by: Holder,
}

#[derive(Debug)]
pub(super) struct Ledger {
    pub state: ProfileState,
    /// Shared with the plan; copied on the first hostname an unmanaged rule turns out to hold.
    target: Arc<ProfileTarget>,
    /// The scratch folder this run created.
    scratch: Option<FolderPk>,
    /// Folders (config keys) written to by this run.
    touched: BTreeSet<String>,
    pub tally: Tally,
    pub skipped: Vec<SkippedHostname>,
}

impl Ledger {
    pub(super) fn new(state: ProfileState, target: Arc<ProfileTarget>) -> Self {
        Self {
            state,
            target,
            scratch: None,
            touched: BTreeSet::new(),
            tally: Tally::default(),
            skipped: Vec::new(),
        }
    }

    /// The folder's PK: from the state (existing or created this run), else the plan's target.
    pub(super) fn pk_of(&self, key: &str) -> Option<FolderPk> {
        self.state
            .folders
            .get(key)
            .map(|folder| folder.pk)
            .or_else(|| self.target.folders.get(key).and_then(|folder| folder.pk))
    }

    /// Every managed folder PK known to this run (state and target).
    pub(super) fn managed_pks(&self) -> BTreeSet<FolderPk> {
        let in_state = self.state.folders.values().map(|folder| folder.pk);
        let in_target = self.target.folders.values().filter_map(|folder| folder.pk);
        in_state.chain(in_target).collect()
    }

    /// The managed folder that holds `hostname`, as far as this run knows.
    pub(super) fn key_holding(&self, hostname: &str) -> Option<&str> {
        self.state
            .folders
            .iter()
            .find(|(_, folder)| folder.rules.contains_key(hostname))
            .map(|(key, _)| key.as_str())
    }

    pub(super) fn scratch(&self) -> Option<FolderPk> {
        self.scratch
    }

    pub(super) fn touched(&self) -> &BTreeSet<String> {
        &self.touched
    }

    pub(super) fn target_rules(&self, key: &str) -> Option<&BTreeMap<Hostname, RuleAction>> {
        self.target.folders.get(key).map(|folder| &folder.rules)
    }

    /// The key of the target folder that wants `hostname`, if any.
    pub(super) fn target_key_wanting(&self, hostname: &str) -> Option<&str> {
        self.target
            .folders
            .iter()
            .find(|(_, folder)| folder.rules.contains_key(hostname))
            .map(|(key, _)| key.as_str())
    }

    pub(super) fn rule_count(&self, key: &str) -> Option<usize> {
        self.state.folders.get(key).map(|folder| folder.rules.len())
    }

    /// Rules of the folder that are enabled (a folder's `count` may cover only those).
    pub(super) fn enabled_rule_count(&self, key: &str) -> Option<usize> {
        let folder = self.state.folders.get(key)?;
        Some(folder.rules.values().filter(|a| a.enabled).count())
    }

    pub(super) fn folder_created(
        &mut self,
        key: &str,
        pk: FolderPk,
        name: &str,
        action: &FolderAction,
    ) {
        let folder = FolderState {
            pk,
            name: name.to_string(),
            action: action.clone(),
            rules: RuleMap::default(),
            overlapped: BTreeMap::new(),
            held_by_unmanaged: BTreeMap::new(),
            source: None,
        };
        self.state.folders.insert(key.to_string(), folder);
        self.tally.folders_created += 1;
        self.touch(key);
    }

    /// `count` settings written (a batch filter write counts each filter).
    pub(super) fn settings_written(&mut self, count: usize) {
        self.tally.settings_changed += count as u64;
    }

    /// Every step succeeded: the state records the managed settings as the plan meant them, with
    /// what `GET /profiles` said afterwards (`None`: not read, so the next run reads them).
    pub(super) fn settings_complete(&mut self, mark: Option<String>) {
        self.state.settings = self.target.settings.clone().map(|mut record| {
            record.mark = mark;
            record
        });
    }

    pub(super) fn folder_updated(&mut self, key: &str, name: &str, action: &FolderAction) {
        if let Some(folder) = self.state.folders.get_mut(key) {
            folder.name = name.to_string();
            folder.action = action.clone();
        }
        self.tally.folders_updated += 1;
        self.touch(key);
    }

    pub(super) fn rules_added(&mut self, key: &str, action: &RuleAction, hostnames: &[Hostname]) {
        self.insert_rules(key, action, hostnames);
        self.tally.rules_added += hostnames.len() as u64;
        self.touch(key);
    }

    pub(super) fn rules_changed(&mut self, key: &str, action: &RuleAction, hostnames: &[Hostname]) {
        self.insert_rules(key, action, hostnames);
        self.tally.rules_changed += hostnames.len() as u64;
        self.touch(key);
    }

    /// Moved from whichever managed folder held them (or a scratch folder) into `to_key`. Those
    /// already in `to_key` only had their action changed (the planner folds such changes into moves).
    pub(super) fn rules_moved(
        &mut self,
        to_key: &str,
        action: &RuleAction,
        hostnames: &[Hostname],
    ) {
        let already_here = self.state.folders.get(to_key).map_or(0, |folder| {
            hostnames
                .iter()
                .filter(|hostname| folder.rules.contains_key(*hostname))
                .count()
        });
        self.take_out(hostnames);
        self.insert_rules(to_key, action, hostnames);
        self.tally.rules_changed += already_here as u64;
        self.tally.rules_moved += (hostnames.len() - already_here) as u64;
        self.touch(to_key);
    }

    pub(super) fn rule_deleted(&mut self, hostname: &Hostname) {
        self.take_out(std::slice::from_ref(hostname));
        self.tally.rules_removed += 1;
    }

    pub(super) fn scratch_created(&mut self, pk: FolderPk) {
        self.scratch = Some(pk);
        self.state.scratch.push(pk);
        self.state.scratch.sort_unstable();
    }

    /// Out of the managed folders: they are as good as removed (the scratch folder goes next).
    pub(super) fn moved_to_scratch(&mut self, hostnames: &[Hostname]) {
        self.take_out(hostnames);
        self.tally.rules_removed += hostnames.len() as u64;
    }

    pub(super) fn scratch_deleted(&mut self, pk: FolderPk) {
        self.state.scratch.retain(|scratch| *scratch != pk);
        if self.scratch == Some(pk) {
            self.scratch = None;
        }
    }

    pub(super) fn folder_deleted(&mut self, key: &str) {
        if let Some(folder) = self.state.folders.remove(key) {
            self.tally.rules_removed += folder.rules.len() as u64;
        }
        self.tally.folders_deleted += 1;
    }

    /// What a read of the folder showed: the truth replaces what this run believed.
    pub(super) fn folder_read(&mut self, key: &str, rules: BTreeMap<Hostname, RuleAction>) {
        for hostname in rules.keys() {
            for (other_key, folder) in self.state.folders.iter_mut() {
                if other_key != key && folder.rules.contains_key(hostname) {
                    folder.rules.remove(hostname);
                }
            }
        }
        if let Some(folder) = self.state.folders.get_mut(key) {
            folder.rules = RuleMap::new(rules);
        }
        self.touch(key);
    }

    /// An unmanaged rule holds a hostname this folder wants: leave it, record it as held.
    pub(super) fn skip_unmanaged(&mut self, key: &str, hostname: &Hostname, held_by: Holder) {
        if let Some(folder) = Arc::make_mut(&mut self.target).folders.get_mut(key) {
            if let Some(action) = folder.rules.remove(hostname) {
                folder.held_by_unmanaged.insert(hostname.clone(), action);
            }
        }
        self.skipped.push(SkippedHostname {
            hostname: hostname.clone(),
            key: key.to_string(),
            held_by,
        });
        self.touch(key);
    }

    /// Records source and exclusions of every folder that now matches its target.
    pub(super) fn settle_all(&mut self) {
        let keys: Vec<String> = self.state.folders.keys().cloned().collect();
        for key in keys {
            self.settle(&key);
        }
    }

    /// Whether the folder holds exactly its target's name, action and rules.
    pub(super) fn is_complete(&self, key: &str) -> bool {
        match (self.state.folders.get(key), self.target.folders.get(key)) {
            (Some(folder), Some(target)) => {
                folder.name == target.name
                    && folder.action == target.action
                    && *folder.rules == target.rules
            }
            _ => false,
        }
    }

    fn touch(&mut self, key: &str) {
        self.touched.insert(key.to_string());
        self.settle(key);
    }

    /// Complete: record the target's source and exclusions. Touched and incomplete: forget the
    /// source, since the rules no longer are what that source yielded.
    fn settle(&mut self, key: &str) {
        let complete = self.is_complete(key);
        let touched = self.touched.contains(key);
        let (Some(folder), Some(target)) = (
            self.state.folders.get_mut(key),
            self.target.folders.get(key),
        ) else {
            return;
        };
        if complete {
            folder.overlapped = target.overlapped.clone();
            folder.held_by_unmanaged = target.held_by_unmanaged.clone();
            folder.source = Some(target.source.clone());
        } else if touched {
            folder.source = None;
        }
    }

    fn insert_rules(&mut self, key: &str, action: &RuleAction, hostnames: &[Hostname]) {
        if let Some(folder) = self.state.folders.get_mut(key) {
            let rules = &mut folder.rules;
            for hostname in hostnames {
                rules.insert(hostname.clone(), action.clone());
            }
        }
    }

    /// Removes the hostnames from the managed folders that hold them, settling those folders.
    fn take_out(&mut self, hostnames: &[Hostname]) {
        let mut emptied = BTreeSet::new();
        for hostname in hostnames {
            for (key, folder) in self.state.folders.iter_mut() {
                if folder.rules.contains_key(hostname) {
                    folder.rules.remove(hostname);
                    emptied.insert(key.clone());
                }
            }
        }
        for key in emptied {
            self.touch(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceRecord;
    use crate::plan::TargetFolder;

    fn source(sha: &str) -> SourceRecord {
        SourceRecord {
            location: "ads.txt".into(),
            etag: None,
            last_modified: None,
            sha256: sha.into(),
            fingerprint: "f".into(),
        }
    }

    fn pks(pks: &[u64]) -> Vec<FolderPk> {
        pks.iter().copied().map(FolderPk::new).collect()
    }

    fn hostnames(names: &[&str]) -> Vec<Hostname> {
        names.iter().map(|name| Hostname::from(*name)).collect()
    }

    /// State: `ads` holds a, b (from source "old"); target: a, b, c, e (source "new"), d held by
    /// an unmanaged rule, o kept by another folder.
    fn ledger() -> Ledger {
        let rules = |names: &[&str]| -> BTreeMap<Hostname, RuleAction> {
            names
                .iter()
                .map(|n| (Hostname::from(*n), RuleAction::block()))
                .collect()
        };
        let mut state = ProfileState::new("p1");
        state.folders.insert(
            "ads".into(),
            FolderState {
                pk: FolderPk::new(7),
                name: "Ads".into(),
                action: FolderAction::none(),
                rules: RuleMap::new(rules(&["a", "b"])),
                overlapped: BTreeMap::new(),
                held_by_unmanaged: BTreeMap::new(),
                source: Some(source("old")),
            },
        );
        let mut target = ProfileTarget::default();
        target.folders.insert(
            "ads".into(),
            TargetFolder {
                pk: Some(FolderPk::new(7)),
                name: "Ads".into(),
                action: FolderAction::none(),
                rules: rules(&["a", "b", "c", "e"]),
                overlapped: rules(&["o"]),
                held_by_unmanaged: rules(&["d"]),
                source: source("new"),
            },
        );
        Ledger::new(state, Arc::new(target))
    }

    #[test]
    fn a_half_applied_folder_forgets_its_source_and_a_complete_one_records_the_targets() {
        let mut ledger = ledger();
        ledger.rules_added("ads", &RuleAction::block(), &hostnames(&["c"]));
        let folder = &ledger.state.folders["ads"];
        assert_eq!(
            folder.source, None,
            "rules no longer what the old source yielded"
        );
        assert!(folder.overlapped.is_empty() && folder.held_by_unmanaged.is_empty());

        ledger.rules_added("ads", &RuleAction::block(), &hostnames(&["e"]));
        let folder = &ledger.state.folders["ads"];
        assert_eq!(folder.source, Some(source("new")));
        assert_eq!(folder.overlapped.len(), 1);
        assert_eq!(folder.held_by_unmanaged.len(), 1);
        assert_eq!(ledger.tally.rules_added, 2);
    }

    #[test]
    fn an_unmanaged_holder_moves_the_hostname_to_held_so_the_folder_can_complete() {
        let mut ledger = ledger();
        ledger.rules_added("ads", &RuleAction::block(), &hostnames(&["c"]));
        ledger.skip_unmanaged("ads", &"e".into(), Holder::Root);
        let folder = &ledger.state.folders["ads"];
        assert_eq!(folder.source, Some(source("new")));
        let held = &folder.held_by_unmanaged;
        assert!(held.contains_key("e") && held.contains_key("d"));
        assert!(
            !folder.overlapped.contains_key("e"),
            "held by an unmanaged rule is not an overlap"
        );
        assert_eq!(ledger.skipped.len(), 1);
    }

    #[test]
    fn untouched_folders_keep_their_source_and_moves_take_rules_out_of_where_they_were() {
        let mut ledger = ledger();
        ledger.settle_all();
        assert_eq!(ledger.state.folders["ads"].source, Some(source("old")));

        ledger.folder_created("other", FolderPk::new(9), "Other", &FolderAction::none());
        ledger.rules_moved("other", &RuleAction::allow(), &hostnames(&["a"]));
        assert!(!ledger.state.folders["ads"].rules.contains_key("a"));
        assert_eq!(
            ledger.state.folders["other"].rules.get("a"),
            Some(&RuleAction::allow())
        );
        assert_eq!(ledger.key_holding("a"), Some("other"));
        ledger.rule_deleted(&"b".into());
        assert!(ledger.state.folders["ads"].rules.is_empty());
        assert_eq!(ledger.tally.rules_removed, 1);
    }

    #[test]
    fn an_untouched_folder_that_matches_its_target_records_the_targets_source_on_settling() {
        let mut ledger = ledger();
        // The new source yields what the folder already holds: no write, a new source.
        Arc::make_mut(&mut ledger.target)
            .folders
            .get_mut("ads")
            .unwrap()
            .rules
            .retain(|hostname, _| matches!(&**hostname, "a" | "b"));
        assert_eq!(ledger.state.folders["ads"].source, Some(source("old")));
        ledger.settle_all();
        let folder = &ledger.state.folders["ads"];
        assert_eq!(folder.source, Some(source("new")));
        assert!(folder.overlapped.contains_key("o") && folder.held_by_unmanaged.contains_key("d"));
    }

    #[test]
    fn the_target_folder_wanting_a_hostname_is_found_among_several() {
        let mut ledger = ledger();
        let mut spare = ledger.target.folders["ads"].clone();
        spare.rules = [(Hostname::from("s"), RuleAction::block())].into();
        Arc::make_mut(&mut ledger.target)
            .folders
            .insert("spare".into(), spare);
        assert_eq!(ledger.target_key_wanting("c"), Some("ads"));
        assert_eq!(ledger.target_key_wanting("s"), Some("spare"));
        assert_eq!(
            ledger.target_key_wanting("o"),
            None,
            "overlapped: kept elsewhere"
        );
        assert_eq!(ledger.target_key_wanting("zz"), None);
    }

    #[test]
    fn disabled_rules_count_in_the_rule_count_but_not_in_the_enabled_one() {
        let mut ledger = ledger();
        let disabled = RuleAction {
            enabled: false,
            ..RuleAction::block()
        };
        ledger.rules_added("ads", &disabled, &hostnames(&["c", "e"]));
        ledger.rules_added("ads", &RuleAction::allow(), &hostnames(&["f"]));
        assert_eq!(ledger.rule_count("ads"), Some(5));
        assert_eq!(ledger.enabled_rule_count("ads"), Some(3));
        assert_eq!(ledger.rule_count("gone"), None);
        assert_eq!(ledger.enabled_rule_count("gone"), None);
    }

    #[test]
    fn every_write_is_counted_in_the_tally_each_time() {
        let mut ledger = ledger();
        let none = FolderAction::none();
        ledger.folder_created("new", FolderPk::new(9), "New", &none);
        ledger.folder_created("other", FolderPk::new(11), "Other", &none);
        ledger.folder_updated("new", "Newer", &none);
        ledger.folder_updated("other", "Others", &none);
        ledger.rules_added("new", &RuleAction::block(), &hostnames(&["x", "y"]));
        ledger.rules_added("new", &RuleAction::block(), &hostnames(&["z"]));
        ledger.rules_changed("new", &RuleAction::allow(), &hostnames(&["x"]));
        ledger.rules_changed("new", &RuleAction::allow(), &hostnames(&["y", "z"]));
        ledger.rules_moved("other", &RuleAction::block(), &hostnames(&["x"]));
        ledger.rules_moved("other", &RuleAction::block(), &hostnames(&["y"]));
        // Already there: only its action changes.
        ledger.rules_moved("other", &RuleAction::allow(), &hostnames(&["y"]));
        ledger.rule_deleted(&Hostname::from("z"));
        ledger.rule_deleted(&Hostname::from("a"));
        ledger.moved_to_scratch(&hostnames(&["b"]));
        ledger.folder_deleted("other");
        ledger.folder_deleted("new");
        assert_eq!(
            ledger.tally,
            Tally {
                folders_created: 2,
                folders_updated: 2,
                folders_deleted: 2,
                rules_added: 3,
                // z and a deleted, b parked, x and y gone with `other`.
                rules_removed: 5,
                rules_moved: 2,
                rules_changed: 4,
                settings_changed: 0,
            }
        );
    }

    #[test]
    fn tallies_add_up_field_by_field() {
        let tally = |n: u64| Tally {
            folders_created: n,
            folders_updated: n + 1,
            folders_deleted: n + 2,
            rules_added: n + 3,
            rules_removed: n + 4,
            rules_moved: n + 5,
            rules_changed: n + 6,
            settings_changed: n + 7,
        };
        let mut total = tally(2);
        total.add(&tally(10));
        assert_eq!(
            total,
            Tally {
                folders_created: 12,
                folders_updated: 14,
                folders_deleted: 16,
                rules_added: 18,
                rules_removed: 20,
                rules_moved: 22,
                rules_changed: 24,
                settings_changed: 26,
            }
        );
        assert_eq!(total.rules_touched(), 18 + 20 + 22 + 24);
    }

    #[test]
    fn a_deleted_scratch_folder_leaves_the_other_scratch_pks_and_forgets_only_its_own() {
        let mut ledger = ledger();
        ledger.state.scratch = pks(&[3, 5]);
        ledger.scratch_created(FolderPk::new(4));
        ledger.scratch_deleted(FolderPk::new(3));
        assert_eq!(ledger.state.scratch, pks(&[4, 5]), "only PK 3 dropped");
        assert_eq!(
            ledger.scratch(),
            Some(FolderPk::new(4)),
            "another run's scratch PK gone"
        );
        ledger.scratch_deleted(FolderPk::new(4));
        assert_eq!(ledger.state.scratch, pks(&[5]));
        assert_eq!(ledger.scratch(), None, "this run's scratch folder gone");
    }

    #[test]
    fn a_read_folder_takes_its_hostnames_out_of_the_others_and_copies_no_other_map() {
        let mut ledger = ledger();
        ledger.folder_created("other", FolderPk::new(9), "Other", &FolderAction::none());
        ledger.folder_created("third", FolderPk::new(11), "Third", &FolderAction::none());
        ledger.rules_added("third", &RuleAction::block(), &hostnames(&["z"]));
        let third_before = ledger.state.folders["third"].rules.clone();
        let read: BTreeMap<Hostname, RuleAction> = [("a".into(), RuleAction::allow())].into();
        ledger.folder_read("other", read.clone());
        assert_eq!(*ledger.state.folders["other"].rules, read);
        let ads = &ledger.state.folders["ads"].rules;
        assert!(!ads.contains_key("a"), "now held by `other` only");
        assert!(
            ads.contains_key("b"),
            "hostnames the read did not show stay"
        );
        assert!(
            ledger.state.folders["third"]
                .rules
                .shares_with(&third_before),
            "a folder without the hostname keeps its shared map"
        );
    }
}
