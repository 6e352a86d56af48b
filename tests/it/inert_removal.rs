//! Removal is inert: rules removed through the scratch folder are disabled by the PUT that parks
//! them, in a disabled folder, so a run that stops before the folder is deleted leaves nothing
//! acting; the next run moves a parked hostname that is desired again out of it (never re-adds it).

use crate::apply_support;

use apply_support::*;
use ctrld_sync::plan::{PlanFile, Step, SCRATCH_PREFIX};

const RULES_POST: &str = "POST /profiles/{profile}/rules";

#[test]
fn parked_rules_are_disabled_and_a_desired_one_is_moved_back_out() {
    let mut setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains(
            "ok",
            "Allowed",
            "allow",
            &hosts("ok", 0..20),
        )],
    );
    setup.set_safety("max_delete_percent = 100");
    setup.apply_ok(&[]);

    // A run that stops after parking: the saved plan without its last step (deleting the folder).
    setup.set_folders(vec![FolderSpec::domains(
        "ok",
        "Allowed",
        "allow",
        &hosts("ok", 0..10),
    )]);
    let path = setup.dir.path().join("plan.json");
    assert_success(
        &setup.run(&["plan", "--out", path.to_str().unwrap()]),
        "plan --out",
    );
    let mut file: PlanFile = serde_json::from_str(&read(&path)).unwrap();
    let steps = &mut file.profiles[0].plan.steps;
    let parked = Step::MoveToScratch {
        hostnames: hosts("ok", 10..20)
            .into_iter()
            .map(|host| host.parse().unwrap())
            .collect(),
    };
    assert!(steps.contains(&parked), "{steps:?}");
    assert_eq!(steps.pop(), Some(Step::DeleteScratch));
    file.save(&path).unwrap();
    assert_success(
        &setup.run(&["apply", path.to_str().unwrap()]),
        "apply of the cut plan",
    );

    let dump = setup.emulator.dump();
    let scratch = dump.profiles["p1"]
        .folders
        .iter()
        .find(|folder| folder.name.starts_with(SCRATCH_PREFIX))
        .expect("the scratch folder is left");
    assert_eq!(scratch.action.status, 0, "the scratch folder is disabled");
    assert_eq!(scratch.rules.len(), 10);
    for rule in &scratch.rules {
        assert_eq!(rule.action.status, 0, "{} acts while parked", rule.hostname);
    }

    // The next run wants two of them again: moved out of the leftover folder, which then goes.
    setup.set_folders(vec![FolderSpec::domains(
        "ok",
        "Allowed",
        "allow",
        &hosts("ok", 0..12),
    )]);
    setup.emulator.reset_stats();
    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    let stats = setup.emulator.stats();
    assert_eq!(stats.by_route.get(RULES_POST), None, "re-added: {stats:?}");
    let dump = setup.emulator.dump();
    assert!(dump.profiles["p1"]
        .folders
        .iter()
        .all(|folder| !folder.name.starts_with(SCRATCH_PREFIX)));
}
