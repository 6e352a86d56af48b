//! Property tests of the planner: random current and desired profiles; the plan's steps are executed
//! on an in-memory model of Control D's API semantics (written here, independent of the planner).
//! After the steps, managed folders equal the desired ones (after overlaps), unmanaged rules are
//! untouched, the rule limit is never passed, and the model counted exactly the requests the plan
//! estimated. After every step: no kept rule disappears, a kept rule's own action and status are
//! what they were or what they will be, a kept rule that acted before and acts after never stops
//! acting (a folder disabled too early would do that), and a removed rule never acts in any way
//! it did not before (a rule parked in the scratch folder is inert). The checked run takes the steps
//! in a random order the applier may run them in (each after the steps it waits for,
//! `plan::order::prerequisites`), so every interleaving of concurrent requests is covered.

use std::collections::{BTreeMap, BTreeSet};

use ctrld_sync::controld::{RemoteFolder, MAX_HOSTNAMES_PER_REQUEST};
use ctrld_sync::model::{
    ActionKind, DesiredFolder, DesiredProfile, FolderAction, FolderPk, Hostname, RuleAction,
    SourceRecord,
};
use ctrld_sync::plan::{
    order, parked_rule_action, plan_profile, scratch_folder_action, CurrentFolder, CurrentProfile,
    Holder, PlanError, PlanSettings, Step,
};
use proptest::prelude::*;
use rand::rngs::StdRng as SeededRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Control D as far as the planner's steps can tell: hostnames unique per profile, POST fails if
/// one exists, PUT fails if one is missing, DELETE of a folder takes its rules, at most 500 per write.
#[derive(Clone, Debug, Default)]
struct Model {
    folders: BTreeMap<FolderPk, (String, FolderAction)>,
    /// hostname -> (folder or root, action)
    rules: BTreeMap<Hostname, (Option<FolderPk>, RuleAction)>,
    next_pk: u64,
    limit: usize,
    calls: BTreeMap<&'static str, u64>,
}

impl Model {
    fn call(&mut self, method: &'static str) {
        *self.calls.entry(method).or_default() += 1;
    }

    fn create_folder(&mut self, name: &str, action: &FolderAction) -> FolderPk {
        self.call("POST");
        self.next_pk += 1;
        let pk = FolderPk::new(self.next_pk);
        self.folders.insert(pk, (name.to_string(), action.clone()));
        pk
    }

    fn update_folder(&mut self, pk: FolderPk, name: &str, action: &FolderAction) {
        self.call("PUT");
        let folder = self
            .folders
            .get_mut(&pk)
            .expect("PUT folder: no such group");
        *folder = (name.to_string(), action.clone());
    }

    fn delete_folder(&mut self, pk: FolderPk) {
        self.call("DELETE");
        assert!(self.folders.remove(&pk).is_some(), "no such group {pk}");
        self.rules.retain(|_, (folder, _)| *folder != Some(pk));
    }

    fn post(&mut self, folder: FolderPk, action: &RuleAction, hostnames: &[Hostname]) {
        self.call("POST");
        assert!(hostnames.len() <= MAX_HOSTNAMES_PER_REQUEST);
        assert!(
            self.folders.contains_key(&folder),
            "POST into a missing folder"
        );
        for hostname in hostnames {
            assert!(
                !self.rules.contains_key(hostname),
                "Custom Rule already exists: {hostname}"
            );
        }
        assert!(
            self.rules.len() + hostnames.len() <= self.limit,
            "You have reached the maximum number of custom rules"
        );
        for hostname in hostnames {
            self.rules
                .insert(hostname.clone(), (Some(folder), action.clone()));
        }
    }

    fn put(&mut self, move_to: Option<FolderPk>, action: &RuleAction, hostnames: &[Hostname]) {
        self.call("PUT");
        assert!(hostnames.len() <= MAX_HOSTNAMES_PER_REQUEST);
        for hostname in hostnames {
            assert!(
                self.rules.contains_key(hostname),
                "Custom Rule does not exist: {hostname}"
            );
        }
        if let Some(pk) = move_to {
            assert!(self.folders.contains_key(&pk));
        }
        for hostname in hostnames {
            let rule = self.rules.get_mut(hostname).unwrap();
            rule.1 = action.clone();
            if let Some(pk) = move_to {
                rule.0 = Some(pk);
            }
        }
    }

    fn delete_rule(&mut self, hostname: &str) {
        self.call("DELETE");
        self.rules.remove(hostname);
    }

