//! Desired + current -> [`ProfilePlan`]. Pure: no I/O, no clock, no randomness.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::cost::{scratch_is_cheaper, Estimate};
use super::current::{CurrentProfile, Holder};
use super::error::PlanError;
use super::types::*;
use crate::controld::MAX_HOSTNAMES_PER_REQUEST;
use crate::model::{DesiredProfile, Hostname, RuleAction};

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
    let mut plans = Vec::new();
    let mut offenses = Vec::new();
    for (desired, current) in profiles {
        match plan_profile(desired, current, settings) {
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

/// Plans one profile. `current.managed` holds every managed folder that exists (state keys and
/// adopted ones); a managed key the config no longer lists is deleted.
pub fn plan_profile(
    desired: &DesiredProfile,
    current: &CurrentProfile,
    settings: &PlanSettings,
) -> Result<ProfilePlan, PlanError> {
    let resolved = resolve(desired, current);
    let folders = folder_changes(desired, current, &resolved);
    let destructive = destructive_changes(&desired.id, current, &folders, settings);
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
    let steps = build_steps(current, &folders, removals_first);
    let estimate = Estimate::of_steps(&steps, minimum_requests(current, &folders));
    Ok(ProfilePlan {
        profile: desired.id.clone(),
        target: target(desired, current, &resolved),
        folders,
        steps,
        overlaps: resolved.overlaps,
        unmanaged_skipped: resolved.skipped,
        removals_first,
        destructive,
        rules_before: counts.before,
        rules_after: counts.after,
        estimate,
    })
}

/// The desired rules after overlaps and unmanaged hostnames are taken out.
struct Resolved {
    /// Per desired folder (config order): the rules it gets.
    rules: Vec<BTreeMap<Hostname, RuleAction>>,
    /// Per desired folder: listed by its source but not applied.
    excluded: Vec<BTreeMap<Hostname, RuleAction>>,
    /// hostname -> index of the folder that gets it.
    owner: HashMap<Hostname, usize>,
    overlaps: Vec<Overlap>,
    skipped: Vec<UnmanagedSkip>,
}

/// Walks folders in config order: the first folder listing a hostname keeps it; hostnames held by
/// unmanaged rules (when known) are skipped.
fn resolve(desired: &DesiredProfile, current: &CurrentProfile) -> Resolved {
    let count = desired.folders.len();
    let mut resolved = Resolved {
        rules: vec![BTreeMap::new(); count],
        excluded: vec![BTreeMap::new(); count],
        owner: HashMap::new(),
        overlaps: Vec::new(),
        skipped: Vec::new(),
    };
    for (index, folder) in desired.folders.iter().enumerate() {
        for (hostname, action) in &folder.rules {
            if let Some(&winner) = resolved.owner.get(hostname) {
                resolved.overlaps.push(Overlap {
                    hostname: hostname.clone(),
                    kept_by: desired.folders[winner].key.clone(),
                    dropped_from: folder.key.clone(),
                });
            } else if let Some(holder) = unmanaged_holder(current, hostname) {
                resolved.skipped.push(UnmanagedSkip {
                    hostname: hostname.clone(),
                    key: folder.key.clone(),
                    held_by: holder.clone(),
                });
            } else {
                resolved.owner.insert(hostname.clone(), index);
                resolved.rules[index].insert(hostname.clone(), action.clone());
                continue;
            }
            resolved.excluded[index].insert(hostname.clone(), action.clone());
        }
    }
    resolved
}

fn unmanaged_holder<'a>(current: &'a CurrentProfile, hostname: &str) -> Option<&'a Holder> {
    current.unmanaged_rules.as_ref()?.get(hostname)
}

