//! Planner rules one by one: safety, the rule limit, moves, the removal strategy, ordering.

use std::collections::BTreeMap;

use ctrld_sync::controld::RemoteFolder;
use ctrld_sync::model::{
    ActionKind, DesiredFolder, DesiredProfile, FolderAction, FolderPk, Hostname, RuleAction,
    SourceRecord,
};
use ctrld_sync::plan::{
    parked_rule_action, plan_profile, CurrentFolder, CurrentProfile, PlanError, PlanSettings,
    ProfilePlan, Step,
};

fn hosts(prefix: &str, n: usize) -> BTreeMap<Hostname, RuleAction> {
    (0..n)
        .map(|i| {
            (
                format!("{prefix}{i:05}.example").parse().unwrap(),
                RuleAction::block(),
            )
        })
        .collect()
}

fn desired(folders: Vec<(&str, BTreeMap<Hostname, RuleAction>)>) -> DesiredProfile {
    DesiredProfile {
        id: "p1".into(),
        settings: Default::default(),
        name: None,
        folders: folders
            .into_iter()
            .map(|(key, rules)| DesiredFolder {
                key: key.into(),
                name: key.to_uppercase(),
                action: FolderAction::of(ActionKind::Block),
                rules: rules.into(),
                source: SourceRecord {
                    location: format!("{key}.txt"),
                    etag: None,
                    last_modified: None,
                    sha256: String::new(),
                    fingerprint: String::new(),
                },
            })
            .collect(),
    }
}