    /// What the rule does now: its action while it and its folder are enabled, else nothing.
    fn effect(&self, hostname: &str) -> Option<&RuleAction> {
        let (folder, action) = self.rules.get(hostname)?;
        let folder_on = folder.is_none_or(|pk| self.folders[&pk].1.enabled);
        (action.enabled && folder_on).then_some(action)
    }

    fn folder_rules(&self, pk: FolderPk) -> BTreeMap<Hostname, RuleAction> {
        self.rules
            .iter()
            .filter(|(_, (folder, _))| *folder == Some(pk))
            .map(|(hostname, (_, action))| (hostname.clone(), action.clone()))
            .collect()
    }
}

/// A generated case: the remote model, which of its folders are managed (by key), and the desired profile.
#[derive(Debug)]
struct Case {
    model: Model,
    managed: BTreeMap<String, FolderPk>,
    unmanaged: BTreeSet<FolderPk>,
    scratch: Vec<FolderPk>,
    full: bool,
    desired: DesiredProfile,
}

fn action(rng: &mut SeededRng) -> RuleAction {
    match rng.gen_range(0..6) {
        0 => RuleAction::allow(),
        1 => RuleAction {
            kind: ActionKind::Spoof,
            enabled: true,
            via: Some("1.2.3.4".into()),
            via_v6: None,
        },
        2 => RuleAction {
            kind: ActionKind::Block,
            enabled: false,
            via: None,
            via_v6: None,
        },
        _ => RuleAction::block(),
    }
}

fn folder_action(rng: &mut SeededRng) -> FolderAction {
    let mut action = match rng.gen_range(0..3) {
        0 => FolderAction::none(),
        1 => FolderAction::of(ActionKind::Allow),
        _ => FolderAction::of(ActionKind::Block),
    };
    action.enabled = rng.gen_bool(0.7);
    action
}

fn source() -> SourceRecord {
    SourceRecord {
        location: "lists/test.json".into(),
        etag: None,
        last_modified: None,
        sha256: "00".repeat(32),
        fingerprint: "f".repeat(16),
    }
}

/// Builds a random case from a seed; `size` is the hostname universe.
fn generate(seed: u64, size: usize) -> Case {
    let rng = &mut SeededRng::seed_from_u64(seed);
    let full = rng.gen_bool(0.5);
    let hosts: Vec<Hostname> = (0..size)
        .map(|i| format!("h{i:05}.example").parse().unwrap())
        .collect();
    let mut model = Model::default();
    let keys: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
    let mut managed = BTreeMap::new();
    for key in &keys {
        if rng.gen_bool(0.6) {
            let pk = model.create_folder(&format!("Folder {key}"), &folder_action(rng));
            managed.insert(key.clone(), pk);
        }
    }
    let unmanaged: BTreeSet<FolderPk> = (0..rng.gen_range(0..3))
        .map(|i| model.create_folder(&format!("Mine {i}"), &FolderAction::none()))
        .collect();
    // A leftover scratch folder: as this version leaves one (disabled, its rules disabled) or as
    // an older one did (enabled, its rules acting).
    let inert_scratch = rng.gen_bool(0.5);
    let scratch: Vec<FolderPk> = if rng.gen_bool(0.2) {
        let action = if inert_scratch {
            scratch_folder_action()
        } else {
            FolderAction::none()
        };
        vec![model.create_folder("ctrld-sync scratch", &action)]
    } else {
        Vec::new()
    };
    // Each hostname lives in at most one place: a managed folder, an unmanaged folder, the root
    // (only when a full refresh would know it), a leftover scratch folder, or nowhere.
    let mut places: Vec<Option<FolderPk>> = managed.values().map(|pk| Some(*pk)).collect();
    places.extend(unmanaged.iter().map(|pk| Some(*pk)));
    places.extend(scratch.iter().map(|pk| Some(*pk)));
    if full {
        places.push(None);
    }
    let mut unmanaged_hosts = BTreeSet::new();
    for host in &hosts {
        if places.is_empty() || rng.gen_bool(0.4) {
            continue;
        }
        let place = *places.choose(rng).unwrap();
        if place.is_none_or(|pk| unmanaged.contains(&pk)) {
            unmanaged_hosts.insert(host.clone());
        }
        let parked = place.is_some_and(|pk| scratch.contains(&pk));
        let action = if parked && inert_scratch {
            parked_rule_action()
        } else {
            action(rng)
        };
        model.rules.insert(host.clone(), (place, action));
    }
    for pk in model.folders.keys().copied().collect::<Vec<_>>() {
        if unmanaged.contains(&pk) && rng.gen_bool(0.3) {
            // An unmanaged folder named like a managed one must not be adopted when the key is in the state.
            model.folders.get_mut(&pk).unwrap().0 = format!("Other {pk}");
        }
    }
    let mut order = keys.clone();
    order.shuffle(rng);
    let mut folders = Vec::new();
    for key in order {
        if !rng.gen_bool(0.7) {
            continue;
        }
        let share = rng.gen_range(0.0..0.6);
        let mut rules = BTreeMap::new();
        for host in &hosts {
            if rng.gen_bool(share) && (full || !unmanaged_hosts.contains(host)) {
                rules.insert(host.clone(), action(rng));
            }
        }
        let renamed = rng.gen_bool(0.2);
        folders.push(DesiredFolder {
            name: if renamed {
                format!("Renamed {key}")
            } else {
                format!("Folder {key}")
            },
            key,
            action: folder_action(rng),
            rules: rules.into(),
            source: source(),
        });
    }
    model.calls.clear();
    Case {
        model,
        managed,
        unmanaged,
        scratch,
        full,
        desired: DesiredProfile {
            id: "p1".into(),
            settings: Default::default(),
            name: None,
            folders,
        },
    }
}

