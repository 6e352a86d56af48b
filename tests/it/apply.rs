//! `ctrld-sync apply`: the real binary against the emulator over loopback HTTP.

use crate::apply_support;

use std::time::Duration;

use apply_support::*;
use controld_emulator::EmulatorConfig;

/// Three folders with per-rule actions and overlaps: config order decides who keeps a hostname.
fn mixed_folders() -> Vec<FolderSpec> {
    let ads = hosts("ads", 0..1_100);
    let mut mixed: Vec<(String, bool)> = hosts("mixed", 0..60)
        .into_iter()
        .enumerate()
        .map(|(n, host)| (host, n % 3 == 0))
        .collect();
    // Overlaps with `ads`, which comes first and keeps them.
    mixed.extend(hosts("ads", 0..5).into_iter().map(|host| (host, true)));
    let mut allow = hosts("allow", 0..40);
    allow.extend(hosts("mixed", 50..55));
    vec![
        FolderSpec::domains("ads", "Ads", "block", &ads),
        FolderSpec::controld("mixed", "Mixed Folder", &mixed),
        FolderSpec::domains("allow", "Allowed", "allow", &allow),
    ]
}

fn stats_total(setup: &Setup) -> u64 {
    setup.emulator.stats().total
}

#[test]
fn first_sync_creates_every_folder_with_per_rule_actions_and_overlaps_resolved() {
    let setup = Setup::with_profiles(&["p1", "p2"], mixed_folders());
    let stdout = setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    assert!(stdout.contains("Apply report"), "{stdout}");
    assert!(
        stdout.contains("https://controld.com/dashboard/profiles/p1/filters"),
        "{stdout}"
    );
    for profile in ["p1", "p2"] {
        let state: serde_json::Value =
            serde_json::from_str(&read(&setup.state_file(profile))).unwrap();
        let folders = state["folders"].as_object().unwrap();
        assert_eq!(folders.len(), 3);
        assert!(
            folders["ads"]["source"].is_object(),
            "complete folders record their source"
        );
        assert_eq!(folders["ads"]["rules"].as_object().unwrap().len(), 1_100);
    }
    assert_eq!(setup.plan_exit_code(), 0, "nothing left to do");
}

#[test]
fn a_no_change_apply_reads_one_folder_list_per_profile_and_leaves_state_untouched() {
    let setup = Setup::with_profiles(&["p1", "p2"], mixed_folders());
    setup.apply_ok(&[]);
    let before: Vec<String> = ["p1", "p2"]
        .iter()
        .map(|p| read(&setup.state_file(p)))
        .collect();
    setup.emulator.reset_stats();
    setup.apply_ok(&[]);
    let stats = setup.emulator.stats();
    assert_eq!(stats.total, 2, "{stats:?}");
    assert_eq!(
        stats
            .by_route
            .get("GET /profiles/{profile}/groups")
            .copied(),
        Some(2),
        "{stats:?}"
    );
    let after: Vec<String> = ["p1", "p2"]
        .iter()
        .map(|p| read(&setup.state_file(p)))
        .collect();
    assert_eq!(before, after, "state files byte-identical");
}

/// Replaces `percent`% of the ads list and checks the calls made equal the plan's estimate.
fn churn(percent: usize) {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.set_safety("max_delete_percent = 60.0");
    setup.apply_ok(&[]);
    let mut folders = mixed_folders();
    let changed = 1_100 * percent / 100;
    let mut ads = hosts("ads", changed..1_100);
    ads.extend(hosts("fresh", 0..changed));
    folders[0] = FolderSpec::domains("ads", "Ads", "block", &ads);
    setup.set_folders(folders);

    let plan_file = setup.dir.path().join("plan.json");
    let output = setup.run(&[
        "plan",
        "--format",
        "json",
        "--out",
        plan_file.to_str().unwrap(),
    ]);
    assert_success(&output, "plan");
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let estimate = plan["estimate"]["total"].as_u64().unwrap();

    setup.emulator.reset_stats();
    setup.apply_ok(&[plan_file.to_str().unwrap()]);
    // The estimate covers every call: the read (here the saved plan's staleness check, one
    // `GET /groups`), the writes and the final check.
    assert_eq!(
        stats_total(&setup),
        estimate,
        "{:?}",
        setup.emulator.stats()
    );
    setup.assert_converged(&[]);
    assert_eq!(setup.plan_exit_code(), 0);
}

