//! Ownership that dashboard edits cannot fool (the real binary against the emulator):
//!
//! - a folder made by hand that took a deleted managed folder's PK (the live service hands PKs out
//!   again) is never renamed, emptied or deleted; the managed folder is created again beside it;
//! - a managed folder renamed by hand is renamed back, its rules kept, when its rules say it is ours;
//! - a hostname kept by a folder that is then deleted in the dashboard goes back to the folders in
//!   config order (the state tells an overlap from a hostname an unmanaged rule holds);
//! - a refused saved plan sends nothing and leaves every state file byte-identical, and a new
//!   sandbox applies the plan it made.

use crate::apply_support;

use std::path::Path;

use apply_support::*;
use controld_emulator::{Dump, FolderDump};

const P: &str = "p1";

fn two_folders() -> Vec<FolderSpec> {
    vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ad", 0..6)),
        FolderSpec::domains("badware", "Badware", "block", &hosts("bad", 0..5)),
    ]
}

/// The profile's folders as the emulator holds them, by PK.
fn remote(setup: &Setup) -> Vec<FolderDump> {
    let dump: Dump = setup.emulator.dump();
    dump.profiles[P].folders.clone()
}

/// A dashboard edit: `edit` changes the profile's folders as a person would.
fn edit_in_dashboard(setup: &Setup, edit: impl FnOnce(&mut Vec<FolderDump>)) {
    let mut dump = setup.emulator.dump();
    edit(&mut dump.profiles.get_mut(P).unwrap().folders);
    setup.emulator.load(dump);
}

/// The managed folder holding the highest PK, as the live service would hand that PK out again.
fn highest(setup: &Setup) -> FolderDump {
    remote(setup).into_iter().max_by_key(|f| f.pk).unwrap()
}

/// `apply` that must succeed, and whose plan estimated every call it made (the identity read
/// included).
fn apply_as_estimated(setup: &Setup) -> String {
    apply_with_args_as_estimated(setup, &[])
}

fn apply_with_args_as_estimated(setup: &Setup, args: &[&str]) -> String {
    let report = setup.dir.path().join("report.json");
    let mut args = args.to_vec();
    args.extend(["--report", report.to_str().unwrap()]);
    let stdout = setup.apply_ok(&args);
    let report: serde_json::Value = serde_json::from_str(&read(&report)).unwrap();
    assert_eq!(
        report["planned_calls"], report["calls"]["total"],
        "{report:#}"
    );
    stdout
}

/// `plan --detailed-exitcode` says nothing changes, at one API call (the folder list).
fn assert_settled(setup: &Setup) {
    setup.emulator.reset_stats();
    let output = setup.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(setup.emulator.stats().total, 1, "one read");
}

#[test]
fn a_folder_made_by_hand_at_a_freed_pk_is_left_alone_and_the_managed_one_made_again() {
    let setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    let freed = highest(&setup);
    let mine = folder(freed.pk, "Mine", &hosts("mine", 0..2));
    edit_in_dashboard(&setup, |folders| {
        folders.retain(|f| f.pk != freed.pk);
        folders.push(mine.clone());
    });

    let plan = setup.run(&["plan"]);
    assert_success(&plan, "plan");
    let key = if freed.name == "Ads" {
        "ads"
    } else {
        "badware"
    };
    let expected = format!(
        "identity: folder PK {} is named `Mine` in Control D, not `{}`, and is not `{key}` (0 of its 2 \
         hostnames are among the {} the state records): left alone; `{key}` is created again",
        freed.pk,
        freed.name,
        freed.rules.len()
    );
    assert!(stdout(&plan).contains(&expected), "{}", stdout(&plan));

    // No --allow-destroy: nothing of the person's is at stake.
    apply_as_estimated(&setup);
    let now = remote(&setup);
    assert!(now.contains(&mine), "the person's folder is byte-identical");
    setup.assert_converged(&["Mine"]);
    assert_settled(&setup);
}

#[test]
fn an_empty_folder_made_by_hand_at_a_freed_pk_is_not_taken_either() {
    let setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    let freed = highest(&setup);
    let empty = folder(freed.pk, "Empty", &[]);
    edit_in_dashboard(&setup, |folders| {
        folders.retain(|f| f.pk != freed.pk);
        folders.push(empty.clone());
    });
    setup.apply_ok(&[]);
    assert!(remote(&setup).contains(&empty));
    setup.assert_converged(&["Empty"]);
    assert_settled(&setup);
}

