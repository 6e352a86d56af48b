//! `ctrld-sync plan` and `state show` as a user runs them: the real binary against the emulator
//! over loopback HTTP, with configs, sources and state files in a temporary directory.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use controld_emulator::{
    ActionDump, Dump, Emulator, EmulatorConfig, FolderDump, ProfileDump, RuleDump,
};
use ctrld_sync::model::{ActionKind, FolderAction, FolderPk, Hostname, RuleAction};
use ctrld_sync::state::{FolderState, ProfileState, StateStore};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;

const GROUPS: &str = "GET /profiles/{profile}/groups";
const FOLDER_RULES: &str = "GET /profiles/{profile}/rules/{group}";

/// One user's setup: a config with folders `ads` (then `extra` when given) and an emulator.
struct World {
    dir: tempfile::TempDir,
    emulator: Emulator,
}

impl World {
    fn new(folders: &[(&str, &str, &[&str])]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<String> = folders.iter().map(|(k, _, _)| format!("\"{k}\"")).collect();
        let mut config = format!(
            "[[profile]]\nid = \"p1\"\nfolders = [{}]\n",
            keys.join(", ")
        );
        for (key, name, hosts) in folders {
            config.push_str(&format!(
                "\n[folder.{key}]\npath = \"{key}.txt\"\nformat = \"domains\"\nname = \"{name}\"\naction = \"block\"\n"
            ));
            std::fs::write(dir.path().join(format!("{key}.txt")), hosts.join("\n")).unwrap();
        }
        std::fs::write(dir.path().join("ctrld-sync.toml"), config).unwrap();
        let emulator = Emulator::start_background(EmulatorConfig::default()).unwrap();
        Self { dir, emulator }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("ctrld-sync").unwrap();
        cmd.current_dir(self.path())
            .args(["--no-progress", "--color", "never", "--api-url"])
            .arg(self.emulator.url())
            .env("CTRLD_API_TOKEN", "test-token")
            .env_remove("CTRLD_API_URL");
        cmd
    }

    fn plan(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd().arg("plan").args(args).assert()
    }

    /// The remote profile p1 holds these folders (pk, name, block rules).
    fn remote(&self, folders: &[(u64, &str, &[&str])], root: &[&str]) {
        let block = || ActionDump {
            kind: Some(0),
            status: 1,
            via: None,
            via_v6: None,
        };
        let rules = |hosts: &[&str]| {
            hosts
                .iter()
                .map(|h| RuleDump {
                    hostname: h.to_string(),
                    action: block(),
                })
                .collect()
        };
        let profile = ProfileDump {
            name: "p1".into(),
            root: rules(root),
            folders: folders
                .iter()
                .map(|(pk, name, hosts)| FolderDump {
                    pk: *pk,
                    name: name.to_string(),
                    action: block(),
                    rules: rules(hosts),
                })
                .collect(),
            ..ProfileDump::default()
        };
        self.emulator.load(Dump {
            next_pk: 1000,
            profiles: BTreeMap::from([("p1".to_string(), profile)]),
        });
        self.emulator.reset_stats();
    }

    /// A state file saying key -> (pk, name, block rules). Written without the state dir's lock: a
    /// process another test thread forks meanwhile would inherit the lock until it execs.
    fn state(&self, folders: &[(&str, u64, &str, &[&str])]) {
        let mut state = ProfileState::new("p1");
        state.serial = 1;
        for (key, pk, name, hosts) in folders {
            let rules = hosts
                .iter()
                .map(|h| (Hostname::parse(h).unwrap(), RuleAction::block()))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into();
            let folder = FolderState {
                pk: FolderPk::new(*pk),
                name: name.to_string(),
                action: FolderAction::of(ActionKind::Block),
                rules,
                overlapped: BTreeMap::new(),
                held_by_unmanaged: BTreeMap::new(),
                source: None,
            };
            state.folders.insert(key.to_string(), folder);
        }
        let dir = self.path().join("state");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("p1.json"), state.to_json()).unwrap();
    }

    fn calls(&self) -> (u64, BTreeMap<String, u64>) {
        let stats = self.emulator.stats();
        (stats.total, stats.by_route)
    }
}