#[test]
fn one_percent_churn_costs_exactly_the_planned_calls() {
    churn(1);
}

#[test]
fn thirty_percent_churn_costs_exactly_the_planned_calls() {
    churn(30);
}

#[test]
fn folders_made_by_the_old_tool_are_adopted_and_only_differences_sent() {
    let folders = mixed_folders();
    let setup = Setup::with_profiles(&["p1"], folders.clone());
    // The old tool's folders: same names, `Ads` missing ten rules and holding two stale ones.
    let mut old_ads = hosts("ads", 10..1_100);
    old_ads.extend(hosts("stale", 0..2));
    let allow: Vec<String> = parse_rules(&folders[2])
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    let mut allowed = folder(501, "Allowed", &allow);
    for rule in &mut allowed.rules {
        rule.action.kind = Some(1);
    }
    allowed.action.kind = Some(1);
    preload(
        &setup.emulator,
        "p1",
        vec![folder(500, "Ads", &old_ads), allowed],
        vec![],
    );
    setup.emulator.reset_stats();

    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    let dump = setup.emulator.dump();
    let pks: Vec<u64> = dump.profiles["p1"].folders.iter().map(|f| f.pk).collect();
    assert!(
        pks.contains(&500) && pks.contains(&501),
        "adopted, not re-created: {pks:?}"
    );
    let stats = setup.emulator.stats();
    let posts = stats.by_method.get("POST").copied().unwrap_or(0);
    // One folder created (Mixed), its rules (one per action), the ten missing ads.
    assert!(posts <= 4, "only differences are sent: {stats:?}");
    assert_eq!(setup.plan_exit_code(), 0);
}

#[test]
fn a_folder_removed_from_the_config_is_deleted_only_with_allow_destroy() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    let mut folders = mixed_folders();
    folders.remove(2);
    setup.set_folders(folders);

    let refused = setup.run(&["apply"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--allow-destroy"), "{stderr}");
    assert!(setup.remote_folders("p1").contains_key("Allowed"));

    setup.apply_ok(&["--allow-destroy"]);
    setup.assert_converged(&[]);
    let state = read(&setup.state_file("p1"));
    assert!(!state.contains("\"allow\": {"), "{state}");
}

#[test]
fn near_the_rule_limit_removals_go_first() {
    let big = |prefix: &str, n| FolderSpec::domains("big", "Big", "block", &hosts(prefix, 0..n));
    let mut setup = Setup::with_profiles(&["p1"], vec![big("a", 9_000)]);
    setup.apply_ok(&[]);
    let mut mixed = hosts("a", 2_000..9_000);
    mixed.extend(hosts("b", 0..2_000));
    setup.set_folders(vec![FolderSpec::domains("big", "Big", "block", &mixed)]);
    // Adding first would peak at 11,000 rules; the emulator enforces the 10,000 limit.
    setup.apply_ok(&["--allow-destroy"]);
    setup.assert_converged(&[]);
}

#[test]
fn a_stale_saved_plan_is_refused() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    let mut folders = mixed_folders();
    folders[2] = FolderSpec::domains("allow", "Allowed", "allow", &hosts("allow", 0..45));
    setup.set_folders(folders);
    let plan_file = setup.dir.path().join("plan.json");
    let plan_path = plan_file.to_str().unwrap();
    assert_success(&setup.run(&["plan", "--out", plan_path]), "plan");

    // Someone changes the profile behind our back.
    preload(
        &setup.emulator,
        "p1",
        vec![folder(900, "Someone else's", &hosts("x", 0..3))],
        vec![],
    );
    let before = setup.emulator.dump();
    let refused = setup.run(&["apply", plan_path]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("stale") && stderr.contains("plan"),
        "{stderr}"
    );
    assert_eq!(setup.emulator.dump(), before, "nothing written");

    // A fresh plan applies.
    assert_success(&setup.run(&["plan", "--out", plan_path]), "plan");
    setup.apply_ok(&[plan_path]);
    setup.assert_converged(&["Someone else's"]);
}