/// What a refresh of this model reports (auto or full).
fn current(case: &Case) -> CurrentProfile {
    let model = &case.model;
    let remote_folders = model
        .folders
        .iter()
        .map(|(pk, (name, action))| RemoteFolder {
            pk: *pk,
            name: name.clone(),
            action: action.clone(),
            count: model.folder_rules(*pk).len() as u64,
        })
        .collect();
    let managed = case
        .managed
        .iter()
        .map(|(key, pk)| {
            let (name, action) = model.folders[pk].clone();
            let folder = CurrentFolder {
                pk: *pk,
                name,
                action,
                rules: model.folder_rules(*pk).into(),
                adopted: false,
            };
            (key.clone(), folder)
        })
        .collect();
    let unmanaged_rules = case.full.then(|| {
        model
            .rules
            .iter()
            .filter_map(|(hostname, (folder, _))| match folder {
                None => Some((hostname.clone(), Holder::Root)),
                Some(pk) if case.unmanaged.contains(pk) => Some((
                    hostname.clone(),
                    Holder::Folder {
                        pk: *pk,
                        name: model.folders[pk].0.clone(),
                    },
                )),
                Some(_) => None,
            })
            .collect()
    });
    CurrentProfile {
        profile: "p1".into(),
        remote_folders,
        managed,
        unmanaged_rules,
        scratch: case.scratch.clone(),
        parked: Some(
            case.scratch
                .iter()
                .flat_map(|pk| model.folder_rules(*pk))
                .collect(),
        ),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: String::new(),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    }
}

/// Executes the steps, calling `after_each` after every one.
fn execute(
    model: &mut Model,
    managed: &mut BTreeMap<String, FolderPk>,
    steps: &[Step],
    mut after_each: impl FnMut(&Model, &Step),
) {
    let mut scratch = None;
    for step in steps {
        match step {
            Step::CreateFolder { key, name, action } => {
                let pk = model.create_folder(name, action);
                managed.insert(key.clone(), pk);
            }
            Step::UpdateFolder {
                pk, name, action, ..
            } => model.update_folder(*pk, name, action),
            Step::AddRules {
                key,
                action,
                hostnames,
            } => model.post(managed[key], action, hostnames),
            Step::ChangeRules {
                action, hostnames, ..
            } => model.put(None, action, hostnames),
            Step::MoveRules {
                to_key,
                action,
                hostnames,
            } => model.put(Some(managed[to_key]), action, hostnames),
            Step::DeleteRule { hostname } => model.delete_rule(hostname),
            Step::CreateScratch => {
                scratch = Some(model.create_folder("ctrld-sync scratch", &scratch_folder_action()))
            }
            Step::MoveToScratch { hostnames } => {
                model.put(Some(scratch.unwrap()), &parked_rule_action(), hostnames)
            }
            Step::DeleteScratch => model.delete_folder(scratch.take().unwrap()),
            Step::DeleteFolder { key, pk } => {
                model.delete_folder(*pk);
                managed.remove(key);
            }
            Step::DeleteLeftoverScratch { pk } => model.delete_folder(*pk),
            Step::SetFilters { .. }
            | Step::SetService { .. }
            | Step::SetDefault { .. }
            | Step::SetOption { .. } => {
                unreachable!("these cases manage no settings (settings_props.rs models them)")
            }
        }
        after_each(model, step);
    }
}