/// The two folders synced, then `Ads` renamed in the dashboard and its rules edited; returns the
/// setup and the folder as it was synced.
fn synced_then_renamed(
    name: &str,
    edit_rules: impl FnOnce(&mut Vec<controld_emulator::RuleDump>),
) -> (Setup, FolderDump) {
    let setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    let ads = remote(&setup)
        .into_iter()
        .find(|f| f.name == "Ads")
        .unwrap();
    edit_in_dashboard(&setup, |folders| {
        let folder = folders.iter_mut().find(|f| f.pk == ads.pk).unwrap();
        folder.name = name.into();
        edit_rules(&mut folder.rules);
    });
    (setup, ads)
}

#[test]
fn a_managed_folder_renamed_by_hand_is_renamed_back_with_its_rules_kept() {
    // One rule gone, one of the person's added: still clearly the managed folder.
    let (setup, ads) = synced_then_renamed("Ads (renamed)", |rules| {
        rules.pop();
        rules.push(rule("added-by-hand.example"));
    });
    let plan = stdout(&setup.run(&["plan"]));
    assert!(
        plan.contains(&format!(
            "identity: folder PK {} is named `Ads (renamed)` in Control D, not `Ads`: taken as `ads` \
             renamed (5 of its 6 hostnames are among the 6 the state records)",
            ads.pk
        )),
        "{plan}"
    );
    apply_as_estimated(&setup);
    let back = remote(&setup).into_iter().find(|f| f.pk == ads.pk).unwrap();
    assert_eq!(back.name, "Ads", "renamed back in place, not made again");
    setup.assert_converged(&[]);
    assert_settled(&setup);
}

/// A folder at its PK under the name the config now gives it needs no evidence: it is the managed
/// folder, and no identity line is printed.
#[test]
fn a_folder_renamed_by_hand_to_the_configs_new_name_is_taken_without_evidence() {
    let (mut setup, _) = synced_then_renamed("Ads 2", |_| {});
    let mut folders = two_folders();
    folders[0] = FolderSpec::domains("ads", "Ads 2", "block", &hosts("ad", 0..6));
    setup.set_folders(folders);
    let output = setup.run(&["plan", "--detailed-exitcode"]);
    let plan = stdout(&output);
    assert!(!plan.contains("identity:"), "{plan}");
    assert_eq!(output.status.code(), Some(0), "{plan}");
}

