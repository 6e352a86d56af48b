//! `init --from-profile` round-trips: on a profile with empty folders, folders without an action,
//! mixed-case rules, per-rule actions and rules in the root, the first `plan --detailed-exitcode`
//! after it exits 0. And `init` never overwrites list files without `--force`.

use crate::apply_support;

use apply_support::{block, folder, preload, read, rule, Setup};
use controld_emulator::{ActionDump, FolderDump, RuleDump, SettingsDump};

fn allow() -> ActionDump {
    ActionDump {
        kind: Some(1),
        ..block()
    }
}

/// A profile as the old tool (and hand edits) leave it.
fn lived_in_profile(setup: &Setup) {
    let mixed = FolderDump {
        rules: vec![
            rule("ads.example.com"),
            rule("MiXeD.Example.COM"),
            RuleDump {
                hostname: "ok.example.com".into(),
                action: allow(),
            },
        ],
        ..folder(11, "Most Abused TLDs", &[])
    };
    let empty = folder(12, "Spam IDNs", &[]);
    let no_action = FolderDump {
        action: ActionDump {
            kind: None,
            ..block()
        },
        ..folder(13, "No Action", &["noaction.example.com".to_string()])
    };
    let disabled = FolderDump {
        action: ActionDump {
            status: 0,
            ..block()
        },
        ..folder(14, "Disabled", &["off.example.com".to_string()])
    };
    preload(
        &setup.emulator,
        "p1",
        vec![mixed, empty, no_action, disabled],
        vec![rule("root.example.com"), rule("Root.Mixed.Example")],
    );
    let mut dump = setup.emulator.dump();
    let action = |kind: u8, status: u8, via: Option<&str>| ActionDump {
        kind: Some(kind),
        status,
        via: via.map(str::to_string),
        via_v6: None,
    };
    dump.profiles.get_mut("p1").unwrap().settings = SettingsDump {
        filters: vec![
            "ads_medium".into(),
            "ip_malware".into(),
            "malware".into(),
            "social".into(),
            "x-oisd-big".into(),
        ],
        services: [
            ("tiktok".to_string(), action(0, 1, None)),
            ("zoom".to_string(), action(2, 0, Some("10.0.0.1"))),
            ("netflix".to_string(), action(2, 1, Some("10.0.0.2"))),
        ]
        .into(),
        default_rule: action(0, 1, None),
        options: [
            ("safesearch".to_string(), "1".to_string()),
            ("ttl_blck".to_string(), "30".to_string()),
            ("ai_malware".to_string(), "0.7".to_string()),
        ]
        .into(),
    };
    setup.emulator.load(dump);
}

fn init(setup: &Setup, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["init", "--from-profile", "p1"];
    args.extend_from_slice(extra);
    setup.run(&args)
}

#[test]
fn the_first_plan_after_init_from_profile_has_no_changes() {
    let setup = Setup::with_profiles(&["p1"], Vec::new());
    lived_in_profile(&setup);
    std::fs::remove_file(setup.config_path()).unwrap();
    let output = init(&setup, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config = read(&setup.config_path());
    assert!(config.contains("allow_empty = true"), "{config}");
    for line in [
        "default = \"block\"\n",
        "filters = { ads = \"ads_medium\", malware = true, social = true, x-oisd-big = true }\n",
        "services = { netflix = { spoof = \"10.0.0.2\" }, tiktok = \"block\", zoom = \"off\" }\n",
        "options = { ai_malware = \"0.7\", safesearch = true, ttl_blck = \"30\" }\n",
    ] {
        assert!(config.contains(line), "{line}{config}");
    }
    let settings_before = setup.emulator.dump().profiles["p1"].settings.clone();

    let validated = setup.run(&["validate"]);
    assert!(
        validated.status.success(),
        "{}",
        String::from_utf8_lossy(&validated.stderr)
    );
    for refresh in ["auto", "full"] {
        let plan = setup.run(&["plan", "--detailed-exitcode", "--refresh", refresh]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "--refresh {refresh}\nconfig:\n{config}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&plan.stdout),
            String::from_utf8_lossy(&plan.stderr)
        );
    }
    let applied = setup.run(&["apply"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let after = setup.run(&["plan", "--detailed-exitcode", "--refresh", "full"]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
    let dump = setup.emulator.dump();
    let profile = &dump.profiles["p1"];
    assert_eq!(
        profile.settings, settings_before,
        "the imported settings are left as they were"
    );
    assert_eq!(profile.folders.len(), 4, "no folder made or lost");
    assert!(profile
        .root
        .iter()
        .any(|r| r.hostname == "Root.Mixed.Example"));
    let mixed = profile.folders.iter().find(|f| f.pk == 11).unwrap();
    assert!(mixed
        .rules
        .iter()
        .any(|r| r.hostname == "MiXeD.Example.COM"));
}

#[test]
fn init_refuses_to_overwrite_list_files_without_force() {
    let setup = Setup::with_profiles(&["p1"], Vec::new());
    lived_in_profile(&setup);
    std::fs::remove_file(setup.config_path()).unwrap();
    let list = setup.dir.path().join("lists/most-abused-tlds-folder.json");
    std::fs::create_dir_all(list.parent().unwrap()).unwrap();
    std::fs::write(&list, "mine\n").unwrap();
    let refused = init(&setup, &[]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("most-abused-tlds-folder.json already exists"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(read(&list), "mine\n");
    assert!(!setup.config_path().exists(), "nothing written");

    let forced = init(&setup, &["--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_ne!(read(&list), "mine\n");
}