/// Lost answers (the write made or not) are read back, and server errors on requests that may
/// be repeated are retried, within the run that met them: ONE apply converges.
#[test]
fn lost_responses_and_server_errors_converge_in_one_apply_without_touching_unmanaged_rules() {
    let config = EmulatorConfig {
        profiles: vec!["p1".into()],
        fail_rate: 0.2,
        seed: 11,
        ..EmulatorConfig::default()
    };
    let mut folders = mixed_folders();
    folders[0] = FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..2_600));
    let setup = Setup::new(config, folders);
    setup.emulator.set_fail_rate(0.0);
    let mut mine = hosts("mine", 0..20);
    mine.sort();
    let unmanaged = folder(700, "Mine", &mine);
    preload(
        &setup.emulator,
        "p1",
        vec![unmanaged.clone()],
        vec![rule("root.example.org")],
    );
    setup.emulator.set_fail_rate(0.2);
    setup.apply_ok(&[]);
    setup.emulator.set_fail_rate(0.0);
    assert!(setup.emulator.stats().faults > 0, "faults were injected");
    setup.assert_converged(&["Mine"]);
    let dump = setup.emulator.dump();
    let mine = dump.profiles["p1"]
        .folders
        .iter()
        .find(|f| f.pk == 700)
        .unwrap();
    assert_eq!(mine, &unmanaged, "unmanaged folder untouched");
    assert_eq!(dump.profiles["p1"].root, vec![rule("root.example.org")]);
    assert_eq!(setup.plan_exit_code(), 0);
}

/// A request that fails past its retries legitimately fails the run; what it did is saved and
/// the next run finishes.
#[test]
fn a_write_failing_past_its_retries_fails_the_run_and_the_next_run_finishes() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    let mut folders = mixed_folders();
    folders[2] = FolderSpec::domains("allow", "Allowed too", "allow", &hosts("allow", 0..45));
    setup.set_folders(folders);
    // The first attempt and its 5 retries.
    setup
        .emulator
        .fail_next_requests("PUT /profiles/{profile}/groups/{group}", 6);
    let failed = setup.run(&["apply"]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("after 6 attempts"), "{stderr}");
    assert_eq!(setup.emulator.stats().faults, 6);
    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    assert_eq!(setup.plan_exit_code(), 0);
}

/// A folder's DELETE failing past its retries fails the run with that error: nothing read to
/// explain it (only a 40003 answer is checked against the folder list).
#[test]
fn a_folder_delete_failing_past_its_retries_fails_the_run_without_a_read() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    let mut folders = mixed_folders();
    folders.remove(2);
    setup.set_folders(folders);
    // The first attempt and its 5 retries.
    setup
        .emulator
        .fail_next_requests("DELETE /profiles/{profile}/groups/{group}", 6);
    setup.emulator.reset_stats();
    let failed = setup.run(&["apply", "--allow-destroy"]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("after 6 attempts"), "{stderr}");
    let stats = setup.emulator.stats();
    assert_eq!(
        stats.by_route["GET /profiles/{profile}/groups"], 1,
        "the refresh's folder list only: {stats:?}"
    );
    assert!(setup.remote_folders("p1").contains_key("Allowed"));
}

/// A folder deleted by hand while the apply runs, after its folder list was read: its DELETE is
/// answered 404, which is what the step wanted. The run succeeds.
#[test]
fn a_folder_deleted_by_hand_before_its_delete_arrives_counts_as_deleted() {
    const DELETE_FOLDER: &str = "DELETE /profiles/{profile}/groups/{group}";
    let folders = vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..5)),
        FolderSpec::domains("allow", "Allowed", "allow", &hosts("allow", 0..5)),
    ];
    let mut setup = Setup::with_profiles(&["p1"], folders.clone());
    setup.apply_ok(&[]);
    setup.set_folders(folders[..1].to_vec());
    let allowed = setup.folder_pk("p1", "Allowed");
    // The DELETE finds the folder gone: 404, which is what the DELETE wanted.
    setup
        .emulator
        .delete_folder_before(DELETE_FOLDER, 0, "p1", allowed);
    setup.emulator.reset_stats();
    setup.apply_ok(&["--allow-destroy"]);
    assert_eq!(setup.emulator.stats().by_route[DELETE_FOLDER], 1);
    assert!(!setup.remote_folders("p1").contains_key("Allowed"));
    assert_eq!(setup.plan_exit_code(), 0);
}