/// Managed folders (key, pk, rules) plus unmanaged folders (pk, count).
fn current(
    managed: Vec<(&str, u64, BTreeMap<Hostname, RuleAction>)>,
    unmanaged: &[(u64, u64)],
) -> CurrentProfile {
    let mut remote_folders: Vec<RemoteFolder> = unmanaged
        .iter()
        .map(|(pk, count)| RemoteFolder {
            pk: FolderPk::new(*pk),
            name: format!("mine {pk}"),
            action: FolderAction::none(),
            count: *count,
        })
        .collect();
    let mut folders = BTreeMap::new();
    for (key, pk, rules) in managed {
        let pk = FolderPk::new(pk);
        remote_folders.push(RemoteFolder {
            pk,
            name: key.to_uppercase(),
            action: FolderAction::of(ActionKind::Block),
            count: rules.len() as u64,
        });
        let folder = CurrentFolder {
            pk,
            name: key.to_uppercase(),
            action: FolderAction::of(ActionKind::Block),
            rules: rules.into(),
            adopted: false,
        };
        folders.insert(key.to_string(), folder);
    }
    CurrentProfile {
        profile: "p1".into(),
        remote_folders,
        managed: folders,
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

fn plan(desired: &DesiredProfile, current: &CurrentProfile) -> Result<ProfilePlan, PlanError> {
    plan_profile(desired, current, &PlanSettings::default())
}

#[test]
fn deleting_a_managed_folder_is_refused_without_allow_destroy() {
    let want = desired(vec![("ads", hosts("a", 3))]);
    let now = current(
        vec![("ads", 1, hosts("a", 3)), ("old", 2, hosts("o", 5))],
        &[],
    );
    let err = plan(&want, &now).unwrap_err().to_string();
    assert!(err.contains("--allow-destroy"), "{err}");
    assert!(
        err.contains("folder `old` (\"OLD\", PK 2) would be deleted; 5 of its 5 rules"),
        "{err}"
    );
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    let plan = plan_profile(&want, &now, &settings).unwrap();
    assert_eq!(
        plan.steps,
        vec![Step::DeleteFolder {
            key: "old".into(),
            pk: FolderPk::new(2)
        }]
    );
    assert_eq!(plan.destructive.len(), 1);
}

#[test]
fn removing_more_than_max_delete_percent_is_refused() {
    let now = current(vec![("ads", 1, hosts("a", 10))], &[]);
    // 4 of 10 (40%) is over 30%.
    let want = desired(vec![("ads", hosts("a", 6))]);
    let err = plan(&want, &now).unwrap_err().to_string();
    assert!(
        err.contains("would lose 4 of its 10 rules (40.0%)"),
        "{err}"
    );
    // 3 of 10 (30%) is not over.
    let want = desired(vec![("ads", hosts("a", 7))]);
    assert!(plan(&want, &now).is_ok());
    // A folder under min_rules (10) may lose everything.
    let small = current(vec![("ads", 1, hosts("a", 9))], &[]);
    let empty = desired(vec![("ads", BTreeMap::new())]);
    assert!(plan(&empty, &small).is_ok());
}

#[test]
fn passing_the_limit_is_an_error_naming_the_numbers() {
    let want = desired(vec![("ads", hosts("a", 9_990))]);
    let now = current(vec![], &[(50, 11)]);
    match plan(&want, &now).unwrap_err() {
        PlanError::RuleLimit {
            profile,
            after,
            managed,
            unmanaged,
            limit,
        } => {
            assert_eq!(
                (profile.as_str(), after, managed, unmanaged, limit),
                ("p1", 10_001, 9_990, 11, 10_000)
            );
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn near_the_limit_removals_go_before_additions() {
    let now = current(vec![("ads", 1, hosts("a", 6_000))], &[(50, 2_000)]);
    let mut wanted = hosts("a", 5_000);
    wanted.extend(hosts("b", 2_900));
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    let plan = plan_profile(&desired(vec![("ads", wanted)]), &now, &settings).unwrap();
    assert!(plan.removals_first);
    let first_add = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::AddRules { .. }))
        .unwrap();
    let last_removal = plan
        .steps
        .iter()
        .rposition(|s| matches!(s, Step::DeleteScratch))
        .unwrap();
    assert!(last_removal < first_add, "{:?}", plan.steps);
    // Far from the limit, additions go first.
    let now = current(vec![("ads", 1, hosts("a", 600))], &[]);
    let mut wanted = hosts("a", 500);
    wanted.extend(hosts("b", 10));
    let plan = plan_profile(&desired(vec![("ads", wanted)]), &now, &settings).unwrap();
    assert!(!plan.removals_first);
    assert!(
        matches!(plan.steps.first(), Some(Step::AddRules { .. })),
        "{:?}",
        plan.steps
    );
}

#[test]
fn a_rule_changing_folder_is_moved_never_deleted_and_recreated() {
    let now = current(
        vec![("ads", 1, hosts("a", 3)), ("more", 2, BTreeMap::new())],
        &[],
    );
    let want = desired(vec![("ads", hosts("a", 2)), ("more", hosts("a", 3))]);
    let plan = plan(&want, &now).unwrap();
    assert_eq!(
        plan.steps,
        vec![Step::MoveRules {
            to_key: "more".into(),
            action: RuleAction::block(),
            hostnames: vec!["a00002.example".parse().unwrap()],
        }]
    );
}

#[test]
fn removals_pick_the_cheaper_strategy() {
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    let now = current(vec![("ads", 1, hosts("a", 1_200))], &[]);
    // 3 removals: 3 single deletes (a tie with the scratch folder's 3 goes to deletes).
    let plan = plan_profile(&desired(vec![("ads", hosts("a", 1_197))]), &now, &settings).unwrap();
    assert_eq!(plan.steps.len(), 3);
    assert!(plan
        .steps
        .iter()
        .all(|s| matches!(s, Step::DeleteRule { .. })));
    // 1,200 removals: create scratch, 3 moves of <= 500, delete scratch.
    let plan = plan_profile(&desired(vec![("ads", BTreeMap::new())]), &now, &settings).unwrap();
    let kinds: Vec<&str> = plan
        .steps
        .iter()
        .map(|s| match s {
            Step::CreateScratch => "create",
            Step::MoveToScratch { hostnames } if hostnames.len() <= 500 => "move",
            Step::DeleteScratch => "delete",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["create", "move", "move", "move", "delete"]);
    assert_eq!(plan.estimate.total, 6, "5 writes and the verification read");
}

#[test]
fn additions_are_grouped_by_action_in_requests_of_at_most_500() {
    let mut wanted = hosts("a", 1_001);
    wanted.insert("allowed.example".parse().unwrap(), RuleAction::allow());
    let plan = plan(&desired(vec![("ads", wanted)]), &current(vec![], &[])).unwrap();
    let sizes: Vec<(String, usize)> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::AddRules {
                action, hostnames, ..
            } => Some((action.to_string(), hostnames.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("block".into(), 500),
            ("block".into(), 500),
            ("block".into(), 1),
            ("allow".into(), 1)
        ]
    );
    assert!(matches!(plan.steps[0], Step::CreateFolder { .. }));
    assert_eq!(
        plan.estimate.by_endpoint["POST /profiles/{profile}/rules"],
        4
    );
    assert_eq!(
        plan.estimate.by_endpoint["GET /profiles/{profile}/groups"],
        1
    );
}

#[test]
fn a_desired_rule_parked_in_a_leftover_scratch_folder_moves_out_before_the_folder_goes() {
    let mut now = current(vec![("ads", 1, hosts("a", 2))], &[(66, 40)]);
    now.scratch = vec![FolderPk::new(66)];
    // 40 parked rules; a00002 is desired again.
    let parked: BTreeMap<Hostname, RuleAction> = hosts("a", 42).into_iter().skip(2).collect();
    let disabled = parked_rule_action();
    now.parked = Some(
        parked
            .keys()
            .map(|h| (h.clone(), disabled.clone()))
            .collect(),
    );
    let plan = plan(&desired(vec![("ads", hosts("a", 3))]), &now).unwrap();
    assert_eq!(
        plan.steps,
        vec![
            Step::MoveRules {
                to_key: "ads".into(),
                action: RuleAction::block(),
                hostnames: vec!["a00002.example".parse().unwrap()],
            },
            Step::DeleteLeftoverScratch {
                pk: FolderPk::new(66)
            },
        ]
    );
    assert_eq!(
        plan.folders[0].move_in["a00002.example"].from_key,
        "ctrld-sync scratch"
    );
    assert_eq!(plan.rules_before, 42);
    assert_eq!(plan.rules_after, 3);
}

#[test]
fn a_leftover_scratch_folder_whose_rules_were_not_read_is_kept() {
    let mut now = current(vec![("ads", 1, hosts("a", 2))], &[(66, 40)]);
    now.scratch = vec![FolderPk::new(66)];
    now.parked = None;
    let plan = plan(&desired(vec![("ads", hosts("a", 3))]), &now).unwrap();
    assert!(
        !plan
            .steps
            .iter()
            .any(|step| matches!(step, Step::DeleteLeftoverScratch { .. })),
        "{:?}",
        plan.steps
    );
    assert_eq!(plan.rules_before, 42);
    assert_eq!(plan.rules_after, 43);
}

#[test]
fn a_folder_is_disabled_only_after_the_rules_leaving_it_have_moved() {
    let now = current(
        vec![("ads", 1, hosts("a", 2)), ("old", 2, hosts("b", 2))],
        &[],
    );
    let mut want = desired(vec![("ads", hosts("a", 2)), ("old", hosts("b", 1))]);
    want.folders[0]
        .rules
        .insert("b00001.example".parse().unwrap(), RuleAction::block());
    want.folders[1].action.enabled = false;
    let plan = plan(&want, &now).unwrap();
    let position = |wanted: fn(&Step) -> bool| plan.steps.iter().position(wanted).unwrap();
    let moved = position(|step| matches!(step, Step::MoveRules { .. }));
    let disabled = position(|step| matches!(step, Step::UpdateFolder { .. }));
    assert!(moved < disabled, "{:?}", plan.steps);
}