fn json(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("stdout is the JSON plan")
}

#[test]
fn adopts_an_existing_same_named_folder_and_changes_only_what_differs() {
    let world = World::new(&[("ads", "Ads", &["a.example", "b.example", "d.example"])]);
    world.remote(&[(7, "Ads", &["a.example", "b.example", "c.example"])], &[]);
    let assert = world.plan(&["--format", "json"]).success();
    let plan = json(&assert);
    let folder = &plan["profiles"][0]["folders"][0];
    assert_eq!(folder["pk"], 7);
    assert_eq!(folder["adopted"], true);
    assert_eq!(folder["kind"]["type"], "keep");
    assert_eq!(folder["add"], serde_json::json!({"d.example": "block"}));
    assert_eq!(folder["remove"], serde_json::json!({"c.example": "block"}));
    assert_eq!(folder["unchanged"], 2);
    let steps = plan["profiles"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{steps:?}");
    let (total, routes) = world.calls();
    assert_eq!(total, 2);
    assert_eq!(routes[GROUPS], 1);
    assert_eq!(routes[FOLDER_RULES], 1);
}

#[test]
fn among_folders_of_the_adopted_name_the_one_with_most_matching_rules_is_taken() {
    let world = World::new(&[("ads", "Ads", &["a.example", "b.example"])]);
    world.remote(
        &[
            (7, "Ads", &["x.example", "y.example", "a.example"]),
            (8, "Ads", &["a.example", "b.example"]),
            (9, "Ads", &[]),
        ],
        &[],
    );
    let plan = json(&world.plan(&["--format", "json"]).success());
    let profile = &plan["profiles"][0];
    assert_eq!(profile["folders"][0]["pk"], 8);
    assert_eq!(profile["folders"][0]["adopted"], true);
    assert_eq!(
        profile["steps"],
        serde_json::json!([]),
        "folders 7 and 9 are left alone"
    );
    assert_eq!(
        profile["duplicates"],
        serde_json::json!([{"key": "ads", "name": "Ads", "adopted": 8, "left_alone": [7, 9]}])
    );
    world.plan(&[]).success().stdout(contains(
        "duplicates: 3 folders are named \"Ads\"; `ads` adopted PK 8 (most matching rules), left alone: PK 7, PK 9",
    ));
    // Each candidate is read once per plan.
    assert_eq!(world.calls().1[FOLDER_RULES], 6);
}

#[test]
fn folders_of_the_adopted_name_tied_on_matching_rules_go_to_the_lowest_pk() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.remote(&[(8, "Ads", &[]), (7, "Ads", &[])], &[]);
    let plan = json(&world.plan(&["--format", "json"]).success());
    assert_eq!(plan["profiles"][0]["folders"][0]["pk"], 7);
    assert_eq!(
        plan["profiles"][0]["duplicates"][0]["left_alone"],
        serde_json::json!([8])
    );
}

#[test]
fn a_folder_whose_count_drifted_is_read_and_fixed() {
    let world = World::new(&[("ads", "Ads", &["a.example", "b.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example", "b.example"])]);
    world.remote(&[(7, "Ads", &["a.example", "b.example", "x.example"])], &[]);
    let plan = json(&world.plan(&["--format", "json"]).success());
    let folder = &plan["profiles"][0]["folders"][0];
    assert_eq!(folder["remove"], serde_json::json!({"x.example": "block"}));
    assert_eq!(folder["adopted"], Value::Null);
    assert_eq!(world.calls().1[FOLDER_RULES], 1);
}

#[test]
fn a_plan_with_no_drift_costs_one_read_and_says_no_changes() {
    let world = World::new(&[("ads", "Ads", &["a.example", "b.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example", "b.example"])]);
    world.remote(&[(7, "Ads", &["a.example", "b.example"])], &[]);
    world
        .plan(&["--detailed-exitcode"])
        .code(0)
        .stdout("No changes. Profile p1 matches the config.\n");
    let (total, routes) = world.calls();
    assert_eq!((total, routes[GROUPS]), (1, 1));
}