/// After the first failure nothing new starts: with `--parallelism 1`, the refused creation of
/// the first folder is the only request after the refresh, and every step is left.
#[test]
fn with_parallelism_1_nothing_starts_beside_or_after_a_refused_step() {
    let setup = Setup::with_profiles(&["p1"], vec![]);
    let dir = setup.dir.path();
    std::fs::write(dir.join("ads.txt"), hosts("ads", 0..5).join("\n")).unwrap();
    std::fs::write(dir.join("proxy.txt"), "proxied.example.com\n").unwrap();
    let config = r#"
[[profile]]
id = "p1"
folders = ["proxy", "ads"]

[folder.proxy]
path = "proxy.txt"
format = "domains"
name = "Proxied"
action = "redirect"
via = "US-NYC"

[folder.ads]
path = "ads.txt"
format = "domains"
name = "Ads"
action = "block"
"#;
    std::fs::write(setup.config_path(), config).unwrap();
    let output = setup.run(&["apply", "--parallelism", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let stats = setup.emulator.stats();
    assert_eq!(
        stats.by_route["POST /profiles/{profile}/groups"], 1,
        "{stats:?}"
    );
    assert!(setup.remote_folders("p1").is_empty());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("4 step(s) left"), "{stdout}");
}

#[test]
fn a_429_storm_is_ridden_out() {
    let config = EmulatorConfig {
        profiles: vec!["p1".into()],
        rps: Some(2.0),
        burst: 2,
        ..EmulatorConfig::default()
    };
    let folders = vec![
        FolderSpec::domains("a", "A", "block", &hosts("a", 0..30)),
        FolderSpec::domains("b", "B", "allow", &hosts("b", 0..30)),
    ];
    let setup = Setup::new(config, folders);
    setup.apply_ok(&["--max-rps", "50", "--parallelism", "4"]);
    assert!(
        setup.emulator.stats().rate_limited > 0,
        "the storm happened"
    );
    setup.assert_converged(&[]);
}

/// The emulator lets the first requests through, then answers 429 with `Retry-After: 100`: the run
/// holds mid-apply (a count, not a race against the clock) until it is killed.
#[test]
fn a_killed_apply_leaves_a_readable_state_and_the_next_apply_finishes() {
    let gated = EmulatorConfig {
        profiles: vec!["p1".into()],
        rps: Some(0.01),
        burst: 12,
        ..EmulatorConfig::default()
    };
    let folders: Vec<FolderSpec> = (0..8)
        .map(|n| {
            let key = format!("f{n}");
            FolderSpec::domains(&key, &format!("Folder {n}"), "block", &hosts(&key, 0..700))
        })
        .collect();
    let mut setup = Setup::new(gated, folders);
    let mut child = setup.spawn(&["-q", "apply"]);
    let posts = |setup: &Setup| {
        let stats = setup.emulator.stats();
        stats.by_method.get("POST").copied().unwrap_or(0)
    };
    // Saved while the run goes on: a folder in the state file before the run is killed.
    let state_file = setup.state_file("p1");
    let recorded = || {
        let text = std::fs::read_to_string(&state_file).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|state| state["folders"].as_object().is_some_and(|f| !f.is_empty()))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !(setup.emulator.stats().rate_limited > 0 && recorded())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let writes = posts(&setup);
    assert!(
        (1..24).contains(&writes),
        "held mid-apply after {writes} POSTs received (24 make the whole first sync)"
    );
    let text = read(&state_file);
    let state: serde_json::Value = serde_json::from_str(&text).expect("the state parses");
    assert!(!state["folders"].as_object().unwrap().is_empty(), "{text}");

    // The same data on an emulator without the gate.
    let open = EmulatorConfig {
        profiles: vec!["p1".into()],
        ..EmulatorConfig::default()
    };
    let open = controld_emulator::Emulator::start_background(open).unwrap();
    let gated = std::mem::replace(&mut setup.emulator, open);
    setup.emulator.load(gated.dump());
    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    assert_eq!(setup.plan_exit_code(), 0);
}

#[test]
fn a_hostname_held_by_an_unmanaged_rule_is_skipped_and_reported() {
    let mut ads = hosts("ads", 0..50);
    ads.push("held.example.org".into());
    ads.push("infolder.example.org".into());
    let setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains("ads", "Ads", "block", &ads)],
    );
    let theirs = folder(800, "Theirs", &["infolder.example.org".to_string()]);
    preload(
        &setup.emulator,
        "p1",
        vec![theirs.clone()],
        vec![rule("held.example.org")],
    );
    let report = setup.dir.path().join("report.json");
    let stdout = setup.apply_ok(&["--report", report.to_str().unwrap()]);
    assert!(stdout.contains("held.example.org"), "{stdout}");
    assert!(stdout.contains("infolder.example.org"), "{stdout}");
    let dump = setup.emulator.dump();
    assert_eq!(dump.profiles["p1"].root, vec![rule("held.example.org")]);
    assert!(dump.profiles["p1"].folders.contains(&theirs));
    let remote = setup.remote_folders("p1");
    assert_eq!(remote["Ads"].len(), 50);
    let json: serde_json::Value = serde_json::from_str(&read(&report)).unwrap();
    let skipped = json["profiles"][0]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{json}");

    // The next run does not fight over them again: no changes, one read.
    assert_eq!(setup.plan_exit_code(), 0);
    setup.emulator.reset_stats();
    setup.apply_ok(&[]);
    assert_eq!(setup.emulator.stats().total, 1);
    // `--refresh full` reads the unmanaged rules and still leaves them alone.
    let full = setup.run(&["plan", "--refresh", "full", "--detailed-exitcode"]);
    assert_eq!(
        full.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&full.stdout)
    );
    // Once the user removes their own rule, `--refresh full` sees the hostname is free.
    let mut dump = setup.emulator.dump();
    dump.profiles.get_mut("p1").unwrap().root.clear();
    setup.emulator.load(dump);
    setup.apply_ok(&["--refresh", "full"]);
    assert_eq!(setup.remote_folders("p1")["Ads"].len(), 51);
    assert_eq!(setup.plan_exit_code(), 0);
}