/// The steps in an order the applier may start them in: each after every step it waits for, the
/// choice among ready steps random.
fn any_allowed_order(steps: &[Step], seed: u64) -> Vec<Step> {
    let waits = order::prerequisites(steps);
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut done = vec![false; steps.len()];
    let mut ordered = Vec::with_capacity(steps.len());
    while ordered.len() < steps.len() {
        let ready: Vec<usize> = (0..steps.len())
            .filter(|&index| !done[index] && waits[index].iter().all(|&before| done[before]))
            .collect();
        let index = *ready.choose(&mut rng).expect("the waits form no cycle");
        done[index] = true;
        ordered.push(steps[index].clone());
    }
    ordered
}

/// Every rule, at every step of applying the plan, against where it started and where it ends.
struct Invariants<'a> {
    before: &'a Model,
    after: &'a Model,
    /// Present before and desired after (leftover scratch folders included).
    kept: &'a BTreeSet<Hostname>,
}

impl Invariants<'_> {
    fn check(&self, now: &Model, step: &Step) {
        for hostname in self.kept {
            let Some((_, action)) = now.rules.get(hostname) else {
                panic!("{hostname} vanished mid-apply after {step:?}");
            };
            let (was, will) = (
                &self.before.rules[hostname].1,
                &self.after.rules[hostname].1,
            );
            assert!(
                action == was || action == will,
                "{hostname} is `{action}` after {step:?}: it was `{was}` and will be `{will}`"
            );
            let acted = self.before.effect(hostname).is_some();
            let acts = self.after.effect(hostname).is_some();
            assert!(
                !(acted && acts) || now.effect(hostname).is_some(),
                "{hostname} stopped acting mid-apply after {step:?}"
            );
        }
        for hostname in self.before.rules.keys() {
            if self.after.rules.contains_key(hostname) {
                continue;
            }
            let effect = now.effect(hostname);
            assert!(
                effect.is_none() || effect == self.before.effect(hostname),
                "removed rule {hostname} acts as `{}` after {step:?}",
                effect.unwrap()
            );
            // Inert by itself, whatever its folder's state: it may outlive a disabled folder.
            if let Some((_, action)) = now.rules.get(hostname) {
                let was = &self.before.rules[hostname].1;
                assert!(
                    action == was || !action.enabled,
                    "removed rule {hostname} is enabled as `{action}` after {step:?}"
                );
            }
        }
    }
}