#[test]
fn detailed_exitcode_is_2_when_there_are_changes() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.remote(&[], &[]);
    world
        .plan(&["--detailed-exitcode"])
        .code(2)
        .stdout(contains("+ folder `ads` \"Ads\" (block): create"))
        .stdout(contains("+ a.example block"))
        .stdout(contains(
            "Plan: 1 folder to create, 0 to update, 0 to delete; 1 rule to add",
        ));
    world.plan(&[]).code(0);
}

#[test]
fn overlaps_go_to_the_first_folder_in_config_order() {
    let world = World::new(&[
        ("first", "First", &["shared.example", "one.example"]),
        ("second", "Second", &["shared.example", "two.example"]),
    ]);
    world.remote(&[], &[]);
    let per_hostname = "overlap: shared.example is kept by `first`, dropped from `second`";
    world
        .plan(&[])
        .success()
        .stdout(contains(
            "overlap: 1 hostname of `second` is kept by `first`",
        ))
        .stdout(contains(per_hostname).not());
    world.plan(&["-v"]).success().stdout(contains(per_hostname));
}

#[test]
fn full_refresh_skips_hostnames_held_by_unmanaged_rules() {
    let world = World::new(&[("ads", "Ads", &["a.example", "mine.example"])]);
    world.remote(&[(9, "Mine", &[])], &["mine.example"]);
    let assert = world
        .plan(&["--refresh", "full", "--format", "json"])
        .success();
    let plan = json(&assert);
    assert_eq!(
        plan["profiles"][0]["unmanaged_skipped"][0]["hostname"],
        "mine.example"
    );
    assert_eq!(
        plan["profiles"][0]["folders"][0]["add"],
        serde_json::json!({"a.example": "block"})
    );
}

#[test]
fn passing_the_rule_limit_is_refused_before_any_write() {
    let hosts: Vec<String> = (0..10_001).map(|i| format!("h{i}.example")).collect();
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let world = World::new(&[("big", "Big", &hosts)]);
    world.remote(&[], &[]);
    world
        .plan(&[])
        .code(1)
        .stdout("")
        .stderr(contains("profile p1: the plan would leave 10001 rules"))
        .stderr(contains("limit of 10000"));
    assert_eq!(world.calls().0, 1, "only the refresh read was sent");
}

#[test]
fn deleting_a_managed_folder_is_flagged_as_needing_allow_destroy() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.state(&[
        ("ads", 7, "Ads", &["a.example"]),
        ("old", 8, "Old", &["o.example"]),
    ]);
    world.remote(
        &[(7, "Ads", &["a.example"]), (8, "Old", &["o.example"])],
        &[],
    );
    world
        .plan(&[])
        .success()
        .stdout(contains("- folder `old` \"Old\" (block, PK 8): delete"))
        .stderr(contains("apply will refuse this unless --allow-destroy"))
        .stderr(contains("folder `old` (\"Old\", PK 8) would be deleted"));
}

#[test]
fn refresh_none_needs_no_token_and_sends_nothing() {
    let world = World::new(&[("ads", "Ads", &["a.example", "b.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example"])]);
    world.remote(&[], &[]);
    world
        .cmd()
        .env_remove("CTRLD_API_TOKEN")
        .args(["plan", "--refresh", "none"])
        .assert()
        .success()
        .stdout(contains("+ b.example block"));
    assert_eq!(world.calls().0, 0);
}

#[test]
fn a_missing_token_says_where_to_make_one() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world
        .cmd()
        .env_remove("CTRLD_API_TOKEN")
        .arg("plan")
        .assert()
        .code(1)
        .stderr(contains("CTRLD_API_TOKEN"))
        .stderr(contains("Preferences > API"));
}