#[test]
fn the_report_file_holds_stages_calls_and_counts() {
    let setup = Setup::with_profiles(&["p1"], mixed_folders());
    let report = setup.dir.path().join("report.json");
    setup.apply_ok(&["--report", report.to_str().unwrap(), "--verify"]);
    let json: serde_json::Value = serde_json::from_str(&read(&report)).unwrap();
    assert_eq!(json["folders"]["created"], 3);
    let added = json["rules"]["added"].as_u64().unwrap();
    let desired: usize = setup
        .desired_folders()
        .values()
        .map(|rules| rules.len())
        .sum();
    assert_eq!(added as usize, desired);
    for stage in ["fetch", "refresh", "plan", "apply", "total"] {
        assert!(json["stages"][stage].is_number(), "{stage}: {json}");
    }
    let calls = json["calls"]["total"].as_u64().unwrap();
    assert_eq!(calls, stats_total(&setup), "the report counts every call");
    assert!(
        json["calls"]["by_endpoint"]["POST /profiles/{profile}/rules"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(json["calls_per_1000_rules_changed"].is_number());
    assert_eq!(json["profiles"][0]["ok"], true);
    assert_eq!(json["profiles"][0]["steps_left"], 0, "{json}");
    assert_eq!(
        json["sources"]["fetched"].as_u64().unwrap()
            + json["sources"]["not_modified"].as_u64().unwrap()
            + json["sources"]["unchanged_by_hash"].as_u64().unwrap(),
        3
    );
}

#[test]
fn verify_rereads_touched_folders_and_fixes_what_differs() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    // Behind our back: an action flipped in `Ads` (its count stays, so refresh trusts the state).
    let mut dump = setup.emulator.dump();
    let ads = dump.profiles.get_mut("p1").unwrap();
    let ads = ads.folders.iter_mut().find(|f| f.name == "Ads").unwrap();
    ads.rules[0].action.kind = Some(1);
    setup.emulator.load(dump);
    // One more rule for `Ads`, so that the apply touches it.
    let mut folders = mixed_folders();
    let mut more = hosts("ads", 0..1_100);
    more.push("one-more.example.com".into());
    folders[0] = FolderSpec::domains("ads", "Ads", "block", &more);
    setup.set_folders(folders);

    setup.apply_ok(&["--verify"]);
    setup.assert_converged(&[]);
}

#[test]
fn a_failing_profile_exits_1_after_the_others_and_its_own_progress_are_saved() {
    let setup = Setup::with_profiles(&["p1", "p2"], vec![]);
    let dir = setup.dir.path();
    std::fs::write(dir.join("ads.txt"), hosts("ads", 0..20).join("\n")).unwrap();
    std::fs::write(dir.join("proxy.txt"), "proxied.example.com\n").unwrap();
    let config = r#"
[[profile]]
id = "p1"
folders = ["ads"]

[[profile]]
id = "p2"
folders = ["ads", "proxy"]

[folder.ads]
path = "ads.txt"
format = "domains"
name = "Ads"
action = "block"

[folder.proxy]
path = "proxy.txt"
format = "domains"
name = "Proxied"
action = "redirect"
via = "US-NYC"
"#;
    std::fs::write(setup.config_path(), config).unwrap();
    let output = setup.run(&["apply"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("p2"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("profile p1: ok"), "{stdout}");
    assert!(stdout.contains("profile p2: FAILED"), "{stdout}");
    assert_eq!(setup.remote_folders("p1")["Ads"].len(), 20);
    let p2_state = read(&setup.state_file("p2"));
    assert!(
        p2_state.contains("\"Ads\""),
        "what succeeded is saved: {p2_state}"
    );
}

#[test]
fn a_scratch_folder_left_by_an_interrupted_run_is_deleted() {
    let setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    let leftover = folder(950, "ctrld-sync scratch", &hosts("gone", 0..30));
    preload(&setup.emulator, "p1", vec![leftover], vec![]);
    setup.apply_ok(&[]);
    assert!(!setup
        .remote_folders("p1")
        .contains_key("ctrld-sync scratch"));
    setup.assert_converged(&[]);
}

#[test]
fn a_saved_plan_is_refused_after_a_config_change_and_when_destructive() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    let plan_file = setup.dir.path().join("plan.json");
    let plan_path = plan_file.to_str().unwrap();
    let mut folders = mixed_folders();
    folders.remove(1);
    setup.set_folders(folders);
    assert_success(&setup.run(&["plan", "--out", plan_path]), "plan");

    let refused = setup.run(&["apply", plan_path]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--allow-destroy"), "{stderr}");

    let mut folders = mixed_folders();
    folders.remove(2);
    setup.set_folders(folders);
    let before = setup.emulator.dump();
    let refused = setup.run(&["apply", "--allow-destroy", plan_path]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("config changed"), "{stderr}");
    assert_eq!(setup.emulator.dump(), before, "nothing written");
}

#[test]
fn a_hostname_already_in_another_managed_folder_is_moved_not_duplicated() {
    let mut setup = Setup::with_profiles(&["p1"], mixed_folders());
    setup.apply_ok(&[]);
    // Behind our back, a hostname lands in `Allowed`; planning from the state alone misses it.
    let mut dump = setup.emulator.dump();
    let profile = dump.profiles.get_mut("p1").unwrap();
    let allowed = profile
        .folders
        .iter_mut()
        .find(|f| f.name == "Allowed")
        .unwrap();
    allowed.rules.push(rule("wandered.example.com"));
    setup.emulator.load(dump);
    let mut folders = mixed_folders();
    let mut ads = hosts("ads", 0..1_100);
    ads.push("wandered.example.com".into());
    folders[0] = FolderSpec::domains("ads", "Ads", "block", &ads);
    setup.set_folders(folders);

    setup.apply_ok(&["--refresh", "none"]);
    setup.assert_converged(&[]);
    assert_eq!(setup.plan_exit_code(), 0);
}

#[test]
fn limits_that_would_never_send_are_refused_before_any_call() {
    let setup = Setup::with_profiles(&["p1"], mixed_folders());
    for args in [["--parallelism", "0"], ["--max-rps", "0"]] {
        let output = setup.run(&["apply", args[0], args[1]]);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(args[0]), "{stderr}");
    }
    assert_eq!(stats_total(&setup), 0);
}

#[test]
fn logs_go_to_stderr_one_line_per_step_with_v_and_none_with_q() {
    let setup = Setup::with_profiles(&["p1"], mixed_folders());
    let verbose = setup.run(&["-v", "apply"]);
    assert_success(&verbose, "apply -v");
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("p1: created folder `ads`"), "{stderr}");
    assert!(
        stderr.contains("p1: added 500 block rules to `ads`"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&verbose.stdout);
    assert!(
        !stdout.contains("created folder"),
        "logs stay off stdout: {stdout}"
    );

    let quiet = setup.run(&["-q", "apply"]);
    assert_success(&quiet, "apply -q");
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("Apply report"));
}

#[test]
fn parallelism_bounds_each_profile_and_profiles_do_not_queue_behind_each_other() {
    let setup = |profiles: &[&str]| {
        let config = EmulatorConfig {
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            latency: Duration::from_millis(60),
            ..EmulatorConfig::default()
        };
        let folders = (0..6)
            .map(|n| {
                let key = format!("f{n}");
                FolderSpec::domains(&key, &format!("Folder {n}"), "block", &hosts(&key, 0..5))
            })
            .collect();
        Setup::new(config, folders)
    };
    let one = setup(&["p1"]);
    one.apply_ok(&["--parallelism", "2"]);
    assert_eq!(
        one.emulator.stats().peak_in_flight,
        2,
        "one profile: 2 at once"
    );
    one.assert_converged(&[]);

    // Three profiles of one token: each has its own 2 slots; the pace is the token's.
    let three = setup(&["p1", "p2", "p3"]);
    three.apply_ok(&["--parallelism", "2"]);
    let peak = three.emulator.stats().peak_in_flight;
    assert!((3..=6).contains(&peak), "three profiles: {peak} at once");
    three.assert_converged(&[]);
}

/// A hostname a person put by hand into another managed folder, unseen by a plan that trusts the
/// state (a rule swapped for it: the count is the same): the refused POST ("already exists") is
/// resolved by reading the other managed folders until found (here the second one read), and the
/// hostname moved where the config wants it.
#[test]
fn a_hostname_hidden_in_another_managed_folder_is_found_by_reading_them_and_moved() {
    let ads = FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..30));
    let trackers = FolderSpec::domains("trk", "Trackers", "block", &hosts("trk", 0..10));
    let allow = |extra: &[String]| {
        let mut hostnames = hosts("allow", 0..10);
        hostnames.extend_from_slice(extra);
        FolderSpec::domains("allow", "Allowed", "allow", &hostnames)
    };
    let mut setup = Setup::with_profiles(&["p1"], vec![ads.clone(), allow(&[]), trackers.clone()]);
    setup.apply_ok(&[]);
    let hidden = "hidden.example.org".to_string();
    let swapped = hosts("trk", 0..1).remove(0);
    let mut dump = setup.emulator.dump();
    let profile = dump.profiles.get_mut("p1").unwrap();
    let remote = profile
        .folders
        .iter_mut()
        .find(|f| f.name == "Trackers")
        .unwrap();
    remote.rules.retain(|r| r.hostname != swapped);
    remote.rules.push(rule(&hidden));
    setup.emulator.load(dump);
    setup.set_folders(vec![ads, allow(std::slice::from_ref(&hidden)), trackers]);

    setup.apply_ok(&[]);
    let remote = setup.remote_folders("p1");
    assert_eq!(
        remote["Allowed"].get(&hidden),
        Some(&1),
        "moved where wanted"
    );
    assert!(!remote["Trackers"].contains_key(&hidden));
    // The swapped-out rule, now known missing, comes back with the next run.
    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    assert_eq!(setup.plan_exit_code(), 0);
}

