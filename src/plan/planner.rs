//! Desired + current -> [`ProfilePlan`]. Pure: no I/O, no clock, no randomness.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

// Keyed by hostname, filled once per profile and looked up once per rule: foldhash (randomly
// seeded) instead of SipHash, which was the largest single cost of planning an unchanged profile.
use foldhash::{HashMap, HashMapExt};

use super::cost::{scratch_is_cheaper, Estimate};
use super::current::{CurrentProfile, Holder};
use super::error::PlanError;
use super::types::*;
use super::SCRATCH_PREFIX;
use crate::model::MAX_HOSTNAMES_PER_REQUEST;
use crate::model::{DesiredProfile, FolderPk, Hostname, RuleAction, SettingsRecord};

/// The knobs the planner honours (from `[safety]`, the CLI and the API's limit).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSettings {
    /// A folder (with at least `min_rules`) losing more than this percentage of its rules is destructive.
    pub max_delete_percent: f64,
    pub min_rules: usize,
    /// `--allow-destroy` or config `allow_destroy`.
    pub allow_destroy: bool,
    /// Rules per profile (Control D: 10,000).
    pub max_rules: usize,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            max_delete_percent: 30.0,
            min_rules: 10,
            allow_destroy: false,
            max_rules: super::MAX_RULES_PER_PROFILE,
        }
    }
}

/// Plans every profile; the first profile that cannot be planned stops it (nothing is sent anyway).
pub fn plan<'a>(
    profiles: impl IntoIterator<Item = (&'a DesiredProfile, &'a CurrentProfile)>,
    settings: &PlanSettings,
) -> Result<Plan, PlanError> {
    let profiles: Vec<_> = profiles.into_iter().collect();
    let mut plans = Vec::with_capacity(profiles.len());
    let mut offenses = Vec::new();
    for result in plan_all(&profiles, settings) {
        match result {
            Ok(plan) => plans.push(plan),
            Err(PlanError::Destructive { offenses: found }) => offenses.extend(found),
            Err(err) => return Err(err),
        }
    }
    if !offenses.is_empty() {
        return Err(PlanError::Destructive { offenses });
    }
    Ok(Plan::new(plans))
}

