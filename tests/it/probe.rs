//! `ctrld-sync probe` against the emulator: every check passes and the profile is byte-identical
//! afterwards; a knob that breaks an assumption is reported, exits 1 and still cleans up; so does
//! Ctrl-C.

use crate::apply_support::{block, TOKEN};
use assert_cmd::Command;
use controld_emulator::{
    Behaviour, Dump, Emulator, EmulatorConfig, FolderDump, FolderPks, ProfileDump, RuleDump,
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
    let before = profiles(&emulator);
    let output = probe(&emulator, "json");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let checks = checks(&output);
    assert_eq!(checks.len(), 13, "{checks:#?}");
    for check in &checks {
        assert_eq!(check["ok"], true, "{check}");
    }
    let cut = checks
        .iter()
        .find(|c| c["check"].as_str().unwrap().contains("cut"))
        .unwrap();
    assert_eq!(cut["observed"], "998 stored: cut after 1001 form variables");
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
    assert_eq!(lines.len(), 14, "{text}");
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