/// A controld folder file of blocking rules; those marked `false` are disabled (`status: 0`).
fn with_disabled(key: &str, name: &str, rules: &[(String, bool)]) -> FolderSpec {
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|(hostname, enabled)| {
            serde_json::json!({"PK": hostname, "action": {"do": 0, "status": u8::from(*enabled)}})
        })
        .collect();
    let content = serde_json::json!({
        "group": {"group": name, "action": {"do": 0, "status": 1}},
        "rules": rules,
    });
    FolderSpec {
        key: key.into(),
        name: name.into(),
        action: None,
        file: format!("{key}.json"),
        content: serde_json::to_string_pretty(&content).unwrap(),
    }
}

/// Whether a folder's `count` covers its disabled rules is unknown: the check after the writes
/// takes either reading as a match, so neither reads the folder back.
#[test]
fn disabled_rules_pass_the_count_check_whichever_rules_the_count_covers() {
    use controld_emulator::{Behaviour, FolderCount};
    let rules: Vec<(String, bool)> = hosts("dis", 0..9)
        .into_iter()
        .enumerate()
        .map(|(n, host)| (host, n % 3 != 0))
        .collect();
    for folder_count in [FolderCount::All, FolderCount::EnabledOnly] {
        let config = EmulatorConfig {
            token: TOKEN.into(),
            profiles: vec!["p1".into()],
            behaviour: Behaviour {
                folder_count,
                ..Behaviour::default()
            },
            ..EmulatorConfig::default()
        };
        let setup = Setup::new(config, vec![with_disabled("dis", "Disabled", &rules)]);
        let output = setup.run(&["apply"]);
        assert_success(&output, "apply");
        let stderr = stderr(&output);
        assert!(
            !stderr.contains("reading it back"),
            "{folder_count:?}: {stderr}"
        );
        let reads = setup.emulator.stats().by_route;
        assert_eq!(
            reads.get("GET /profiles/{profile}/rules/{group}"),
            None,
            "{folder_count:?}: {reads:?}"
        );
        let dump = setup.emulator.dump();
        let statuses: Vec<u8> = dump.profiles["p1"].folders[0]
            .rules
            .iter()
            .map(|rule| rule.action.status)
            .collect();
        assert_eq!(statuses.iter().filter(|status| **status == 0).count(), 3);
        assert_eq!(statuses.len(), 9);
    }
}