/// Plans each profile, spread over the available cores (profiles are independent); the results
/// keep the input order.
fn plan_all(
    profiles: &[(&DesiredProfile, &CurrentProfile)],
    settings: &PlanSettings,
) -> Vec<Result<ProfilePlan, PlanError>> {
    let plan_each = |part: &[(&DesiredProfile, &CurrentProfile)]| -> Vec<_> {
        part.iter()
            .map(|(desired, current)| plan_profile(desired, current, settings))
            .collect()
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(profiles.len());
    if workers <= 1 {
        return plan_each(profiles);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = profiles
            .chunks(profiles.len().div_ceil(workers))
            .map(|part| scope.spawn(move || plan_each(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Plans one profile. `current.managed` holds every managed folder that exists (state keys and
/// adopted ones); a managed key the config no longer lists is deleted.
pub fn plan_profile(
    desired: &DesiredProfile,
    current: &CurrentProfile,
    settings: &PlanSettings,
) -> Result<ProfilePlan, PlanError> {
    refuse_duplicate_names(desired)?;
    let (desired, mut notes) = super::settle::settle_unremovable(desired, current);
    notes.extend(current.notes.iter().cloned());
    let desired = desired.as_ref();
    let resolved = resolve(desired, current);
    let folders = folder_changes(desired, current, &resolved);
    let (setting_changes, setting_steps) =
        super::settings::plan_settings(&desired.settings, &current.settings);
    let mut destructive = destructive_changes(&desired.id, current, &folders, settings);
    destructive.extend(
        setting_changes
            .iter()
            .filter(|change| change.lowers_protection)
            .map(|change| change.offense(&desired.id)),
    );
    if !settings.allow_destroy && !destructive.is_empty() {
        return Err(PlanError::Destructive {
            offenses: destructive,
        });
    }
    let counts = count_rules(current, &resolved, &folders);
    if counts.after > settings.max_rules {
        return Err(PlanError::RuleLimit {
            profile: desired.id.clone(),
            after: counts.after,
            managed: counts.after - counts.unmanaged,
            unmanaged: counts.unmanaged,
            limit: settings.max_rules,
        });
    }
    let removals_first = counts.peak_adding_first > settings.max_rules;
    let mut steps = build_steps(current, &folders, removals_first);
    steps.extend(setting_steps);
    let mut estimate = Estimate::of_steps(current.reads, &steps);
    if !desired.settings.is_empty() && !steps.is_empty() {
        estimate.add_profile_list();
    }
    let mut target = target(desired, current, &resolved);
    target.settings = (!desired.settings.is_empty()).then(|| SettingsRecord {
        mark: current.settings_mark.clone(),
        managed: desired.settings.keys(),
        values: super::settings::settings_after(&desired.settings, &current.settings),
    });
    Ok(ProfilePlan {
        profile: desired.id.clone(),
        target: Arc::new(target),
        folders,
        steps,
        overlaps: resolved.overlaps,
        unmanaged_skipped: resolved.skipped,
        duplicates: current.duplicates.clone(),
        identities: current.identities.clone(),
        removals_first,
        destructive,
        rules_before: counts.before,
        rules_after: counts.after,
        estimate,
        notes,
        settings: setting_changes,
        manages_settings: !desired.settings.is_empty(),
    })
}

/// Folders are found and adopted by name: two managed folders of one profile may not share one
/// (the config check catches names written there; this catches names taken from sources).
fn refuse_duplicate_names(desired: &DesiredProfile) -> Result<(), PlanError> {
    let mut first_by_name: HashMap<&str, &str> = HashMap::new();
    for folder in &desired.folders {
        if let Some(first) = first_by_name.insert(&folder.name, &folder.key) {
            return Err(PlanError::DuplicateFolderName {
                profile: desired.id.clone(),
                first: first.to_string(),
                second: folder.key.clone(),
                name: crate::quote::sanitize(&folder.name),
            });
        }
    }
    Ok(())
}

/// A desired rule, borrowed from the config.
type Rule<'a> = (&'a Hostname, &'a RuleAction);

/// The desired rules after overlaps and unmanaged hostnames are taken out. Borrows the desired
/// profile: rules are copied once, into the plan's target.
struct Resolved<'a> {
    /// Per desired folder (config order): the rules it gets, sorted by hostname.
    rules: Vec<Vec<Rule<'a>>>,
    /// Per desired folder: listed by its source but kept by an earlier folder, sorted by hostname.
    overlapped: Vec<Vec<Rule<'a>>>,
    /// Per desired folder: listed by its source but held by an unmanaged rule, sorted by hostname.
    held_by_unmanaged: Vec<Vec<Rule<'a>>>,
    /// hostname -> index of the folder that gets it.
    owner: HashMap<&'a str, usize>,
    overlaps: Vec<Overlap>,
    skipped: Vec<UnmanagedSkip>,
}

/// Walks folders in config order: the first folder listing a hostname keeps it; hostnames held by
/// unmanaged rules (when known) are skipped.
fn resolve<'a>(desired: &'a DesiredProfile, current: &CurrentProfile) -> Resolved<'a> {
    let listed = desired.folders.iter().map(|f| f.rules.len()).sum();
    let mut resolved = Resolved {
        rules: Vec::with_capacity(desired.folders.len()),
        overlapped: Vec::with_capacity(desired.folders.len()),
        held_by_unmanaged: Vec::with_capacity(desired.folders.len()),
        owner: HashMap::with_capacity(listed),
        overlaps: Vec::new(),
        skipped: Vec::new(),
    };
    for (index, folder) in desired.folders.iter().enumerate() {
        let mut rules = Vec::with_capacity(folder.rules.len());
        let (mut overlapped, mut held) = (Vec::new(), Vec::new());
        for (hostname, action) in folder.rules.iter() {
            if let Some(&winner) = resolved.owner.get(&**hostname) {
                resolved.overlaps.push(Overlap {
                    hostname: hostname.clone(),
                    kept_by: desired.folders[winner].key.clone(),
                    dropped_from: folder.key.clone(),
                });
                overlapped.push((hostname, action));
            } else if let Some(holder) = unmanaged_holder(current, hostname) {
                resolved.skipped.push(UnmanagedSkip {
                    hostname: hostname.clone(),
                    key: folder.key.clone(),
                    held_by: holder.clone(),
                });
                held.push((hostname, action));
            } else {
                resolved.owner.insert(hostname, index);
                rules.push((hostname, action));
            }
        }
        resolved.rules.push(rules);
        resolved.overlapped.push(overlapped);
        resolved.held_by_unmanaged.push(held);
    }
    resolved
}

fn unmanaged_holder<'a>(current: &'a CurrentProfile, hostname: &str) -> Option<&'a Holder> {
    current.unmanaged_rules.as_ref()?.get(hostname)
}

/// Where each managed hostname is now: hostname -> (config key, action). A hostname parked in a
/// leftover scratch folder is located there (as [`SCRATCH_PREFIX`]), so a desired one is moved out
/// of it rather than deleted with the folder and added again.
fn locate(current: &CurrentProfile) -> HashMap<&str, (&str, &RuleAction)> {
    let held = current.managed.values().map(|f| f.rules.len()).sum();
    let mut located = HashMap::with_capacity(held);
    for (hostname, action) in current.parked.iter().flatten() {
        located.insert(&**hostname, (SCRATCH_PREFIX, action));
    }
    for (key, folder) in &current.managed {
        for (hostname, action) in folder.rules.iter() {
            located.insert(&**hostname, (key.as_str(), action));
        }
    }
    located
}

fn folder_changes(
    desired: &DesiredProfile,
    current: &CurrentProfile,
    resolved: &Resolved,
) -> Vec<FolderChange> {
    let located = locate(current);
    let mut changes = Vec::new();
    for (index, folder) in desired.folders.iter().enumerate() {
        let existing = current.managed.get(&folder.key);
        let kind = match existing {
            None => FolderChangeKind::Create,
            Some(now) if now.name != folder.name || now.action != folder.action => {
                FolderChangeKind::Update {
                    from_name: now.name.clone(),
                    from_action: now.action.clone(),
                }
            }
            Some(_) => FolderChangeKind::Keep,
        };
        let placed = Placed::of(&folder.key, &resolved.rules[index], &located);
        changes.push(FolderChange {
            key: folder.key.clone(),
            name: folder.name.clone(),
            pk: existing.map(|now| now.pk),
            action: folder.action.clone(),
            kind,
            adopted: existing.is_some_and(|now| now.adopted),
            add: placed.add.into_iter().collect(),
            change: placed.change.into_iter().collect(),
            move_in: placed.move_in.into_iter().collect(),
            remove: existing
                .map_or_else(BTreeMap::new, |now| removals(&now.rules, &resolved.owner)),
            unchanged: placed.unchanged,
        });
    }
    let desired_keys: BTreeSet<&str> = desired.folders.iter().map(|f| f.key.as_str()).collect();
    for (key, now) in &current.managed {
        if desired_keys.contains(key.as_str()) {
            continue;
        }
        changes.push(FolderChange {
            key: key.clone(),
            name: now.name.clone(),
            pk: Some(now.pk),
            action: now.action.clone(),
            kind: FolderChangeKind::Delete,
            adopted: now.adopted,
            add: BTreeMap::new(),
            change: BTreeMap::new(),
            move_in: BTreeMap::new(),
            remove: removals(&now.rules, &resolved.owner),
            unchanged: 0,
        });
    }
    changes
}

/// A desired folder's rules sorted into what happens to them, each list in hostname order.
#[derive(Default)]
struct Placed {
    add: Vec<(Hostname, RuleAction)>,
    change: Vec<(Hostname, ActionChange)>,
    move_in: Vec<(Hostname, MoveIn)>,
    unchanged: usize,
}

impl Placed {
    fn of(key: &str, rules: &[Rule], located: &HashMap<&str, (&str, &RuleAction)>) -> Self {
        let mut placed = Self::default();
        for &(hostname, action) in rules {
            placed.place(key, located.get(&**hostname), hostname, action);
        }
        placed
    }

    /// Decides for one desired rule: nothing, change its action, move it here, or add it.
    fn place(
        &mut self,
        key: &str,
        now: Option<&(&str, &RuleAction)>,
        hostname: &Hostname,
        action: &RuleAction,
    ) {
        match now {
            Some(&(from_key, from)) if from_key == key => {
                if from == action {
                    self.unchanged += 1;
                } else {
                    let update = ActionChange {
                        from: from.clone(),
                        to: action.clone(),
                    };
                    self.change.push((hostname.clone(), update));
                }
            }
            Some(&(from_key, from)) => {
                let moved = MoveIn {
                    from_key: from_key.to_string(),
                    from_action: from.clone(),
                    action: action.clone(),
                };
                self.move_in.push((hostname.clone(), moved));
            }
            None => self.add.push((hostname.clone(), action.clone())),
        }
    }
}

/// The folder's rules that no desired folder gets.
fn removals(
    rules: &BTreeMap<Hostname, RuleAction>,
    owner: &HashMap<&str, usize>,
) -> BTreeMap<Hostname, RuleAction> {
    rules
        .iter()
        .filter(|(hostname, _)| !owner.contains_key(&***hostname))
        .map(|(hostname, action)| (hostname.clone(), action.clone()))
        .collect()
}

/// Deleting a managed folder, or removing too large a share of one: each needs `allow_destroy`.
fn destructive_changes(
    profile: &str,
    current: &CurrentProfile,
    folders: &[FolderChange],
    settings: &PlanSettings,
) -> Vec<String> {
    let mut offenses = Vec::new();
    for folder in folders {
        let Some(now) = current.managed.get(&folder.key) else {
            continue;
        };
        let held = now.rules.len();
        let removed = folder.remove.len();
        if folder.kind == FolderChangeKind::Delete {
            offenses.push(format!(
                "profile {profile}: folder `{}` (\"{}\", PK {}) would be deleted; {removed} of its {held} rules \
                 would be removed with it",
                folder.key, now.name, now.pk
            ));
        } else if exceeds_delete_share(removed, held, settings) {
            offenses.push(format!(
                "profile {profile}: folder `{}` (\"{}\") would lose {removed} of its {held} rules ({:.1}%), \
                 over max_delete_percent = {}",
                folder.key,
                now.name,
                removed as f64 * 100.0 / held as f64,
                settings.max_delete_percent
            ));
        }
    }
    offenses
}

/// Removing `removed` of a folder's `held` rules passes `max_delete_percent` (for a folder of at
/// least `min_rules`).
pub(super) fn exceeds_delete_share(removed: usize, held: usize, settings: &PlanSettings) -> bool {
    held >= settings.min_rules && removed as f64 * 100.0 > settings.max_delete_percent * held as f64
}

struct RuleCounts {
    before: usize,
    after: usize,
    unmanaged: usize,
    /// The most the profile holds mid-apply if additions go before removals.
    peak_adding_first: usize,
}

/// Known totals: managed rules, plus unmanaged folders' counts, plus the root when known, plus
/// rules parked in leftover scratch folders (those moved out of them count as managed).
fn count_rules(
    current: &CurrentProfile,
    resolved: &Resolved,
    folders: &[FolderChange],
) -> RuleCounts {
    let managed_pks: BTreeSet<FolderPk> = current.managed.values().map(|f| f.pk).collect();
    let scratch: BTreeSet<FolderPk> = current.scratch.iter().copied().collect();
    let mut unmanaged = 0;
    let mut leftover_counted = 0;
    for folder in &current.remote_folders {
        if scratch.contains(&folder.pk) {
            leftover_counted += folder.count as usize;
        } else if !managed_pks.contains(&folder.pk) {
            unmanaged += folder.count as usize;
        }
    }
    if let Some(rules) = &current.unmanaged_rules {
        unmanaged += rules.values().filter(|h| **h == Holder::Root).count();
    }
    // Whether a folder's `count` includes disabled rules is unknown, and parked rules are
    // disabled: when they were read, their number is the true one.
    let (leftover, parked_kept) = match &current.parked {
        Some(parked) => (
            parked.len(),
            parked
                .keys()
                .filter(|h| resolved.owner.contains_key(&***h))
                .count(),
        ),
        None => (leftover_counted, 0),
    };
    // Leftover scratch folders are deleted only when their rules were read.
    let dropped_with_leftovers = if current.parked.is_some() {
        leftover - parked_kept
    } else {
        0
    };
    let managed_now: usize = current.managed.values().map(|f| f.rules.len()).sum();
    let managed_after: usize = resolved.rules.iter().map(Vec::len).sum();
    let added: usize = folders.iter().map(|f| f.add.len()).sum();
    let before = managed_now + unmanaged + leftover;
    let still_parked = leftover - parked_kept - dropped_with_leftovers;
    RuleCounts {
        before,
        after: managed_after + unmanaged + still_parked,
        unmanaged: unmanaged + still_parked,
        peak_adding_first: before - dropped_with_leftovers + added,
    }
}

/// The ordered writes: what every rule does changes at most once, from what it did to what it
/// will do (a rule's action and status, and its folder's status), and rules that stay are never
/// absent.
///
/// 1. Folders are created, and updated where their status does not flip.
/// 2. Folders being enabled: first their rules' action changes and removals (still inert), then
///    the enable.
/// 3. Moves (desired rules parked in a leftover scratch folder move out too) and action changes,
///    into folders not being disabled.
/// 4. Folders being disabled, once the rules leaving them have moved; then the moves and changes
///    into them (a rule going there goes straight to inert).
/// 5. Leftover scratch folders are deleted with what is left in them; additions; removals;
///    folder deletes last. Near the rule limit, removals and deletes go before additions.
fn build_steps(
    current: &CurrentProfile,
    folders: &[FolderChange],
    removals_first: bool,
) -> Vec<Step> {
    use StatusFlip::{Disables, Enables, Keeps};
    let mut steps = folder_steps(folders, Keeps);
    let enabling = || folders.iter().filter(|f| status_flip(f) == Enables);
    steps.extend(move_and_change_steps(
        enabling().map(|f| (f, Only::Changes)),
    ));
    let (early_removals, late_removals) = removal_steps(folders);
    steps.extend(early_removals);
    steps.extend(folder_steps(folders, Enables));
    steps.extend(move_and_change_steps(folders.iter().filter_map(
        |f| match status_flip(f) {
            Keeps => Some((f, Only::Both)),
            Enables => Some((f, Only::Moves)),
            Disables => None,
        },
    )));
    steps.extend(folder_steps(folders, Disables));
    let disabling = folders.iter().filter(|f| status_flip(f) == Disables);
    steps.extend(move_and_change_steps(disabling.map(|f| (f, Only::Both))));
    steps.extend(leftover_scratch_steps(current));
    let additions = add_steps(folders);
    let mut removals = late_removals;
    removals.extend(delete_steps(folders));
    if removals_first {
        steps.extend(removals);
        steps.extend(additions);
    } else {
        steps.extend(additions);
        steps.extend(removals);
    }
    steps
}

/// Deleting a leftover scratch folder takes its rules with it: only done when they were read
/// (so desired ones among them were moved out first).
fn leftover_scratch_steps(current: &CurrentProfile) -> Vec<Step> {
    if current.parked.is_none() {
        return Vec::new();
    }
    current
        .scratch
        .iter()
        .map(|&pk| Step::DeleteLeftoverScratch { pk })
        .collect()
}

/// Whether an existing folder's update turns it on or off (its rules act only while it is on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusFlip {
    Keeps,
    Enables,
    Disables,
}

fn status_flip(folder: &FolderChange) -> StatusFlip {
    match &folder.kind {
        FolderChangeKind::Update { from_action, .. }
            if from_action.enabled != folder.action.enabled =>
        {
            if folder.action.enabled {
                StatusFlip::Enables
            } else {
                StatusFlip::Disables
            }
        }
        _ => StatusFlip::Keeps,
    }
}

/// `Keeps`: folder creates and the updates that keep the folder's status; otherwise the updates
/// that flip it that way.
fn folder_steps(folders: &[FolderChange], flip: StatusFlip) -> Vec<Step> {
    let creates = folders.iter().filter_map(|folder| match folder.kind {
        FolderChangeKind::Create if flip == StatusFlip::Keeps => Some(Step::CreateFolder {
            key: folder.key.clone(),
            name: folder.name.clone(),
            action: folder.action.clone(),
        }),
        _ => None,
    });
    let updates = folders
        .iter()
        .filter_map(|folder| match (&folder.kind, folder.pk) {
            (FolderChangeKind::Update { .. }, Some(pk)) if status_flip(folder) == flip => {
                Some(Step::UpdateFolder {
                    key: folder.key.clone(),
                    pk,
                    name: folder.name.clone(),
                    action: folder.action.clone(),
                })
            }
            _ => None,
        });
    creates.chain(updates).collect()
}

/// Which of a folder's rule PUTs [`move_and_change_steps`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    Moves,
    Changes,
    Both,
}

