//! A write whose answer never arrives (the change made or not) is resolved by reading back within
//! the run that met it: one `apply` converges, never "the next run finishes".

use crate::apply_support;

use apply_support::*;
use controld_emulator::{Behaviour, EmulatorConfig, SameFolderPut};

const CREATE_FOLDER: &str = "POST /profiles/{profile}/groups";
const CREATE_RULES: &str = "POST /profiles/{profile}/rules";
const UPDATE_RULES: &str = "PUT /profiles/{profile}/rules";
const UPDATE_FOLDER: &str = "PUT /profiles/{profile}/groups/{group}";
const DELETE_FOLDER: &str = "DELETE /profiles/{profile}/groups/{group}";
const DELETE_RULE: &str = "DELETE /profiles/{profile}/rules/{hostname}";

fn setup(folders: Vec<FolderSpec>) -> (Setup, FolderDumpKept) {
    let setup = Setup::with_profiles(&["p1"], folders);
    let unmanaged = folder(700, "Mine", &hosts("mine", 0..3));
    preload(&setup.emulator, "p1", vec![unmanaged.clone()], vec![]);
    (setup, FolderDumpKept(unmanaged))
}

/// A person's folder, listed before any folder the tool creates: a read-back that matched any
/// folder it did not know would take this one.
struct FolderDumpKept(controld_emulator::FolderDump);

impl FolderDumpKept {
    fn assert_untouched(&self, setup: &Setup) {
        let dump = setup.emulator.dump();
        let mine = dump.profiles["p1"].folders.iter().find(|f| f.pk == 700);
        assert_eq!(mine, Some(&self.0), "the unmanaged folder untouched");
    }
}

/// Returns what the apply cost, as the emulator counted it.
fn one_apply_converges(setup: &Setup, kept: &FolderDumpKept) -> controld_emulator::Stats {
    let output = setup.run(&["apply"]);
    assert_success(&output, "apply");
    let applied = setup.emulator.stats();
    // What a read-back found was recorded: the counts checked after the writes all match.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("rules, expected"), "{stderr}");
    setup.assert_converged(&["Mine"]);
    kept.assert_untouched(setup);
    // The state knows what the read-backs found: the plan trusts it, at one read.
    setup.emulator.reset_stats();
    assert_eq!(setup.plan_exit_code(), 0, "nothing left for a next run");
    assert_eq!(setup.emulator.stats().total, 1, "one read");
    applied
}

#[test]
fn a_lost_folder_creation_is_read_back_to_the_new_folder_in_the_same_run() {
    let (setup, kept) = setup(vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..30)),
        FolderSpec::domains("allow", "Allowed", "allow", &hosts("allow", 0..10)),
    ]);
    setup.emulator.lose_next_answers(CREATE_FOLDER, 2);
    let stats = one_apply_converges(&setup, &kept);
    let dump = setup.emulator.dump();
    assert_eq!(dump.profiles["p1"].folders.len(), 3, "no folder made twice");
    assert_eq!(stats.faults, 2);
}

#[test]
fn lost_rule_writes_are_read_back_and_finished_in_the_same_run() {
    let (setup, kept) = setup(vec![FolderSpec::domains(
        "ads",
        "Ads",
        "block",
        &hosts("ads", 0..30),
    )]);
    setup.emulator.lose_next_answers(CREATE_RULES, 1);
    let stats = one_apply_converges(&setup, &kept);
    assert_eq!(stats.faults, 1);
    assert_eq!(
        stats.by_route.get(UPDATE_RULES),
        None,
        "found as sent: nothing to change"
    );
}

#[test]
fn every_kind_of_lost_write_is_resolved_in_the_run_that_met_it() {
    let (mut setup, kept) = setup(vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..30)),
        FolderSpec::domains("old", "Old", "block", &hosts("old", 0..5)),
        FolderSpec::domains("allow", "Allowed", "allow", &hosts("allow", 0..10)),
    ]);
    setup.apply_ok(&[]);
    // Renamed, a folder gone, hostnames moved between folders and flipped, new ones added.
    let mut ads = hosts("ads", 5..30);
    ads.extend(hosts("allow", 0..3));
    ads.extend(hosts("fresh", 0..10));
    setup.set_folders(vec![
        FolderSpec::domains("ads", "Ads and more", "block", &ads),
        FolderSpec::domains("allow", "Allowed", "allow", &hosts("allow", 3..10)),
        FolderSpec::domains("new", "New", "allow", &hosts("new", 0..4)),
    ]);
    setup.set_safety("max_delete_percent = 100.0\nallow_destroy = true");
    for route in [
        CREATE_FOLDER,
        CREATE_RULES,
        UPDATE_RULES,
        UPDATE_FOLDER,
        DELETE_FOLDER,
        DELETE_RULE,
    ] {
        setup.emulator.lose_next_answers(route, 1);
    }
    setup.emulator.reset_stats();
    let stats = one_apply_converges(&setup, &kept);
    assert!(stats.faults >= 3, "{stats:?}");
}

