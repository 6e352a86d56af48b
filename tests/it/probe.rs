//! `ctrld-sync probe` against the emulator: every check passes and the profile (its settings
//! included) is byte-identical afterwards; a knob that breaks an assumption is reported, exits 1
//! and still cleans up; so does Ctrl-C, also in the middle of a settings check; the settings knobs
//! show in what the settings checks observe.

use crate::apply_support::{block, TOKEN};
use assert_cmd::Command;
use controld_emulator::{
    ActionDump, Behaviour, DefaultDisable, Dump, Emulator, EmulatorConfig, FolderDump, FolderPks,
    ProfileDump, RepeatWrite, RuleDump, SettingsDump, SettingsWrite, UpdatedMoves,
};
use serde_json::Value;

const PROFILE: &str = "p1";

fn rules(prefix: &str, count: usize) -> Vec<RuleDump> {
    (0..count)
        .map(|n| RuleDump {
            hostname: format!("{prefix}{n}.example"),
            action: block(),
        })
        .collect()
}

/// A profile with content of its own, which the probe must not touch.
fn seeded(behaviour: Behaviour, extra_folders: Vec<FolderDump>, root_rules: usize) -> Emulator {
    seeded_with(
        EmulatorConfig {
            behaviour,
            ..EmulatorConfig::default()
        },
        extra_folders,
        root_rules,
    )
}

fn seeded_with(
    config: EmulatorConfig,
    extra_folders: Vec<FolderDump>,
    root_rules: usize,
) -> Emulator {
    let emulator = Emulator::start_background(EmulatorConfig {
        token: TOKEN.into(),
        profiles: vec![PROFILE.into()],
        ..config
    })
    .unwrap();
    let mut folders = vec![FolderDump {
        pk: 7,
        name: "Mine".into(),
        action: block(),
        rules: rules("mine", 3),
    }];
    folders.extend(extra_folders);
    let profile = ProfileDump {
        name: PROFILE.into(),
        root: rules("root", root_rules),
        folders,
        ..ProfileDump::default()
    };
    emulator.load(Dump {
        next_pk: 100,
        profiles: [(PROFILE.to_string(), profile)].into_iter().collect(),
    });
    emulator
}

/// Gives the profile settings of its own: filters, two service rules, a block default rule and
/// options, which the probe borrows and must put back.
fn with_settings(emulator: &Emulator) {
    let mut dump = emulator.dump();
    let action = |kind: u8, status: u8, via: Option<&str>| ActionDump {
        kind: Some(kind),
        status,
        via: via.map(str::to_string),
        via_v6: None,
    };
    dump.profiles.get_mut(PROFILE).unwrap().settings = SettingsDump {
        filters: vec!["ads_medium".into(), "x-oisd-big".into()],
        services: [
            ("tiktok".to_string(), action(0, 1, None)),
            ("zoom".to_string(), action(2, 0, Some("10.0.0.1"))),
        ]
        .into(),
        default_rule: action(0, 1, None),
        options: [
            ("safesearch".to_string(), "1".to_string()),
            ("ttl_blck".to_string(), "30".to_string()),
        ]
        .into(),
    };
    emulator.load(dump);
}

fn check<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check `{name}` in {checks:#?}"))
}

/// The profiles exactly as stored (not the next PK, which moves with every folder made).
fn profiles(emulator: &Emulator) -> String {
    serde_json::to_string(&emulator.dump().profiles).unwrap()
}

fn probe(emulator: &Emulator, format: &str) -> std::process::Output {
    Command::cargo_bin("ctrld-sync")
        .unwrap()
        .env("CTRLD_API_TOKEN", TOKEN)
        .env_remove("CTRLD_API_URL")
        .args(["--api-url", &emulator.url(), "--no-progress"])
        .args([
            "probe",
            "--profile",
            PROFILE,
            "--max-rps",
            "1000",
            "--format",
            format,
        ])
        .output()
        .unwrap()
}

fn checks(output: &std::process::Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["checks"].as_array().unwrap().clone()
}

#[test]
fn every_check_passes_against_the_emulator_and_the_profile_is_unchanged() {
    let emulator = seeded(Behaviour::default(), Vec::new(), 2);
    with_settings(&emulator);
    let before = profiles(&emulator);
    assert!(before.contains("ttl_blck"), "{before}");
    let output = probe(&emulator, "json");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let checks = checks(&output);
    assert_eq!(checks.len(), 21, "{checks:#?}");
    for check in &checks {
        assert_eq!(check["ok"], true, "{check}");
    }
    let cut = checks
        .iter()
        .find(|c| c["check"].as_str().unwrap().contains("cut"))
        .unwrap();
    assert_eq!(cut["observed"], "998 stored: cut after 1001 form variables");
    for (article, kind) in [
        ("a", "filter"),
        ("a", "service"),
        ("a", "default-rule"),
        ("an", "option"),
    ] {
        let repeat = check(
            &checks,
            &format!("a repeated {kind} write that changes nothing"),
        );
        assert_eq!(
            repeat["observed"], "success, the same body as the change",
            "{kind}"
        );
        assert_eq!(repeat["relied_upon"], false);
        let updated = check(
            &checks,
            &format!("{article} {kind} write moves the profile's updated"),
        );
        assert_eq!(
            updated["observed"], "a change: moved; a write changing nothing: moved",
            "{kind}"
        );
        assert_eq!(updated["relied_upon"], false);
    }
    assert_eq!(profiles(&emulator), before);
}