/// `--refresh full` reads a folder judged not ours once: the identity read serves as its read.
#[test]
fn a_full_refresh_reads_a_folder_judged_not_ours_once() {
    let (setup, _) = synced_then_renamed("Kept half", |rules| rules.truncate(3));
    setup.emulator.reset_stats();
    let output = setup.run(&["plan", "--refresh", "full"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stats = setup.emulator.stats();
    // The folder list, the root, the renamed folder and the other managed folder: once each.
    assert_eq!(
        stats.by_route["GET /profiles/{profile}/rules/{group}"], 2,
        "{stats:?}"
    );
    assert_eq!(stats.total, 4, "{stats:?}");
}

/// The folder at a managed folder's PK, judged not ours, can still be another desired folder's,
/// adopted by its name: its hostnames are then managed, not held by someone else's folder.
#[test]
fn a_folder_judged_not_ours_and_adopted_by_another_folders_name_is_managed() {
    let setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    // `Badware` deleted by hand, and `Ads` made into it: renamed, and given Badware's rules.
    edit_in_dashboard(&setup, |folders| {
        folders.retain(|f| f.name != "Badware");
        let ads = folders.iter_mut().find(|f| f.name == "Ads").unwrap();
        ads.name = "Badware".into();
        ads.rules = hosts("bad", 0..5).iter().map(|h| rule(h)).collect();
    });
    let plan = stdout(&setup.run(&["plan"]));
    assert!(plan.contains("and is not `ads`"), "{plan}");
    assert!(!plan.contains("held by"), "{plan}");
    apply_as_estimated(&setup);
    setup.assert_converged(&[]);
    assert_settled(&setup);
}

/// The other side of the rule: a renamed folder that kept only half of what the state records is
/// not taken as ours. Its rules stay where the person left them; the managed folder is made again
/// without the hostnames that folder holds.
#[test]
fn a_renamed_folder_holding_only_half_of_the_record_is_left_alone() {
    let (setup, ads) = synced_then_renamed("Kept half", |rules| rules.truncate(3));
    let kept_half = remote(&setup).into_iter().find(|f| f.pk == ads.pk).unwrap();
    let plan = stdout(&setup.run(&["plan"]));
    assert!(
        plan.contains("and is not `ads` (3 of its 3 hostnames are among the 6"),
        "{plan}"
    );
    // Its hostnames are known to be held (read once): skipped, not sent and refused.
    apply_as_estimated(&setup);
    assert!(remote(&setup).contains(&kept_half));
    let ads_now = remote(&setup)
        .into_iter()
        .find(|f| f.name == "Ads")
        .unwrap();
    assert_eq!(
        ads_now.rules.len(),
        3,
        "the three the person's folder holds are left there"
    );
    assert_settled(&setup);
}

#[test]
fn a_hostname_kept_by_a_folder_deleted_by_hand_comes_back() {
    let mut ads = hosts("ad", 0..4);
    ads.push("shared.example.com".into());
    let mut badware = hosts("bad", 0..4);
    badware.push("shared.example.com".into());
    let setup = Setup::with_profiles(
        &[P],
        vec![
            FolderSpec::domains("ads", "Ads", "block", &ads),
            FolderSpec::domains("badware", "Badware", "block", &badware),
        ],
    );
    setup.apply_ok(&[]);
    let state = read(&setup.state_file(P));
    assert!(
        state.contains("\"overlapped\": {\n        \"shared.example.com\": \"block\""),
        "the state says why badware lacks it: {state}"
    );
    assert!(!state.contains("held_by_unmanaged"), "{state}");

    edit_in_dashboard(&setup, |folders| folders.retain(|f| f.name != "Ads"));
    let applied = setup.apply_ok(&[]);
    assert!(
        !applied.contains("held by"),
        "no false unmanaged holder: {applied}"
    );
    setup.assert_converged(&[]);
    assert!(remote(&setup)
        .iter()
        .any(|f| f.name == "Ads" && f.rules.contains(&rule("shared.example.com"))));
    assert_settled(&setup);
}

#[test]
fn a_hostname_the_keeping_folder_no_longer_lists_moves_to_the_next_folder() {
    let mut ads = hosts("ad", 0..4);
    ads.push("shared.example.com".into());
    let mut badware = hosts("bad", 0..4);
    badware.push("shared.example.com".into());
    let mut setup = Setup::with_profiles(
        &[P],
        vec![
            FolderSpec::domains("ads", "Ads", "block", &ads),
            FolderSpec::domains("badware", "Badware", "block", &badware),
        ],
    );
    setup.apply_ok(&[]);
    ads.pop();
    setup.set_folders(vec![
        FolderSpec::domains("ads", "Ads", "block", &ads),
        FolderSpec::domains("badware", "Badware", "block", &badware),
    ]);
    let applied = setup.apply_ok(&[]);
    assert!(
        applied.contains("1 moved"),
        "moved, never deleted and added: {applied}"
    );
    setup.assert_converged(&[]);
    assert_settled(&setup);
}

#[test]
fn a_hostname_held_by_an_unmanaged_rule_stays_skipped_without_a_read() {
    let setup = Setup::with_profiles(&[P], two_folders());
    preload(&setup.emulator, P, vec![], vec![rule("ad0.example.com")]);
    let applied = setup.apply_ok(&[]);
    assert!(applied.contains("ad0.example.com"), "{applied}");
    let state = read(&setup.state_file(P));
    assert!(
        state.contains("\"held_by_unmanaged\": {\n        \"ad0.example.com\": \"block\""),
        "{state}"
    );
    assert!(!state.contains("overlapped"), "{state}");
    assert_settled(&setup);
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_stale_saved_plan_is_refused_in_words_before_any_request_and_writes_nothing() {
    let mut setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    let mut folders = two_folders();
    folders[0] = FolderSpec::domains("ads", "Ads", "block", &hosts("ad", 0..7));
    setup.set_folders(folders);
    let plan_file = setup.dir.path().join("p.plan");
    let plan_path = plan_file.to_str().unwrap();
    assert_success(&setup.run(&["plan", "--out", plan_path]), "plan");
    // Another apply gets there first.
    setup.apply_ok(&[]);
    let state_before = bytes(&setup.state_file(P));
    let remote_before = setup.emulator.dump();
    setup.emulator.reset_stats();

    let refused = setup.run(&["apply", plan_path]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("profile p1 changed since the plan was made")
            && stderr.contains("nothing was changed")
            && stderr.contains("ctrld-sync plan --out"),
        "{stderr}"
    );
    assert!(!stderr.contains("serial"), "{stderr}");
    assert_eq!(setup.emulator.stats().total, 0, "no request");
    assert_eq!(bytes(&setup.state_file(P)), state_before);
    assert_eq!(setup.emulator.dump(), remote_before);

    // A tampered plan is refused the same way: before any request, nothing written.
    let mut text = read(&plan_file);
    text = text.replacen("ad6.example.com", "evil.example.com", 1);
    std::fs::write(&plan_file, text).unwrap();
    let refused = setup.run(&["apply", plan_path]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(setup.emulator.stats().total, 0, "no request");
    assert_eq!(bytes(&setup.state_file(P)), state_before);
}

/// `apply --refresh none` reads the folder list still: a person's folder at a freed PK is never
/// written to from the state's word alone.
/// A first `apply --refresh none` on a profile with no folders: no state, and nothing in Control D
/// it could disagree with, so nothing is said about the dashboard.
#[test]
fn a_first_apply_from_no_state_on_an_empty_profile_says_nothing_of_the_dashboard() {
    let setup = Setup::with_profiles(&[P], two_folders());
    let applied = setup.apply_ok(&["--refresh", "none"]);
    assert!(
        !applied.contains("not what the state files say"),
        "{applied}"
    );
    setup.assert_converged(&[]);
}

#[test]
fn apply_from_the_state_alone_checks_the_folder_list_first() {
    let mut setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    setup.emulator.reset_stats();
    let applied = setup.apply_ok(&["--refresh", "none"]);
    assert!(applied.contains("No changes"), "{applied}");
    assert!(
        !applied.contains("not what the state files say"),
        "{applied}"
    );
    assert_eq!(setup.emulator.stats().total, 1, "the folder list only");

    let freed = highest(&setup);
    let mine = folder(freed.pk, "Mine", &hosts("mine", 0..2));
    edit_in_dashboard(&setup, |folders| {
        folders.retain(|f| f.pk != freed.pk);
        folders.push(mine.clone());
    });
    let mut folders = two_folders();
    folders[0] = FolderSpec::domains("ads", "Ads", "block", &hosts("ad", 0..7));
    folders[1] = FolderSpec::domains("badware", "Badware", "block", &hosts("bad", 0..6));
    setup.set_folders(folders);
    let applied = setup.apply_ok(&["--refresh", "none"]);
    assert!(
        applied.contains("not what the state files say") && applied.contains("identity:"),
        "{applied}"
    );
    assert!(
        remote(&setup).contains(&mine),
        "the person's folder is untouched"
    );
    setup.assert_converged(&["Mine"]);
    assert_settled(&setup);
}

/// Drift repaired as estimated: a folder whose count moved is read (`auto`); with `full`, every
/// managed folder, the root and each unmanaged folder are read, once.
#[test]
fn drift_is_read_and_repaired_at_the_estimated_cost() {
    let setup = Setup::with_profiles(&[P], two_folders());
    setup.apply_ok(&[]);
    edit_in_dashboard(&setup, |folders| {
        let badware = folders.iter_mut().find(|f| f.name == "Badware").unwrap();
        badware.rules.pop();
        folders.push(folder(900, "Mine", &hosts("mine", 0..2)));
    });
    apply_as_estimated(&setup);
    setup.assert_converged(&["Mine"]);
    edit_in_dashboard(&setup, |folders| {
        let ads = folders.iter_mut().find(|f| f.name == "Ads").unwrap();
        ads.rules.pop();
    });
    apply_with_args_as_estimated(&setup, &["--refresh", "full"]);
    setup.assert_converged(&["Mine"]);
    assert_settled(&setup);
}