/// One PUT with `group` both moves rules into a folder and sets their action, and setting `group`
/// to the folder a rule is already in is harmless, so per (folder, action) the action changes ride
/// along with the moves; only changes with no move of the same action get a `PUT` of their own.
fn move_and_change_steps<'a>(
    folders: impl IntoIterator<Item = (&'a FolderChange, Only)>,
) -> Vec<Step> {
    let mut moves_steps = Vec::new();
    let mut change_steps = Vec::new();
    for (folder, only) in folders {
        let moved = folder.move_in.iter().filter(|_| only != Only::Changes);
        let changed = folder.change.iter().filter(|_| only != Only::Moves);
        let mut moves = group_by_action(moved.map(|(h, m)| (h, &m.action)));
        let changes = group_by_action(changed.map(|(h, c)| (h, &c.to)));
        for (action, hostnames) in changes {
            match moves.get_mut(action) {
                Some(moving) => {
                    moving.extend(hostnames);
                    moving.sort_unstable();
                }
                None => change_steps.extend(chunks(hostnames).map(|hostnames| Step::ChangeRules {
                    key: folder.key.clone(),
                    action: action.clone(),
                    hostnames,
                })),
            }
        }
        for (action, hostnames) in moves {
            moves_steps.extend(chunks(hostnames).map(|hostnames| Step::MoveRules {
                to_key: folder.key.clone(),
                action: action.clone(),
                hostnames,
            }));
        }
    }
    moves_steps.extend(change_steps);
    moves_steps
}

