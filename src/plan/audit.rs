//! What a saved plan really does, worked out from its steps and the local state file, never from
//! the plan's own `destructive` list: `apply PLANFILE` refuses the destructive changes found here
//! unless `--allow-destroy`.

use std::collections::BTreeMap;

use super::planner::{exceeds_delete_share, PlanSettings};
use super::types::{ProfilePlan, SettingKind, Step};
use crate::model::{ActionKind, CurrentSettings, FolderPk, Hostname, RuleAction};
use crate::state::ProfileState;

/// One sentence per destructive change the steps make: a folder deleted; more than
/// `max_delete_percent` of a managed folder's rules removed; or a removal the plan's folders do not
/// account for, or a "leftover scratch" delete naming a managed folder (a plan edited by hand).
pub fn destructive_steps(
    plan: &ProfilePlan,
    state: Option<&ProfileState>,
    settings: &PlanSettings,
) -> Vec<String> {
    let profile = &plan.profile;
    let mut offenses = Vec::new();
    let mut removed: BTreeMap<String, usize> = BTreeMap::new();
    for step in &plan.steps {
        match step {
            Step::DeleteFolder { key, pk } => offenses.push(format!(
                "profile {profile}: folder `{key}` (PK {pk}) would be deleted with every rule in it"
            )),
            Step::DeleteLeftoverScratch { pk } if is_managed_pk(plan, state, *pk) => {
                offenses.push(format!(
                    "profile {profile}: the plan deletes managed folder PK {pk} as if it were a \
                     leftover scratch folder"
                ))
            }
            Step::DeleteRule { hostname } => {
                count_removal(plan, state, hostname, &mut removed, &mut offenses)
            }
            Step::MoveToScratch { hostnames } => {
                for hostname in hostnames {
                    count_removal(plan, state, hostname, &mut removed, &mut offenses);
                }
            }
            Step::SetFilters { filters } => {
                for switch in filters.iter().filter(|switch| !switch.enabled) {
                    offenses.push(format!(
                        "profile {profile}: filter `{}` would be turned off, lowering protection",
                        switch.name
                    ));
                }
            }
            Step::SetOption {
                option,
                value: None,
            } => offenses.push(format!(
                "profile {profile}: option `{option}` would be turned off, lowering protection"
            )),
            Step::SetService { service, action } => {
                let before = recorded(state, |values| values.services.get(service));
                if lowers(plan, before, action, SettingKind::Service, service) {
                    offenses.push(format!(
                        "profile {profile}: service `{service}` would move away from block, \
                         lowering protection"
                    ));
                }
            }
            Step::SetDefault { action } => {
                let before = recorded(state, |values| values.default.as_ref());
                if lowers(plan, before, action, SettingKind::Default, "default") {
                    offenses.push(format!(
                        "profile {profile}: the default rule would move away from block, \
                         lowering protection"
                    ));
                }
            }
            _ => {}
        }
    }
    for (key, count) in removed {
        let held = held_by(plan, state, &key);
        if exceeds_delete_share(count, held, settings) {
            offenses.push(format!(
                "profile {profile}: folder `{key}` would lose {count} of its {held} rules, over \
                 max_delete_percent = {}",
                settings.max_delete_percent
            ));
        }
    }
    offenses
}

/// A managed setting as the state file records it.
fn recorded<'a>(
    state: Option<&'a ProfileState>,
    pick: impl FnOnce(&'a CurrentSettings) -> Option<&'a RuleAction>,
) -> Option<Option<&'a RuleAction>> {
    let record = state?.settings.as_ref()?;
    Some(pick(&record.values))
}

/// A service or default rule moving from an enabled block to anything else. Judged by the state
/// file's record; a profile whose settings it does not record yet (the first apply) is judged by
/// the plan's own change.
fn lowers(
    plan: &ProfilePlan,
    before: Option<Option<&RuleAction>>,
    after: &RuleAction,
    kind: SettingKind,
    name: &str,
) -> bool {
    let is_block = |action: &RuleAction| action.kind == ActionKind::Block && action.enabled;
    match before {
        Some(before) => before.is_some_and(is_block) && !is_block(after),
        None => plan
            .settings
            .iter()
            .any(|change| change.kind == kind && change.name == name && change.lowers_protection),
    }
}

/// Attributes a removed hostname to the managed folder holding it: per the state file, else per
/// the plan's folder that lists it as removed.
fn count_removal(
    plan: &ProfilePlan,
    state: Option<&ProfileState>,
    hostname: &Hostname,
    removed: &mut BTreeMap<String, usize>,
    offenses: &mut Vec<String>,
) {
    let in_state = state.and_then(|state| {
        state
            .folders
            .iter()
            .find(|(_, folder)| folder.rules.contains_key(hostname))
            .map(|(key, _)| key.clone())
    });
    let in_plan = || {
        plan.folders
            .iter()
            .find(|folder| folder.remove.contains_key(hostname))
            .map(|folder| folder.key.clone())
    };
    match in_state.or_else(in_plan) {
        Some(key) => *removed.entry(key).or_default() += 1,
        None => offenses.push(format!(
            "profile {}: the plan removes {} which no managed folder holds",
            plan.profile,
            crate::quote::quote(hostname)
        )),
    }
}

/// The folder's rules before the apply: the state's count, else what the plan says it holds.
fn held_by(plan: &ProfilePlan, state: Option<&ProfileState>, key: &str) -> usize {
    if let Some(folder) = state.and_then(|state| state.folders.get(key)) {
        return folder.rules.len();
    }
    let moved_out: usize = plan
        .folders
        .iter()
        .flat_map(|folder| folder.move_in.values())
        .filter(|moved| moved.from_key == key)
        .count();
    let staying = plan
        .folders
        .iter()
        .find(|folder| folder.key == key)
        .map_or(0, |folder| {
            folder.unchanged + folder.change.len() + folder.remove.len()
        });
    staying + moved_out
}

fn is_managed_pk(plan: &ProfilePlan, state: Option<&ProfileState>, pk: FolderPk) -> bool {
    let in_state = state.is_some_and(|state| state.folders.values().any(|f| f.pk == pk));
    in_state || plan.folders.iter().any(|folder| folder.pk == Some(pk))
}