/// A service rule cannot be removed: with none to borrow, the service checks say why they were
/// not made and the probe makes no service rule.
#[test]
fn without_a_service_rule_the_service_checks_are_skipped_and_none_is_made() {
    let emulator = seeded(Behaviour::default(), Vec::new(), 0);
    let before = profiles(&emulator);
    let output = probe(&emulator, "json");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let checks = checks(&output);
    let repeat = check(&checks, "a repeated service write that changes nothing");
    assert_eq!(
        repeat["observed"],
        "not checked: the profile has no service rule, and the probe makes none (one cannot be \
         removed)"
    );
    assert_eq!(repeat["ok"], true);
    let updated = check(&checks, "a service write moves the profile's updated");
    assert_eq!(updated["observed"], repeat["observed"]);
    let stats = emulator.stats();
    assert_eq!(
        stats
            .by_route
            .get("PUT /profiles/{profile}/services/{service}"),
        None,
        "{stats:?}"
    );
    // The other kinds were tried on the new profile's settings and put back.
    let option = check(&checks, "a repeated option write that changes nothing");
    assert_eq!(option["observed"], "success, the same body as the change");
    assert_eq!(profiles(&emulator), before);
}

/// One run with every settings knob turned: each check reports what its knob does, none fails
/// the probe, and the settings are put back (a put-back that changes nothing is never sent, so a
/// server refusing such writes does not stop it).
#[test]
fn the_settings_checks_report_what_the_settings_knobs_do() {
    let writes = |repeat, updated| SettingsWrite { repeat, updated };
    let behaviour = Behaviour {
        filter_writes: writes(RepeatWrite::EmptyBody, UpdatedMoves::OnChange),
        service_writes: writes(RepeatWrite::Rejected, UpdatedMoves::Never),
        default_writes: writes(RepeatWrite::SameBody, UpdatedMoves::EveryWrite),
        option_writes: writes(RepeatWrite::EmptyBody, UpdatedMoves::Never),
        default_disable: DefaultDisable::Rejected,
        ..Behaviour::default()
    };
    let emulator = seeded(behaviour, Vec::new(), 0);
    with_settings(&emulator);
    let before = profiles(&emulator);
    let output = probe(&emulator, "json");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let checks = checks(&output);
    let observed = |name: &str| {
        check(&checks, name)["observed"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        observed("a repeated filter write that changes nothing"),
        "success, an empty body"
    );
    assert_eq!(
        observed("a filter write moves the profile's updated"),
        "a change: moved; a write changing nothing: did not move"
    );
    assert_eq!(
        observed("a repeated service write that changes nothing"),
        "rejected: 400 / 40003"
    );
    assert_eq!(
        observed("a service write moves the profile's updated"),
        "a change: did not move; a write changing nothing: refused"
    );
    let default = observed("a repeated default-rule write that changes nothing");
    assert!(
        default.starts_with("success, a readable body (the change before it was refused: ")
            && default.contains("40003"),
        "{default}"
    );
    assert_eq!(
        observed("a default-rule write moves the profile's updated"),
        "a change: refused; a write changing nothing: moved"
    );
    assert_eq!(
        observed("a repeated option write that changes nothing"),
        "success, an empty body"
    );
    assert_eq!(
        observed("an option write moves the profile's updated"),
        "a change: did not move; a write changing nothing: did not move"
    );
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:#?}");
    assert_eq!(profiles(&emulator), before);
}

#[test]
fn the_text_report_is_a_table_with_a_mark_per_check() {
    let emulator = seeded(Behaviour::default(), Vec::new(), 0);
    let output = probe(&emulator, "text");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("check"), "{text}");
    assert!(
        lines[0].contains("expected") && lines[0].contains("observed"),
        "{text}"
    );
    assert_eq!(lines.len(), 22, "{text}");
    assert!(lines[1..].iter().all(|line| line.ends_with('✓')), "{text}");
}