fn add_steps(folders: &[FolderChange]) -> Vec<Step> {
    let mut steps = Vec::new();
    for folder in folders {
        for (action, hostnames) in group_by_action(folder.add.iter()) {
            steps.extend(chunks(hostnames).map(|hostnames| Step::AddRules {
                key: folder.key.clone(),
                action: action.clone(),
                hostnames,
            }));
        }
    }
    steps
}

/// Removals from folders that stay: single deletes or one scratch folder, whichever is fewer requests.
/// Rules of a folder being deleted go with it. Returns the removals that go before folders are
/// enabled (rules leaving a folder about to be enabled: inert until then, so removing them early
/// opens no gap, and they never act), and the rest, which go last.
fn removal_steps(folders: &[FolderChange]) -> (Vec<Step>, Vec<Step>) {
    let mut early: Vec<&Hostname> = Vec::new();
    let mut late: Vec<&Hostname> = Vec::new();
    for folder in folders {
        match (&folder.kind, status_flip(folder)) {
            (FolderChangeKind::Delete, _) => {}
            (_, StatusFlip::Enables) => early.extend(folder.remove.keys()),
            _ => late.extend(folder.remove.keys()),
        }
    }
    early.sort_unstable();
    late.sort_unstable();
    let early_count = early.len();
    let hostnames: Vec<Hostname> = early.into_iter().chain(late).cloned().collect();
    if !scratch_is_cheaper(hostnames.len()) {
        let mut deletes: Vec<Step> = hostnames
            .into_iter()
            .map(|hostname| Step::DeleteRule { hostname })
            .collect();
        let late = deletes.split_off(early_count);
        return (deletes, late);
    }
    // Chunks in order, early hostnames first: as few requests as one sorted list.
    let mut early = vec![Step::CreateScratch];
    let mut late = Vec::new();
    for (index, hostnames) in chunks(hostnames).enumerate() {
        let step = Step::MoveToScratch { hostnames };
        if index * MAX_HOSTNAMES_PER_REQUEST < early_count {
            early.push(step);
        } else {
            late.push(step);
        }
    }
    late.push(Step::DeleteScratch);
    if early.len() == 1 {
        late.insert(0, early.remove(0));
    }
    (early, late)
}

