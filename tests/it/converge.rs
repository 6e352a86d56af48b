//! Never plan what cannot happen; always converge. Over random remote states (what the old tool
//! leaves behind: same-named folders with flattened actions; dashboard folders with `via: -1`;
//! mixed-case rules; rules in the root) and random configs, under every emulator knob for an
//! unknown behaviour: after one successful `apply`, `plan --detailed-exitcode` exits 0 at exactly
//! one API call per profile, counted by the emulator.
//!
//! Runs the real command pipeline in-process (`commands::run` on a parsed command line) against
//! an in-process emulator: the binary route costs a process start per command.

use crate::in_process;

use std::collections::BTreeMap;

use controld_emulator::{
    ActionDump, Behaviour, Dump, Emulator, EmulatorConfig, FolderDump, ProfileDump, RuleDump,
};
use ctrld_sync::controld::{Client, ClientConfig, Token};
use ctrld_sync::model::{FolderPk, RuleAction};
use proptest::prelude::*;
use tempfile::TempDir;

const TOKEN: &str = "test-token";
const PROFILE: &str = "p1";
const HOSTS: [&str; 8] = [
    "a.example",
    "b.example",
    "c.example",
    "d.example",
    "e.example",
    "f.example",
    "g.example",
    "h.example",
];
const NAMES: [&str; 3] = ["Ads", "Most Abused TLDs", "Trackers"];

/// One remote folder: name index, action (`None` = no `do`), enabled, made in the dashboard.
#[derive(Clone, Debug)]
struct RemoteFolderCase {
    name: usize,
    kind: Option<u8>,
    enabled: bool,
    dashboard: bool,
}

/// Where each pool hostname is now: nowhere, the root, or remote folder `i`; its case and action.
#[derive(Clone, Debug)]
struct RemoteRuleCase {
    place: Option<Option<usize>>,
    upper: bool,
    kind: u8,
    enabled: bool,
}

/// One configured folder: which name, its source's folder action (`None`: the source gives none,
/// like hagezi's "Most Abused TLDs"), and per pool hostname: listed with allow or block, or not.
#[derive(Clone, Debug)]
struct ConfigFolderCase {
    kind: Option<u8>,
    rules: Vec<Option<bool>>,
}

#[derive(Clone, Debug)]
struct Case {
    remote_folders: Vec<RemoteFolderCase>,
    remote_rules: Vec<RemoteRuleCase>,
    /// Up to one configured folder per name, in config order.
    config: Vec<(usize, ConfigFolderCase)>,
}

fn case() -> impl Strategy<Value = Case> {
    let remote_folder = (
        0..NAMES.len() + 1,
        prop::option::of(0u8..2),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, kind, enabled, dashboard)| RemoteFolderCase {
            name,
            kind: if dashboard {
                Some(kind.unwrap_or(0))
            } else {
                kind
            },
            enabled: enabled || dashboard,
            dashboard,
        });
    let remote_rule = (
        prop::option::of(prop::option::of(0usize..4)),
        any::<bool>(),
        0u8..2,
        prop::bool::weighted(0.8),
    )
        .prop_map(|(place, upper, kind, enabled)| RemoteRuleCase {
            place,
            upper,
            kind,
            enabled,
        });
    let config_folder = (
        prop::option::of(0u8..2),
        prop::collection::vec(prop::option::of(any::<bool>()), HOSTS.len()),
    )
        .prop_map(|(kind, mut rules)| {
            // An empty list is refused (never "remove everything"): list at least one hostname.
            if rules.iter().all(Option::is_none) {
                rules[0] = Some(false);
            }
            ConfigFolderCase { kind, rules }
        });
    let config = prop::collection::btree_map(0..NAMES.len(), config_folder, 1..=NAMES.len())
        .prop_map(|folders| folders.into_iter().collect::<Vec<_>>());
    (
        prop::collection::vec(remote_folder, 0..4),
        prop::collection::vec(remote_rule, HOSTS.len()),
        config,
    )
        .prop_map(|(remote_folders, remote_rules, config)| Case {
            remote_folders,
            remote_rules,
            config,
        })
}

fn name_of(index: usize) -> String {
    NAMES
        .get(index)
        .map_or("Made in the dashboard".to_string(), |n| n.to_string())
}