#[test]
fn an_unknown_profile_is_an_error() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world
        .plan(&["--profile", "nope"])
        .code(1)
        .stderr(contains("nope"));
}

#[test]
fn out_saves_a_plan_file_without_the_token() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.remote(&[], &[]);
    world
        .plan(&["--out", "plan.json", "--format", "json"])
        .success();
    let text = std::fs::read_to_string(world.path().join("plan.json")).unwrap();
    assert!(!text.contains("test-token"));
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["format_version"], ctrld_sync::plan::PLAN_FILE_VERSION);
    assert_eq!(file["profiles"][0]["profile"], "p1");
    assert_eq!(file["profiles"][0]["serial"], 0);
    assert_eq!(
        file["profiles"][0]["target"]["folders"]["ads"]["rules"],
        serde_json::json!({"a.example": "block"})
    );
    assert_eq!(
        file["profiles"][0]["remote_fingerprint"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
}

#[test]
fn markdown_has_a_summary_table_and_details() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.remote(&[], &[]);
    world
        .plan(&["--format", "markdown"])
        .success()
        .stdout(contains("| `p1` | 1/0/0 | 1 | 0 | 0 | 0 | 4 |"))
        .stdout(contains("<details><summary>+ folder `ads`"));
}

#[test]
fn state_show_prints_folders_and_counts() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example", "b.example"])]);
    world
        .cmd()
        .args(["state", "show"])
        .assert()
        .success()
        .stdout(contains("profile p1"))
        .stdout(contains("serial 1"))
        .stdout(contains("folder ads: PK 7, \"Ads\", block"))
        .stdout(contains("rules:    2 (block 2)"));
}

#[test]
fn a_second_run_on_a_locked_state_dir_is_refused() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    let _held = StateStore::open(world.path().join("state")).unwrap();
    world
        .plan(&["--refresh", "none"])
        .code(1)
        .stderr(contains("is locked by pid"))
        .stderr(contains("another ctrld-sync run"));
}

#[test]
fn full_refresh_reads_every_folder_and_the_root() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example"])]);
    world.remote(
        &[(7, "Ads", &["a.example"]), (9, "Mine", &["m.example"])],
        &["r.example"],
    );
    world
        .plan(&["--refresh", "full", "--detailed-exitcode"])
        .code(0);
    let (total, routes) = world.calls();
    assert_eq!(total, 4);
    assert_eq!(routes[GROUPS], 1);
    assert_eq!(routes[FOLDER_RULES], 2);
    assert_eq!(routes["GET /profiles/{profile}/rules"], 1);
}

#[test]
fn a_leftover_scratch_folder_is_deleted_by_the_plan() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example"])]);
    world.remote(
        &[
            (7, "Ads", &["a.example"]),
            (40, "ctrld-sync scratch", &["z.example"]),
        ],
        &[],
    );
    let plan = json(&world.plan(&["--format", "json"]).success());
    assert_eq!(
        plan["profiles"][0]["steps"],
        serde_json::json!([{"step": "delete_leftover_scratch", "pk": 40}])
    );
}

#[test]
fn a_state_folder_gone_remotely_is_adopted_by_name_or_created() {
    let world = World::new(&[("ads", "Ads", &["a.example"])]);
    world.state(&[("ads", 7, "Ads", &["a.example"])]);
    // PK 7 is gone; a folder of the same name exists under PK 9: adopted.
    world.remote(&[(9, "Ads", &["a.example"])], &[]);
    let plan = json(&world.plan(&["--format", "json"]).success());
    let folder = &plan["profiles"][0]["folders"][0];
    assert_eq!(
        (folder["pk"].clone(), folder["adopted"].clone()),
        (9.into(), true.into())
    );
    assert_eq!(plan["profiles"][0]["steps"], serde_json::json!([]));
    // Nothing of that name either: created.
    world.remote(&[], &[]);
    let plan = json(&world.plan(&["--format", "json"]).success());
    assert_eq!(plan["profiles"][0]["folders"][0]["kind"]["type"], "create");
}