fn delete_steps(folders: &[FolderChange]) -> Vec<Step> {
    folders
        .iter()
        .filter_map(|folder| match (&folder.kind, folder.pk) {
            (FolderChangeKind::Delete, Some(pk)) => Some(Step::DeleteFolder {
                key: folder.key.clone(),
                pk,
            }),
            _ => None,
        })
        .collect()
}

fn group_by_action<'a>(
    rules: impl Iterator<Item = (&'a Hostname, &'a RuleAction)>,
) -> BTreeMap<&'a RuleAction, Vec<Hostname>> {
    let mut groups: BTreeMap<&RuleAction, Vec<Hostname>> = BTreeMap::new();
    for (hostname, action) in rules {
        groups.entry(action).or_default().push(hostname.clone());
    }
    groups
}

/// Splits sorted hostnames into requests of at most [`MAX_HOSTNAMES_PER_REQUEST`].
fn chunks(hostnames: Vec<Hostname>) -> impl Iterator<Item = Vec<Hostname>> {
    let mut rest = hostnames.into_iter().peekable();
    std::iter::from_fn(move || {
        rest.peek()?;
        Some(rest.by_ref().take(MAX_HOSTNAMES_PER_REQUEST).collect())
    })
}

/// What the state holds after a complete apply.
fn target(
    desired: &DesiredProfile,
    current: &CurrentProfile,
    resolved: &Resolved,
) -> ProfileTarget {
    let folders = desired
        .folders
        .iter()
        .enumerate()
        .map(|(index, folder)| {
            let target = TargetFolder {
                pk: current.managed.get(&folder.key).map(|now| now.pk),
                name: folder.name.clone(),
                action: folder.action.clone(),
                rules: owned(&resolved.rules[index]),
                overlapped: owned(&resolved.overlapped[index]),
                held_by_unmanaged: owned(&resolved.held_by_unmanaged[index]),
                source: folder.source.clone(),
            };
            (folder.key.clone(), target)
        })
        .collect();
    ProfileTarget {
        folders,
        settings: Default::default(),
    }
}