fn check(seed: u64, size: usize, tight_limit: bool) -> Result<(), TestCaseError> {
    let mut case = generate(seed, size);
    let current = current(&case);
    let mut settings = PlanSettings {
        allow_destroy: true,
        max_rules: 100_000,
        ..PlanSettings::default()
    };
    if tight_limit {
        // Just enough for the final state, so adding first may pass the limit mid-way.
        let probe = plan_profile(&case.desired, &current, &settings).unwrap();
        settings.max_rules = probe.rules_before.max(probe.rules_after);
    }
    let plan = match plan_profile(&case.desired, &current, &settings) {
        Ok(plan) => plan,
        Err(err @ PlanError::RuleLimit { .. }) => panic!("unexpected: {err}"),
        Err(err) => return Err(TestCaseError::fail(err.to_string())),
    };
    // What apply finds destructive in a saved plan, from its steps alone, agrees with the planner.
    let audited = ctrld_sync::plan::audit::destructive_steps(&plan, None, &settings);
    prop_assert_eq!(
        audited.is_empty(),
        plan.destructive.is_empty(),
        "{:?}",
        audited
    );
    let before = case.model.clone();
    case.model.limit = settings.max_rules;
    let kept: BTreeSet<Hostname> = plan
        .target
        .folders
        .values()
        .flat_map(|folder| folder.rules.keys().cloned())
        .filter(|hostname| matches!(before.rules.get(hostname), Some((Some(_), _))))
        .collect();
    // Where every rule ends, then every step checked against it.
    let mut after = case.model.clone();
    execute(
        &mut after,
        &mut case.managed.clone(),
        &plan.steps,
        |_, _| {},
    );
    let invariants = Invariants {
        before: &before,
        after: &after,
        kept: &kept,
    };
    let mut managed = case.managed.clone();
    let steps = any_allowed_order(&plan.steps, seed);
    execute(&mut case.model, &mut managed, &steps, |model, step| {
        invariants.check(model, step)
    });

    // Managed folders are exactly the desired ones, after overlaps.
    let keys: BTreeSet<&String> = managed.keys().collect();
    let wanted: BTreeSet<&String> = plan.target.folders.keys().collect();
    prop_assert_eq!(keys, wanted);
    for (key, target) in &plan.target.folders {
        let pk = managed[key];
        prop_assert_eq!(
            &case.model.folders[&pk],
            &(target.name.clone(), target.action.clone())
        );
        prop_assert_eq!(
            &case.model.folder_rules(pk),
            &target.rules,
            "folder {}",
            key
        );
    }
    // Every unmanaged rule and folder is untouched; no scratch folder is left.
    for (hostname, (place, action)) in &before.rules {
        if place.is_none_or(|pk| case.unmanaged.contains(&pk)) {
            prop_assert_eq!(
                case.model.rules.get(hostname),
                Some(&(*place, action.clone()))
            );
        }
    }
    let mut expected_folders: BTreeSet<FolderPk> = case.unmanaged.clone();
    expected_folders.extend(managed.values().copied());
    prop_assert_eq!(
        case.model.folders.keys().copied().collect::<BTreeSet<_>>(),
        expected_folders
    );
    // Every desired hostname is applied unless it lost an overlap or is held by an unmanaged rule,
    // and the target says which: an overlap exactly when an earlier folder got the hostname.
    for (index, folder) in case.desired.folders.iter().enumerate() {
        let target = &plan.target.folders[&folder.key];
        for hostname in folder.rules.keys() {
            let places = [
                target.rules.contains_key(hostname),
                target.overlapped.contains_key(hostname),
                target.held_by_unmanaged.contains_key(hostname),
            ];
            prop_assert_eq!(places.iter().filter(|placed| **placed).count(), 1);
            let kept_earlier = case.desired.folders[..index].iter().any(|earlier| {
                plan.target.folders[&earlier.key]
                    .rules
                    .contains_key(hostname)
            });
            prop_assert_eq!(target.overlapped.contains_key(hostname), kept_earlier);
        }
    }
    // The model counted exactly the writes the plan estimated.
    let mut estimated = plan.estimate.by_method.clone();
    if let Some(gets) = estimated.get_mut("GET") {
        *gets -= 1;
    }
    estimated.retain(|_, n| *n > 0);
    let counted: BTreeMap<String, u64> = case
        .model
        .calls
        .iter()
        .map(|(m, n)| (m.to_string(), *n))
        .collect();
    prop_assert_eq!(counted, estimated);
    // Removals from kept folders take the cheaper strategy: k deletes or ceil(k/500) + 2.
    let removed: usize = plan
        .folders
        .iter()
        .filter(|folder| folder.kind != ctrld_sync::plan::FolderChangeKind::Delete)
        .map(|folder| folder.remove.len())
        .sum();
    let removal_requests = plan
        .steps
        .iter()
        .filter(|step| {
            matches!(
                step,
                Step::DeleteRule { .. }
                    | Step::CreateScratch
                    | Step::MoveToScratch { .. }
                    | Step::DeleteScratch
            )
        })
        .count();
    prop_assert_eq!(removal_requests, removed.min(removed.div_ceil(500) + 2));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn small_profiles(seed in any::<u64>(), size in 1usize..40) {
        check(seed, size, false)?;
    }

    #[test]
    fn near_the_rule_limit(seed in any::<u64>(), size in 1usize..40) {
        check(seed, size, true)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Big enough for several 500-hostname requests per group and scratch-folder removals.
    #[test]
    fn large_profiles(seed in any::<u64>(), size in 1000usize..3000) {
        check(seed, size, seed % 2 == 0)?;
    }
}

#[test]
fn planning_twice_gives_identical_plans() {
    for seed in 0..20 {
        let case = generate(seed, 60);
        let settings = PlanSettings {
            allow_destroy: true,
            ..PlanSettings::default()
        };
        let first = plan_profile(&case.desired, &current(&case), &settings).unwrap();
        let second = plan_profile(&case.desired, &current(&case), &settings).unwrap();
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&second).unwrap()
        );
        assert_eq!(first.target, second.target);
    }
}