/// `--verify` reads a folder holding a stray (no folder wants it: deleted) and a hostname another
/// managed folder wants (left for that folder: not deleted).
#[test]
fn verify_deletes_a_stray_and_moves_a_hostname_another_folder_wants_there() {
    let ads = |extra: &[String]| {
        let mut hostnames = hosts("ads", 0..20);
        hostnames.extend_from_slice(extra);
        FolderSpec::domains("ads", "Ads", "block", &hostnames)
    };
    let trackers = FolderSpec::domains("trk", "Trackers", "block", &hosts("trk", 0..10));
    let mut setup = Setup::with_profiles(&["p1"], vec![ads(&[]), trackers.clone()]);
    setup.apply_ok(&[]);
    // Behind our back, with every count kept (so the plan trusts the state): two rules of `Ads`
    // swapped for a stray and a hostname of `Trackers`, which gets a stray of its own instead.
    let wanted = hosts("trk", 0..1).remove(0);
    let swapped = hosts("ads", 0..2);
    let mut dump = setup.emulator.dump();
    let profile = dump.profiles.get_mut("p1").unwrap();
    for remote in profile.folders.iter_mut() {
        match remote.name.as_str() {
            "Ads" => {
                remote.rules.retain(|r| !swapped.contains(&r.hostname));
                remote.rules.push(rule("stray.example.org"));
                remote.rules.push(rule(&wanted));
            }
            _ => {
                remote.rules.retain(|r| r.hostname != wanted);
                remote.rules.push(rule("other-stray.example.org"));
            }
        }
    }
    setup.emulator.load(dump);
    // One more rule for `Ads`, so that the apply touches it.
    setup.set_folders(vec![ads(&["one-more.example.com".into()]), trackers]);

    setup.emulator.reset_stats();
    let output = setup.run(&["apply", "--verify"]);
    assert_success(&output, "apply --verify");
    // `--verify` reads the folders it wrote to anyway: no warning that a count differed.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("reading it back"), "{stderr}");
    let stats = setup.emulator.stats();
    assert_eq!(
        stats
            .by_route
            .get("DELETE /profiles/{profile}/rules/{hostname}")
            .copied(),
        Some(1),
        "{stats:?}"
    );
    let remote = setup.remote_folders("p1");
    assert!(!remote["Ads"].contains_key("stray.example.org"));
    assert!(remote["Ads"].contains_key(&swapped[0]) && remote["Ads"].contains_key(&swapped[1]));
    assert!(
        remote["Trackers"].contains_key(&wanted) && !remote["Ads"].contains_key(&wanted),
        "moved to the folder that wants it, in the same run: {remote:?}"
    );
    assert_eq!(
        stats.by_route.get("PUT /profiles/{profile}/rules").copied(),
        Some(1),
        "{stats:?}"
    );
}