/// The seeded profile holds folder 7 and the dump's counter is at 100: the probe's first folder
/// ("cut", deleted) is 8 or 100, its guard 9 or 101 (both gone before the reuse check), the freed
/// one 8 or 102, the next one 8 or 103.
#[test]
fn the_pk_reuse_check_reports_what_the_service_does_and_never_fails_the_probe() {
    let cases = [
        (FolderPks::PerProfileReused, "yes: PK 8 again"),
        (FolderPks::GlobalCounter, "no: PK 103 after 102"),
    ];
    for (folder_pks, observed) in cases {
        let config = EmulatorConfig {
            folder_pks,
            ..EmulatorConfig::default()
        };
        let emulator = seeded_with(config, Vec::new(), 2);
        let before = profiles(&emulator);
        let output = probe(&emulator, "json");
        assert_eq!(output.status.code(), Some(0), "{folder_pks:?}: {output:?}");
        let checks = checks(&output);
        let reuse = checks
            .iter()
            .find(|c| c["check"] == "a deleted folder's PK is handed out again")
            .unwrap_or_else(|| panic!("{checks:#?}"));
        assert_eq!(reuse["observed"], observed, "{folder_pks:?}");
        assert_eq!(reuse["ok"], true);
        assert_eq!(reuse["relied_upon"], false);
        assert_eq!(profiles(&emulator), before, "{folder_pks:?}");
    }
}

#[test]
fn a_server_refusing_more_than_600_form_variables_is_reported_exits_1_and_is_cleaned_up() {
    let behaviour = Behaviour {
        refuse_form_variables_over: Some(600),
        ..Behaviour::default()
    };
    let emulator = seeded(behaviour, Vec::new(), 2);
    let before = profiles(&emulator);
    let output = probe(&emulator, "json");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let failed: Vec<Value> = checks(&output)
        .into_iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(failed[0]["check"].as_str().unwrap().contains("cut"));
    assert_eq!(failed[0]["relied_upon"], true);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("assumption broken: where the form-variable cut falls"),
        "{stderr}"
    );
    assert!(stderr.contains("505 form variables"), "{stderr}");
    assert_eq!(profiles(&emulator), before);
}

#[test]
fn a_second_run_removes_what_an_interrupted_run_left() {
    let leftover = FolderDump {
        pk: 50,
        name: "ctrld-sync probe r1p2 main".into(),
        action: block(),
        rules: rules("left", 5),
    };
    let emulator = seeded(Behaviour::default(), vec![leftover], 0);
    let output = probe(&emulator, "json");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let dump = emulator.dump();
    let names: Vec<&str> = dump.profiles[PROFILE]
        .folders
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["Mine"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("left by an interrupted probe"), "{stderr}");
}

#[test]
fn a_profile_within_1100_rules_of_the_limit_is_refused_untouched() {
    let emulator = seeded(Behaviour::default(), Vec::new(), 8_950);
    let before = profiles(&emulator);
    emulator.reset_stats();
    let output = probe(&emulator, "text");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("holds 8953 rules"), "{stderr}");
    assert_eq!(profiles(&emulator), before);
    let stats = emulator.stats();
    assert_eq!(stats.by_method.get("POST"), None, "{stats:?}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_probe_removes_what_it_made_and_exits_1() {
    let config = EmulatorConfig {
        latency: std::time::Duration::from_millis(100),
        ..EmulatorConfig::default()
    };
    let emulator = seeded_with(config, Vec::new(), 2);
    let before = profiles(&emulator);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ctrld-sync"))
        .env("CTRLD_API_TOKEN", TOKEN)
        .env_remove("CTRLD_API_URL")
        .args(["--api-url", &emulator.url(), "--no-progress"])
        .args(["probe", "--profile", PROFILE, "--max-rps", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt it once it has made something of its own (its first folder).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !emulator.stats().by_method.contains_key("POST") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sends SIGINT to the child this test started and has not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("interrupted: the probe stopped early and removed what it had made"),
        "{stderr}"
    );
    assert_eq!(profiles(&emulator), before, "the profile is as it was");
}

/// Interrupted between a settings change and its put-back, the probe still puts it back.
#[cfg(unix)]
#[test]
fn ctrl_c_during_a_settings_check_puts_the_setting_back() {
    let emulator = seeded(Behaviour::default(), Vec::new(), 0);
    with_settings(&emulator);
    let before = profiles(&emulator);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ctrld-sync"))
        .env("CTRLD_API_TOKEN", TOKEN)
        .env_remove("CTRLD_API_URL")
        .args(["--api-url", &emulator.url(), "--no-progress"])
        .args(["probe", "--profile", PROFILE, "--max-rps", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The filter is switched, then the probe waits a second before writing it again.
    let route = "PUT /profiles/{profile}/filters/filter/{filter}";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !emulator.stats().by_route.contains_key(route) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_ne!(profiles(&emulator), before, "the filter is switched");
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sends SIGINT to the child this test started and has not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(profiles(&emulator), before, "the filter is as it was");
}