/// A POST refused with a 500 (nothing made) leaves the outcome as unknown as a lost answer: the
/// read-back finds nothing and the same run sends it again, once.
#[test]
fn writes_answered_500_and_never_made_are_sent_again_in_the_same_run() {
    let (setup, kept) = setup(vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..30)),
        FolderSpec::domains("allow", "Allowed", "allow", &hosts("allow", 0..10)),
    ]);
    setup.emulator.fail_next_requests(CREATE_FOLDER, 1);
    setup.emulator.fail_next_requests(CREATE_RULES, 2);
    let stats = one_apply_converges(&setup, &kept);
    let dump = setup.emulator.dump();
    assert_eq!(dump.profiles["p1"].folders.len(), 3, "no folder made twice");
    assert_eq!(stats.faults, 3);
    assert_eq!(
        stats.by_route[CREATE_FOLDER], 3,
        "the failed one sent again"
    );
}

/// A refusal is a definite answer: the run fails with it at the first request, reading nothing
/// back and sending nothing again.
fn refused_once(setup: &Setup, route: &str) {
    let output = setup.run(&["apply"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Redirect rules require a paid plan"),
        "the service's refusal is the error: {stderr}"
    );
    assert_eq!(setup.emulator.stats().by_route[route], 1, "sent once");
}

fn write_redirect_config(setup: &Setup, format: &str, file: &str, content: &str) {
    let dir = setup.dir.path();
    std::fs::write(dir.join(file), content).unwrap();
    let folder = match format {
        "domains" => {
            "format = \"domains\"\nname = \"Proxied\"\naction = \"redirect\"\nvia = \"US-NYC\""
        }
        _ => "format = \"controld\"",
    };
    let config = format!(
        "[[profile]]\nid = \"p1\"\nfolders = [\"proxy\"]\n\n[folder.proxy]\npath = \"{file}\"\n{folder}\n"
    );
    std::fs::write(setup.config_path(), config).unwrap();
}

#[test]
fn a_refused_folder_creation_fails_the_run_without_a_read_back() {
    let setup = Setup::with_profiles(&["p1"], vec![]);
    write_redirect_config(&setup, "domains", "proxy.txt", "proxied.example.com\n");
    refused_once(&setup, CREATE_FOLDER);
    assert!(setup.remote_folders("p1").is_empty());
}

#[test]
fn refused_rules_fail_the_run_without_a_read_back_or_a_resolution() {
    let setup = Setup::with_profiles(&["p1"], vec![]);
    let content = serde_json::json!({
        "group": {"group": "Proxied", "action": {"do": 0, "status": 1}},
        "rules": [{"PK": "proxied.example.com", "action": {"do": 3, "status": 1, "via": "US-NYC"}}],
    });
    write_redirect_config(&setup, "controld", "proxy.json", &content.to_string());
    refused_once(&setup, CREATE_RULES);
    assert_eq!(setup.remote_folders("p1")["Proxied"].len(), 0);
}

/// Unknown: a PUT naming the folder some of its rules are already in may be refused (40003); the
/// move is then split (those already there get their action, the others are moved). When the
/// split's move loses its answer, its retry is refused the same way: read back, not failed.
#[test]
fn a_lost_answer_to_a_split_move_is_read_back_where_same_folder_puts_are_refused() {
    let config = EmulatorConfig {
        token: TOKEN.into(),
        profiles: vec!["p1".into()],
        behaviour: Behaviour {
            same_folder_put: SameFolderPut::Refused,
            ..Behaviour::default()
        },
        ..EmulatorConfig::default()
    };
    let trackers = |flipped: bool, moved: usize| {
        let mut rules: Vec<(String, bool)> = hosts("trk", 0..6)
            .into_iter()
            .enumerate()
            .map(|(n, host)| (host, (n % 2 == 0) != flipped))
            .collect();
        rules.extend(hosts("ads", 0..moved).into_iter().map(|host| (host, true)));
        FolderSpec::controld("trackers", "Trackers", &rules)
    };
    let ads = |from| FolderSpec::domains("ads", "Ads", "block", &hosts("ads", from..10));
    let mut setup = Setup::new(config, vec![ads(0), trackers(false, 0)]);
    setup.apply_ok(&[]);
    setup.set_folders(vec![ads(3), trackers(true, 3)]);
    // The move into `trackers` (action changes folded in) is refused and split: the action
    // change, then the move: the run's fourth PUT, whose answer is lost.
    setup.emulator.lose_answer_after(UPDATE_RULES, 3);
    setup.emulator.reset_stats();
    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    assert_eq!(setup.emulator.stats().faults, 1, "the answer was lost");
    assert_eq!(setup.plan_exit_code(), 0, "nothing left for a next run");
}

/// Where same-folder PUTs are refused: `trackers` synced, then changed so that three rules of
/// `ads` move into it, a move it must split (their action changed in place, the others moved).
fn split_move_setup() -> Setup {
    let config = EmulatorConfig {
        token: TOKEN.into(),
        profiles: vec!["p1".into()],
        behaviour: Behaviour {
            same_folder_put: SameFolderPut::Refused,
            ..Behaviour::default()
        },
        ..EmulatorConfig::default()
    };
    let trackers = |flipped: bool, moved: usize| {
        let mut rules: Vec<(String, bool)> = hosts("trk", 0..6)
            .into_iter()
            .enumerate()
            .map(|(n, host)| (host, (n % 2 == 0) != flipped))
            .collect();
        rules.extend(hosts("ads", 0..moved).into_iter().map(|host| (host, true)));
        FolderSpec::controld("trackers", "Trackers", &rules)
    };
    let ads = |from| FolderSpec::domains("ads", "Ads", "block", &hosts("ads", from..10));
    let mut setup = Setup::new(config, vec![ads(0), trackers(false, 0)]);
    setup.apply_ok(&[]);
    setup.set_folders(vec![ads(3), trackers(true, 3)]);
    setup.emulator.reset_stats();
    setup
}

/// Where same-folder PUTs are refused, a move into a folder already holding some of the rules is
/// split (their action changed in place, the others moved): done in the run, nothing read back.
#[test]
fn a_move_refused_where_same_folder_puts_are_refused_is_split_and_done() {
    let setup = split_move_setup();
    let output = setup.run(&["apply"]);
    assert_success(&output, "apply");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("rules, expected"), "{stderr}");
    setup.assert_converged(&[]);
    let stats = setup.emulator.stats();
    assert_eq!(stats.by_route[UPDATE_RULES], 4, "{stats:?}");
}