fn hostname(case: &RemoteRuleCase, index: usize) -> String {
    match case.upper {
        true => HOSTS[index].to_ascii_uppercase(),
        false => HOSTS[index].to_string(),
    }
}

fn action(kind: Option<u8>, enabled: bool) -> ActionDump {
    ActionDump {
        kind,
        status: u8::from(enabled),
        via: None,
        via_v6: None,
    }
}

/// The dump of everything but the dashboard folders (those are made through the emulator's
/// seeding call, and their rules through the API).
fn dump(case: &Case) -> Dump {
    let mut folders: Vec<FolderDump> = Vec::new();
    let mut root = Vec::new();
    for (index, folder) in case.remote_folders.iter().enumerate() {
        if !folder.dashboard {
            folders.push(FolderDump {
                pk: 100 + index as u64,
                name: name_of(folder.name),
                action: action(folder.kind, folder.enabled),
                rules: Vec::new(),
            });
        }
    }
    for (index, rule) in case.remote_rules.iter().enumerate() {
        let dumped = RuleDump {
            hostname: hostname(rule, index),
            action: action(Some(rule.kind), rule.enabled),
        };
        match rule.place {
            Some(None) => root.push(dumped),
            Some(Some(folder)) => {
                let pk = 100 + folder as u64;
                if let Some(target) = folders.iter_mut().find(|f| f.pk == pk) {
                    target.rules.push(dumped);
                }
            }
            None => {}
        }
    }
    let profile = ProfileDump {
        name: PROFILE.into(),
        root,
        folders,
        ..ProfileDump::default()
    };
    Dump {
        next_pk: 200,
        profiles: BTreeMap::from([(PROFILE.to_string(), profile)]),
    }
}

async fn seed_dashboard_folders(emulator: &Emulator, case: &Case) {
    let client = Client::new(ClientConfig::new(
        emulator.url().parse().unwrap(),
        Token::new(TOKEN),
    ))
    .unwrap();
    for (index, folder) in case.remote_folders.iter().enumerate() {
        if !folder.dashboard {
            continue;
        }
        let pk = emulator
            .add_dashboard_folder(PROFILE, &name_of(folder.name), folder.kind.unwrap_or(0))
            .unwrap();
        for (host, rule) in case.remote_rules.iter().enumerate() {
            if rule.place == Some(Some(index)) {
                let action = if rule.kind == 1 {
                    RuleAction::allow()
                } else {
                    RuleAction::block()
                };
                let hostnames = [hostname(rule, host)];
                client
                    .create_rules(PROFILE, Some(FolderPk::new(pk)), &action, &hostnames)
                    .await
                    .unwrap();
            }
        }
    }
}

/// Writes the config and its Control D folder files.
fn write_config(dir: &TempDir, case: &Case) {
    // No pacing: the emulator has no rate limit and each case runs nine applies.
    let mut text =
        format!("[api]\nmax_rps = 10000\n\n[[profile]]\nid = \"{PROFILE}\"\nfolders = [");
    let keys: Vec<String> = case
        .config
        .iter()
        .map(|(name, _)| format!("\"f{name}\""))
        .collect();
    text.push_str(&keys.join(", "));
    text.push_str("]\n\n");
    for (name, folder) in &case.config {
        let rules: Vec<serde_json::Value> = folder
            .rules
            .iter()
            .enumerate()
            .filter_map(|(index, listed)| {
                listed.map(|allow| serde_json::json!({"PK": HOSTS[index], "action": {"do": u8::from(allow), "status": 1}}))
            })
            .collect();
        let group_action = match folder.kind {
            Some(kind) => serde_json::json!({"do": kind, "status": 1}),
            None => serde_json::json!({"status": 1}),
        };
        let content = serde_json::json!({
            "group": {"group": name_of(*name), "action": group_action},
            "rules": rules,
        });
        let file = format!("f{name}.json");
        std::fs::write(dir.path().join(&file), content.to_string()).unwrap();
        text.push_str(&format!("[folder.f{name}]\npath = \"{file}\"\n\n"));
    }
    std::fs::write(dir.path().join("ctrld-sync.toml"), text).unwrap();
}

async fn run(dir: &TempDir, url: &str, args: &[&str]) -> u8 {
    let config = dir.path().join("ctrld-sync.toml");
    in_process::run(&config, url, TOKEN, args)
        .await
        .unwrap_or(1)
}