/// Sorted borrowed rules as an owned map (built in bulk, without a search per rule).
fn owned(rules: &[Rule]) -> BTreeMap<Hostname, RuleAction> {
    rules
        .iter()
        .map(|&(hostname, action)| (hostname.clone(), action.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controld::RemoteFolder;
    use crate::model::{ActionKind, DesiredFolder, FolderAction, SourceRecord};
    use crate::plan::CurrentFolder;

    fn hosts(prefix: &str, n: usize) -> BTreeMap<Hostname, RuleAction> {
        (0..n)
            .map(|i| (format!("{prefix}{i}.example").into(), RuleAction::block()))
            .collect()
    }

    fn desired(rules: BTreeMap<Hostname, RuleAction>) -> DesiredProfile {
        DesiredProfile {
            id: "p1".into(),
            settings: Default::default(),
            name: None,
            folders: vec![DesiredFolder {
                key: "ads".into(),
                name: "Ads".into(),
                action: FolderAction::of(ActionKind::Block),
                rules: rules.into(),
                source: SourceRecord {
                    location: "ads.txt".into(),
                    etag: None,
                    last_modified: None,
                    sha256: String::new(),
                    fingerprint: String::new(),
                },
            }],
        }
    }

    /// Folder `ads` (PK 1) with `rules`, and an unmanaged folder of `unmanaged` rules.
    fn current(rules: BTreeMap<Hostname, RuleAction>, unmanaged: u64) -> CurrentProfile {
        let folder = |pk, name: &str, count| RemoteFolder {
            pk: FolderPk::new(pk),
            name: name.into(),
            action: FolderAction::of(ActionKind::Block),
            count,
        };
        let ads = CurrentFolder {
            pk: FolderPk::new(1),
            name: "Ads".into(),
            action: FolderAction::of(ActionKind::Block),
            rules: rules.into(),
            adopted: false,
        };
        CurrentProfile {
            profile: "p1".into(),
            remote_folders: vec![
                folder(1, "Ads", ads.rules.len() as u64),
                folder(50, "Mine", unmanaged),
            ],
            managed: [("ads".to_string(), ads)].into(),
            unmanaged_rules: None,
            scratch: vec![],
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

    #[test]
    fn ending_exactly_at_the_limit_is_allowed_and_peaking_exactly_at_it_adds_first() {
        let settings = PlanSettings {
            max_rules: 10,
            ..PlanSettings::default()
        };
        // 6 + 2 unmanaged now; 2 added: 10 after, and 10 at the peak when adding first.
        let mut wanted = hosts("a", 6);
        wanted.extend(hosts("b", 2));
        let now = current(hosts("a", 6), 2);
        let plan = plan_profile(&desired(wanted), &now, &settings).unwrap();
        assert!(!plan.removals_first);
        // One more is past it.
        let mut wanted = hosts("a", 6);
        wanted.extend(hosts("b", 3));
        let err = plan_profile(&desired(wanted), &now, &settings).unwrap_err();
        assert!(
            matches!(err, PlanError::RuleLimit { after: 11, .. }),
            "{err}"
        );
    }

    #[test]
    fn no_profiles_plan_to_nothing() {
        assert!(plan_all(&[], &PlanSettings::default()).is_empty());
    }

    #[test]
    fn only_an_update_that_turns_the_folder_on_or_off_flips_it() {
        let change = |from_enabled: bool, enabled: bool| FolderChange {
            key: "ads".into(),
            name: "Ads".into(),
            pk: Some(FolderPk::new(1)),
            action: FolderAction {
                enabled,
                ..FolderAction::of(ActionKind::Block)
            },
            kind: FolderChangeKind::Update {
                from_name: "Old".into(),
                from_action: FolderAction {
                    enabled: from_enabled,
                    ..FolderAction::of(ActionKind::Allow)
                },
            },
            adopted: false,
            add: BTreeMap::new(),
            change: BTreeMap::new(),
            move_in: BTreeMap::new(),
            remove: BTreeMap::new(),
            unchanged: 0,
        };
        assert_eq!(status_flip(&change(true, true)), StatusFlip::Keeps);
        assert_eq!(status_flip(&change(false, false)), StatusFlip::Keeps);
        assert_eq!(status_flip(&change(false, true)), StatusFlip::Enables);
        assert_eq!(status_flip(&change(true, false)), StatusFlip::Disables);
    }
}