/// A split move whose target folder is deleted by hand just before the move's PUT arrives: the
/// PUT's 404 fails the run at once; only a 40003 has the folder read again.
#[test]
fn a_split_move_into_a_folder_deleted_meanwhile_fails_without_reading_it_again() {
    let setup = split_move_setup();
    let trackers_pk = setup.folder_pk("p1", "Trackers");
    // The split's move is the run's fourth PUT: the folder is gone when it arrives.
    setup
        .emulator
        .delete_folder_before(UPDATE_RULES, 3, "p1", trackers_pk);
    assert_eq!(setup.run(&["apply"]).status.code(), Some(1));
    let stats = setup.emulator.stats();
    assert_eq!(stats.by_route[UPDATE_RULES], 4, "{stats:?}");
    assert_eq!(
        stats.by_route["GET /profiles/{profile}/rules/{group}"], 1,
        "the split's one read: {stats:?}"
    );
}

/// A move whose PUT fails past its retries (a 500, not the 40003 of a same-folder PUT) fails the
/// run: it is not split.
#[test]
fn a_move_failing_past_its_retries_fails_the_run_and_is_not_split() {
    let ads = |from| FolderSpec::domains("ads", "Ads", "block", &hosts("ads", from..10));
    let trackers = |moved| {
        let mut rules = hosts("trk", 0..6);
        rules.extend(hosts("ads", 0..moved));
        FolderSpec::domains("trackers", "Trackers", "block", &rules)
    };
    let mut setup = Setup::with_profiles(&["p1"], vec![ads(0), trackers(0)]);
    setup.apply_ok(&[]);
    setup.set_folders(vec![ads(3), trackers(3)]);
    // The first attempt and its 5 retries.
    setup.emulator.fail_next_requests(UPDATE_RULES, 6);
    setup.emulator.reset_stats();
    let output = setup.run(&["apply"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("after 6 attempts"), "{stderr}");
    let stats = setup.emulator.stats();
    assert_eq!(stats.by_route[UPDATE_RULES], 6, "{stats:?}");
    assert_eq!(
        stats.by_route.get("GET /profiles/{profile}/rules/{group}"),
        None,
        "{stats:?}"
    );
}

/// The read-back after a lost folder creation takes the folder it did not know: a managed folder
/// still holding the name (renamed only after the creates) is not it.
#[test]
fn a_lost_creation_is_not_matched_to_a_managed_folder_still_holding_the_name() {
    let legacy = |name: &str| FolderSpec::domains("old", name, "block", &hosts("old", 0..5));
    let (mut setup, kept) = setup(vec![legacy("Ads")]);
    setup.apply_ok(&[]);
    let ads = FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..10));
    setup.set_folders(vec![legacy("Legacy"), ads]);
    setup.emulator.lose_next_answers(CREATE_FOLDER, 1);
    setup.emulator.reset_stats();
    let stats = one_apply_converges(&setup, &kept);
    assert_eq!(stats.faults, 1);
}