/// Names configured that match two or more remote folders: adoption is refused then.
fn ambiguous_adoption(case: &Case) -> bool {
    case.config.iter().any(|(name, _)| {
        case.remote_folders
            .iter()
            .filter(|f| f.name == *name)
            .count()
            > 1
    })
}

async fn converges(case: &Case, knob: &str, behaviour: Behaviour) -> Result<(), TestCaseError> {
    let emulator = Emulator::start_background(EmulatorConfig {
        token: TOKEN.into(),
        profiles: vec![PROFILE.into()],
        behaviour,
        ..EmulatorConfig::default()
    })
    .unwrap();
    emulator.load(dump(case));
    seed_dashboard_folders(&emulator, case).await;
    let dir = TempDir::new().unwrap();
    write_config(&dir, case);
    let url = emulator.url();
    let applied = run(&dir, &url, &["apply", "--allow-destroy"]).await;
    if applied != 0 && ambiguous_adoption(case) {
        return Ok(());
    }
    prop_assert_eq!(applied, 0, "apply failed under {}", knob);
    emulator.reset_stats();
    let planned = run(&dir, &url, &["plan", "--detailed-exitcode"]).await;
    prop_assert_eq!(planned, 0, "plan after apply shows changes under {}", knob);
    let stats = emulator.stats();
    prop_assert_eq!(stats.total, 1, "under {}: {:?}", knob, stats);
    prop_assert_eq!(
        stats
            .by_route
            .get("GET /profiles/{profile}/groups")
            .copied(),
        Some(1)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn one_apply_then_plan_shows_no_change_at_one_read_under_every_knob(case in case()) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        for (knob, behaviour) in Behaviour::matrix() {
            runtime.block_on(converges(&case, knob, behaviour))?;
        }
    }
}

/// The old tool's "Most Abused TLDs": made with `do=0`, while the hagezi file gives the folder no
/// action. The API cannot remove it, so the plan leaves it and says so once, in every format.
#[test]
fn a_folder_action_the_source_does_not_give_is_left_with_one_note_in_every_format() {
    let emulator = Emulator::start_background(EmulatorConfig {
        token: TOKEN.into(),
        profiles: vec![PROFILE.into()],
        ..EmulatorConfig::default()
    })
    .unwrap();
    let case = Case {
        remote_folders: vec![RemoteFolderCase {
            name: 1,
            kind: Some(0),
            enabled: true,
            dashboard: false,
        }],
        remote_rules: (0..HOSTS.len())
            .map(|index| RemoteRuleCase {
                place: (index < 3).then_some(Some(0)),
                upper: false,
                kind: 0,
                enabled: true,
            })
            .collect(),
        config: vec![(
            1,
            ConfigFolderCase {
                kind: None,
                rules: (0..HOSTS.len()).map(|i| (i < 4).then_some(false)).collect(),
            },
        )],
    };
    emulator.load(dump(&case));
    let dir = TempDir::new().unwrap();
    write_config(&dir, &case);
    let url = emulator.url();
    let plan = |format: &str| {
        let output = assert_cmd::Command::cargo_bin("ctrld-sync")
            .unwrap()
            .env("CTRLD_API_TOKEN", TOKEN)
            .args([
                "--config",
                &dir.path().join("ctrld-sync.toml").display().to_string(),
            ])
            .args([
                "--api-url",
                &url,
                "--no-progress",
                "plan",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let note = "the config gives it no action, the folder in Control D has one (block)";
    for format in ["text", "markdown", "json"] {
        let out = plan(format);
        assert_eq!(out.matches(note).count(), 1, "{format}: {out}");
        assert!(!out.contains("update from"), "{format}: {out}");
    }
    let json: serde_json::Value = serde_json::from_str(&plan("json")).unwrap();
    assert_eq!(json["profiles"][0]["notes"].as_array().unwrap().len(), 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(runtime.block_on(run(&dir, &url, &["apply"])), 0);
    emulator.reset_stats();
    let planned = runtime.block_on(run(&dir, &url, &["plan", "--detailed-exitcode"]));
    assert_eq!(planned, 0);
    assert_eq!(emulator.stats().total, 1);
    let folder = &emulator.dump().profiles[PROFILE].folders[0];
    assert_eq!(folder.action.kind, Some(0), "the folder keeps its action");
}