/// A source whose new bytes yield the rules already there: no write to its folder, yet the state
/// records the new source once the run's other writes are done.
#[test]
fn a_folder_matched_without_writes_records_its_new_source() {
    use sha2::{Digest, Sha256};
    let ads = hosts("ads", 0..20);
    let trackers = |n: usize| FolderSpec::domains("trk", "Trackers", "block", &hosts("trk", 0..n));
    let mut setup = Setup::with_profiles(
        &["p1"],
        vec![
            FolderSpec::domains("ads", "Ads", "block", &ads),
            trackers(10),
        ],
    );
    setup.apply_ok(&[]);
    let sha_of = |setup: &Setup| {
        let state: serde_json::Value =
            serde_json::from_str(&read(&setup.state_file("p1"))).unwrap();
        state["folders"]["ads"]["source"]["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = sha_of(&setup);
    let reversed: Vec<String> = ads.iter().rev().cloned().collect();
    let new_ads = FolderSpec::domains("ads", "Ads", "block", &reversed);
    let digest = Sha256::digest(new_ads.content.as_bytes());
    let expected: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    setup.set_folders(vec![new_ads, trackers(11)]);

    setup.apply_ok(&[]);
    setup.assert_converged(&[]);
    assert_ne!(before, expected, "the bytes changed");
    assert_eq!(sha_of(&setup), expected);
}
