//! `[sources] on_error = "keep"`: a folder whose source fails is kept as it is (its rules still win
//! overlaps in config order), the other folders sync, plan and report name the folder and the
//! error, the run exits 1 and the state keeps the last good source record.

use crate::apply_support;

use std::process::Output;

use controld_emulator::{Emulator, EmulatorConfig};
use tempfile::TempDir;

use apply_support::TOKEN;

struct Setup {
    dir: TempDir,
    lists: TempDir,
    emulator: Emulator,
}

impl Setup {
    fn start(on_error: &str) -> Self {
        let lists = TempDir::new().unwrap();
        let emulator = Emulator::start_background(EmulatorConfig {
            token: TOKEN.into(),
            serve_dir: Some(lists.path().to_path_buf()),
            ..EmulatorConfig::default()
        })
        .unwrap();
        let setup = Self {
            dir: TempDir::new().unwrap(),
            lists,
            emulator,
        };
        setup.list("first.txt", "a1.example\na2.example\nshared.example\n");
        setup.list("second.txt", "b1.example\nshared.example\n");
        let config = format!(
            "[sources]\non_error = \"{on_error}\"\nretries = 0\n\n\
             [[profile]]\nid = \"p1\"\nfolders = [\"first\", \"second\"]\n\n\
             [folder.first]\nurl = \"{}\"\nname = \"First\"\naction = \"block\"\n\n\
             [folder.second]\nurl = \"{}\"\nname = \"Second\"\naction = \"block\"\n",
            setup.url("first.txt"),
            setup.url("second.txt")
        );
        std::fs::write(setup.dir.path().join("ctrld-sync.toml"), config).unwrap();
        setup
    }

    fn url(&self, name: &str) -> String {
        format!("{}/_lists/{name}", self.emulator.url())
    }

    fn list(&self, name: &str, content: &str) {
        std::fs::write(self.lists.path().join(name), content).unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        apply_support::run_in(self.dir.path(), &self.emulator.url(), args)
    }

    /// Folder name -> sorted hostnames, as the emulator holds them.
    fn remote(&self) -> Vec<(String, Vec<String>)> {
        let dump = self.emulator.dump();
        let mut folders: Vec<(String, Vec<String>)> = dump.profiles["p1"]
            .folders
            .iter()
            .map(|folder| {
                let mut rules: Vec<String> =
                    folder.rules.iter().map(|r| r.hostname.clone()).collect();
                rules.sort();
                (folder.name.clone(), rules)
            })
            .collect();
        folders.sort();
        folders
    }

    fn state(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.path().join("state/p1.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hosts(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn a_failed_source_keeps_its_folder_and_the_others_sync() {
    let setup = Setup::start("keep");
    let first = setup.run(&["apply"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let last_good = setup.state()["folders"]["first"]["source"].clone();
    assert!(last_good["sha256"].is_string(), "{last_good}");

    // The first list is gone; the second changed and no longer holds the overlap.
    std::fs::remove_file(setup.lists.path().join("first.txt")).unwrap();
    setup.list("second.txt", "b1.example\nb2.example\nshared.example\n");
    let plan = setup.run(&["plan", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan.stderr));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(json["kept"][0]["key"], "first");
    assert_eq!(json["kept"][0]["location"], setup.url("first.txt"));
    assert!(
        json["kept"][0]["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 404"),
        "{json}"
    );
    let folders = json["profiles"][0]["folders"].as_array().unwrap();
    let first_plan = folders.iter().find(|f| f["key"] == "first").unwrap();
    assert_eq!(first_plan["kind"]["type"], "keep", "{first_plan}");
    assert_eq!(first_plan["remove"], serde_json::json!({}), "{first_plan}");
    assert_eq!(first_plan["unchanged"], 3, "{first_plan}");
    let text_plan = setup.run(&["plan"]);
    assert!(
        text(&text_plan.stdout).starts_with(&format!(
            "! folder `first` kept as it is: {}: the server answered HTTP 404 Not Found\n",
            setup.url("first.txt")
        )),
        "{}",
        text(&text_plan.stdout)
    );
    let markdown = setup.run(&["plan", "--format", "markdown"]);
    assert!(text(&markdown.stdout).contains("**Source failed:** folder `first`"));

    // A saved plan remembers the kept folder: applying it still fails the run.
    let saved = setup.run(&["plan", "--out", "kept.plan.json"]);
    assert_eq!(saved.status.code(), Some(1), "{}", text(&saved.stderr));
    let from_file = setup.run(&["apply", "kept.plan.json"]);
    assert_eq!(
        from_file.status.code(),
        Some(1),
        "{}",
        text(&from_file.stderr)
    );
    assert!(text(&from_file.stdout).starts_with("! folder `first` kept as it is"));
    assert!(text(&from_file.stderr).contains("kept as it is because its source failed"));

    let applied = setup.run(&["apply", "--report", "report.json"]);
    assert_eq!(applied.status.code(), Some(1), "{}", text(&applied.stderr));
    let stderr = text(&applied.stderr);
    assert!(
        stderr.contains("1 folder kept as it is because its source failed")
            && stderr.contains("`first`"),
        "{stderr}"
    );
    assert!(text(&applied.stdout).contains("folder `first` kept as it is"));
    assert_eq!(
        setup.remote(),
        vec![
            (
                "First".to_string(),
                hosts(&["a1.example", "a2.example", "shared.example"])
            ),
            ("Second".to_string(), hosts(&["b1.example", "b2.example"])),
        ],
        "the kept folder still wins the overlap; the other folder synced"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(setup.dir.path().join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["sources"]["kept"][0]["key"], "first");
    assert_eq!(setup.state()["folders"]["first"]["source"], last_good);

    // The source is back: the folder syncs again, nothing kept.
    setup.list("first.txt", "a1.example\nshared.example\n");
    let healed = setup.run(&["apply"]);
    assert_eq!(healed.status.code(), Some(0), "{}", text(&healed.stderr));
    assert_eq!(
        setup.remote()[0].1,
        hosts(&["a1.example", "shared.example"])
    );
}

#[test]
fn by_default_a_failed_source_stops_the_run_before_any_plan() {
    let setup = Setup::start("fail");
    let first = setup.run(&["apply"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    std::fs::remove_file(setup.lists.path().join("first.txt")).unwrap();
    let plan = setup.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(plan.stdout.is_empty(), "{}", text(&plan.stdout));
    assert!(text(&plan.stderr).contains("HTTP 404"));
}

#[test]
fn a_folder_never_synced_cannot_be_kept() {
    let setup = Setup::start("keep");
    std::fs::remove_file(setup.lists.path().join("first.txt")).unwrap();
    let plan = setup.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let stderr = text(&plan.stderr);
    assert!(stderr.contains("HTTP 404"), "{stderr}");
    assert!(
        stderr.contains("folder `first` cannot be kept as it is"),
        "{stderr}"
    );
    assert!(plan.stdout.is_empty());
}