/// Where each managed hostname is now: hostname -> (config key, action).
fn locate(current: &CurrentProfile) -> HashMap<&str, (&str, &RuleAction)> {
    let mut located = HashMap::new();
    for (key, folder) in &current.managed {
        for (hostname, action) in &folder.rules {
            located.insert(hostname.as_str(), (key.as_str(), action));
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
        let mut change = FolderChange {
            key: folder.key.clone(),
            name: folder.name.clone(),
            pk: existing.map(|now| now.pk),
            action: folder.action.clone(),
            kind,
            adopted: existing.is_some_and(|now| now.adopted),
            add: BTreeMap::new(),
            change: BTreeMap::new(),
            move_in: BTreeMap::new(),
            remove: BTreeMap::new(),
            unchanged: 0,
        };
        for (hostname, action) in &resolved.rules[index] {
            place(&mut change, &located, hostname, action);
        }
        if let Some(now) = existing {
            change.remove = removals(&now.rules, &resolved.owner);
        }
        changes.push(change);
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

/// Decides for one desired rule: nothing, change its action, move it here, or add it.
fn place(
    change: &mut FolderChange,
    located: &HashMap<&str, (&str, &RuleAction)>,
    hostname: &Hostname,
    action: &RuleAction,
) {
    match located.get(hostname.as_str()) {
        Some((key, now)) if *key == change.key => {
            if *now == action {
                change.unchanged += 1;
            } else {
                let update = ActionChange {
                    from: (*now).clone(),
                    to: action.clone(),
                };
                change.change.insert(hostname.clone(), update);
            }
        }
        Some((key, now)) => {
            let moved = MoveIn {
                from_key: key.to_string(),
                from_action: (*now).clone(),
                action: action.clone(),
            };
            change.move_in.insert(hostname.clone(), moved);
        }
        None => {
            change.add.insert(hostname.clone(), action.clone());
        }
    }
}

/// The folder's rules that no desired folder gets.
fn removals(
    rules: &BTreeMap<Hostname, RuleAction>,
    owner: &HashMap<Hostname, usize>,
) -> BTreeMap<Hostname, RuleAction> {
    rules
        .iter()
        .filter(|(hostname, _)| !owner.contains_key(*hostname))
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
        } else if held >= settings.min_rules
            && removed as f64 * 100.0 > settings.max_delete_percent * held as f64
        {
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

struct RuleCounts {
    before: usize,
    after: usize,
    unmanaged: usize,
    /// The most the profile holds mid-apply if additions go before removals.
    peak_adding_first: usize,
}

/// Known totals: managed rules, plus unmanaged folders' counts, plus the root when known.
fn count_rules(
    current: &CurrentProfile,
    resolved: &Resolved,
    folders: &[FolderChange],
) -> RuleCounts {
    let managed_pks: BTreeSet<u64> = current.managed.values().map(|f| f.pk).collect();
    let scratch: BTreeSet<u64> = current.scratch.iter().copied().collect();
    let mut unmanaged = 0;
    let mut leftover = 0;
    for folder in &current.remote_folders {
        if scratch.contains(&folder.pk) {
            leftover += folder.count as usize;
        } else if !managed_pks.contains(&folder.pk) {
            unmanaged += folder.count as usize;
        }
    }
    if let Some(rules) = &current.unmanaged_rules {
        unmanaged += rules.values().filter(|h| **h == Holder::Root).count();
    }
    let managed_now: usize = current.managed.values().map(|f| f.rules.len()).sum();
    let managed_after: usize = resolved.rules.iter().map(BTreeMap::len).sum();
    let added: usize = folders.iter().map(|f| f.add.len()).sum();
    let before = managed_now + unmanaged + leftover;
    RuleCounts {
        before,
        after: managed_after + unmanaged,
        unmanaged,
        peak_adding_first: before - leftover + added,
    }
}

/// The ordered writes. Leftover scratch folders go first (their rules were being removed);
/// then folders are created and updated; then moves, changes and additions; then removals; folder
/// deletes last. Near the rule limit, removals and deletes go before additions.
fn build_steps(
    current: &CurrentProfile,
    folders: &[FolderChange],
    removals_first: bool,
) -> Vec<Step> {
    let mut steps: Vec<Step> = current
        .scratch
        .iter()
        .map(|&pk| Step::DeleteLeftoverScratch { pk })
        .collect();
    steps.extend(folder_steps(folders));
    steps.extend(move_and_change_steps(folders));
    let additions = add_steps(folders);
    let mut removals = removal_steps(folders);
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

fn folder_steps(folders: &[FolderChange]) -> Vec<Step> {
    let creates = folders.iter().filter_map(|folder| match folder.kind {
        FolderChangeKind::Create => Some(Step::CreateFolder {
            key: folder.key.clone(),
            name: folder.name.clone(),
            action: folder.action.clone(),
        }),
        _ => None,
    });
    let updates = folders
        .iter()
        .filter_map(|folder| match (&folder.kind, folder.pk) {
            (FolderChangeKind::Update { .. }, Some(pk)) => Some(Step::UpdateFolder {
                key: folder.key.clone(),
                pk,
                name: folder.name.clone(),
                action: folder.action.clone(),
            }),
            _ => None,
        });
    creates.chain(updates).collect()
}

fn move_and_change_steps(folders: &[FolderChange]) -> Vec<Step> {
    let mut steps = Vec::new();
    for folder in folders {
        let moves = group_by_action(folder.move_in.iter().map(|(h, m)| (h, &m.action)));
        for (action, hostnames) in moves {
            steps.extend(chunks(hostnames).map(|hostnames| Step::MoveRules {
                to_key: folder.key.clone(),
                action: action.clone(),
                hostnames,
            }));
        }
    }
    for folder in folders {
        let changes = group_by_action(folder.change.iter().map(|(h, c)| (h, &c.to)));
        for (action, hostnames) in changes {
            steps.extend(chunks(hostnames).map(|hostnames| Step::ChangeRules {
                key: folder.key.clone(),
                action: action.clone(),
                hostnames,
            }));
        }
    }
    steps
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
/// Rules of a folder being deleted go with it.
fn removal_steps(folders: &[FolderChange]) -> Vec<Step> {
    let hostnames: Vec<Hostname> = folders
        .iter()
        .filter(|folder| folder.kind != FolderChangeKind::Delete)
        .flat_map(|folder| folder.remove.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !scratch_is_cheaper(hostnames.len()) {
        return hostnames
            .into_iter()
            .map(|hostname| Step::DeleteRule { hostname })
            .collect();
    }
    let mut steps = vec![Step::CreateScratch];
    steps.extend(chunks(hostnames).map(|hostnames| Step::MoveToScratch { hostnames }));
    steps.push(Step::DeleteScratch);
    steps
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

/// The lower bound described on [`Estimate::minimum`].
fn minimum_requests(current: &CurrentProfile, folders: &[FolderChange]) -> u64 {
    let per_request = MAX_HOSTNAMES_PER_REQUEST;
    let mut requests = current.scratch.len();
    let mut removed = 0;
    for folder in folders {
        if folder.kind != FolderChangeKind::Keep {
            requests += 1;
        }
        let mut adds: BTreeMap<&RuleAction, usize> = BTreeMap::new();
        let mut puts: BTreeMap<&RuleAction, usize> = BTreeMap::new();
        folder
            .add
            .values()
            .for_each(|a| *adds.entry(a).or_default() += 1);
        folder
            .move_in
            .values()
            .for_each(|m| *puts.entry(&m.action).or_default() += 1);
        folder
            .change
            .values()
            .for_each(|c| *puts.entry(&c.to).or_default() += 1);
        requests += adds
            .values()
            .chain(puts.values())
            .map(|n| n.div_ceil(per_request))
            .sum::<usize>();
        if folder.kind != FolderChangeKind::Delete {
            removed += folder.remove.len();
        }
    }
    let (single, scratch) = super::cost::removal_cost(removed);
    requests += single.min(scratch);
    if requests > 0 {
        requests += 1;
    }
    requests as u64
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
                rules: resolved.rules[index].clone(),
                excluded: resolved.excluded[index].clone(),
                source: folder.source.clone(),
            };
            (folder.key.clone(), target)
        })
        .collect();
    ProfileTarget { folders }
}
