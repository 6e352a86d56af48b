//! The README's promises to a newcomer: its first command (the sandbox run of the example config)
//! works from a fresh copy with no token and no network, and the commands it shows do what it says.

use crate::apply_support;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

const CONFIG: &str = "examples/ctrld-sync.toml";

/// A copy of `examples/` and `state/` as a fresh clone has them (config, lists, committed state; no
/// sandbox data). Returns the copy's root.
fn fresh_clone() -> TempDir {
    let dir = TempDir::new().unwrap();
    apply_support::copy_tree(Path::new("examples"), &dir.path().join("examples"));
    apply_support::copy_tree(Path::new("state"), &dir.path().join("state"));
    let _ = fs::remove_file(dir.path().join("state/.sandbox.json"));
    let _ = fs::remove_file(dir.path().join("state/.lock"));
    // A clone has `.git`: the example's `state_dir = "../state"` stays inside its repository.
    fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn ctrld_sync(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("ctrld-sync").unwrap();
    command
        .current_dir(cwd)
        .env_remove("CTRLD_API_TOKEN")
        .env_remove("CTRLD_API_URL")
        .env("NO_COLOR", "1");
    command
}

/// The README's first command, word for word after `cargo run --`.
fn readme_sandbox_args() -> Vec<String> {
    let readme = fs::read_to_string("README.md").unwrap();
    let line = readme
        .lines()
        .find(|line| line.starts_with("cargo run -- ") && line.contains("--sandbox"))
        .expect("the README shows the sandbox command");
    let command = line.split('#').next().unwrap();
    command
        .split_whitespace()
        .skip(3)
        .map(str::to_string)
        .collect()
}

fn state_files(root: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(root.join("state"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn readme_first_command_is_a_real_first_sync_that_rewrites_the_committed_state_identically() {
    let args = readme_sandbox_args();
    assert_eq!(args, ["--config", CONFIG, "--sandbox", "apply"]);
    let dir = fresh_clone();
    let committed = state_files(dir.path());
    assert_eq!(
        committed.len(),
        2,
        "the example's state files are committed in state/"
    );

    let output = ctrld_sync(dir.path()).args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains("sandbox") && stderr.contains("not to Control D"),
        "{stderr}"
    );
    // The path as the system writes it (`state\.sandbox.json` on Windows).
    let sandbox_file = Path::new("state").join(".sandbox.json");
    assert!(
        stderr.contains(&sandbox_file.display().to_string()),
        "{stderr}"
    );
    // A real first sync against the empty emulator: the plan's `+` lines, then a report with writes.
    assert!(stdout.contains("10 folders to create"), "{stdout}");
    assert!(stdout.contains("+ folder `badware`"), "{stdout}");
    assert!(stdout.contains("+ ads.example.com block"), "{stdout}");
    assert!(
        stdout.contains("overlap: 1 hostname of `ads` is kept by `badware`"),
        "{stdout}"
    );
    assert!(stdout.contains("Apply report"), "{stdout}");
    assert!(stdout.contains("folders: 10 created"), "{stdout}");
    assert!(stdout.contains("  + service tiktok: block"), "{stdout}");
    assert!(stdout.contains("settings: 13 changed"), "{stdout}");
    assert!(
        stdout.contains("POST /profiles/{profile}/rules"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("controld.com/dashboard"),
        "no dashboard link for the sandbox: {stdout}"
    );
    assert_eq!(
        state_files(dir.path()),
        committed,
        "the sync writes the committed state files byte for byte (git status stays clean)"
    );

    // The second run: nothing to change, one read per profile and one row read for the settings.
    let stdout = run_ok(ctrld_sync(dir.path()).args(&args));
    assert!(stdout.contains("No changes."), "{stdout}");
    assert!(
        !stdout.contains("overlap"),
        "nothing to change, no overlap lines: {stdout}"
    );
    assert!(stdout.contains("API calls: 3 (GET 3)"), "{stdout}");
    assert_eq!(state_files(dir.path()), committed);
}

#[test]
fn sandbox_first_sync_without_state_files_writes_the_committed_ones() {
    let dir = fresh_clone();
    let committed = state_files(dir.path());
    for (name, _) in &committed {
        fs::remove_file(dir.path().join("state").join(name)).unwrap();
    }
    let stdout = run_ok(ctrld_sync(dir.path()).args(["--config", CONFIG, "--sandbox", "apply"]));
    assert!(stdout.contains("folders: 10 created"), "{stdout}");
    assert_eq!(
        state_files(dir.path()),
        committed,
        "lineage and PKs are the sandbox's, fixed"
    );

    ctrld_sync(dir.path())
        .args([
            "--config",
            CONFIG,
            "--sandbox",
            "plan",
            "--detailed-exitcode",
        ])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("No changes."));
}

#[test]
fn a_new_sandbox_leaves_state_files_it_did_not_write_alone() {
    let dir = fresh_clone();
    let path = dir.path().join("state/1kids2sandbox.json");
    let foreign = "  \"lineage\": \"0123456789abcdef\",";
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(|line| match line.trim_start().starts_with("\"lineage\"") {
            true => foreign,
            false => line,
        })
        .collect();
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    run_ok(ctrld_sync(dir.path()).args(["--config", CONFIG, "--sandbox", "apply"]));
    let after = fs::read_to_string(&path).unwrap();
    assert!(after.contains(foreign), "its lineage is kept: {after}");
}

/// "N rules to add" of a plan's summary line, or "rules: N added" of an apply report.
fn count_after(text: &str, marker: &str) -> u64 {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} in {text}"));
    let digits: String = text[..at]
        .chars()
        .rev()
        .skip_while(|c| *c == ' ')
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

#[test]
fn a_new_sandbox_applies_the_plan_it_made_and_plans_exactly_what_the_apply_does() {
    let dir = fresh_clone();
    let committed = state_files(dir.path());
    let plan_file = dir.path().join("sandbox.plan");
    let plan = run_ok(
        ctrld_sync(dir.path())
            .args(["--config", CONFIG, "--sandbox", "plan", "--out"])
            .arg(&plan_file),
    );
    assert!(
        !plan.contains("held by"),
        "no hostname is held by anyone in an empty sandbox: {plan}"
    );
    assert_eq!(
        state_files(dir.path()),
        committed,
        "plan writes no state file"
    );
    assert!(
        !dir.path().join("state/.sandbox.json").exists(),
        "plan leaves the sandbox new"
    );

    let report = run_ok(
        ctrld_sync(dir.path())
            .args(["--config", CONFIG, "--sandbox", "apply"])
            .arg(&plan_file),
    );
    assert_eq!(
        count_after(&plan, " rules to add"),
        count_after(&report, " added"),
        "plan: {plan}\nreport: {report}"
    );
    assert_eq!(
        state_files(dir.path()),
        committed,
        "the committed state, byte for byte"
    );
}

#[test]
fn a_new_sandbox_without_state_files_applies_its_saved_plan() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("mine.txt"), "a.example\nb.example\n").unwrap();
    fs::write(
        dir.path().join("ctrld-sync.toml"),
        "[[profile]]\nid = \"newprofile1\"\nfolders = [\"mine\"]\n\n\
         [folder.mine]\npath = \"mine.txt\"\nname = \"Mine\"\naction = \"block\"\n",
    )
    .unwrap();
    let plan_file = dir.path().join("p.plan");
    run_ok(
        ctrld_sync(dir.path())
            .args(["--sandbox", "plan", "--out"])
            .arg(&plan_file),
    );
    let report = run_ok(
        ctrld_sync(dir.path())
            .args(["--sandbox", "apply"])
            .arg(&plan_file),
    );
    assert!(report.contains("rules: 2 added"), "{report}");
    ctrld_sync(dir.path())
        .args(["--sandbox", "plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn init_writes_a_config_that_validates() {
    let dir = TempDir::new().unwrap();
    ctrld_sync(dir.path()).arg("init").assert().success();
    assert!(dir.path().join("lists/my-blocks.txt").exists());
    // As the README says: the schema line first, and no rate ceiling (pacing adapts by default).
    let written = fs::read_to_string(dir.path().join("ctrld-sync.toml")).unwrap();
    assert_eq!(
        written.lines().next(),
        Some("#:schema https://raw.githubusercontent.com/ctrld-sync/ctrld-sync/main/ctrld-sync.schema.json")
    );
    assert!(!written.contains("max_rps"), "{written}");
    // Offline: the config and its local list check out; the hagezi URLs are listed, not fetched.
    ctrld_sync(dir.path())
        .arg("validate")
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "  https://raw.githubusercontent.com/hagezi/dns-blocklists/main/controld/spam-tlds-folder.json (folder spam-tlds)\n",
        ))
        .stdout(predicates::str::contains("2 URL sources not fetched"));
    ctrld_sync(dir.path())
        .arg("init")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("already exists; pass --force"));
}

#[test]
fn init_from_profile_imports_folders_so_the_first_plan_is_empty() {
    let dir = fresh_clone();
    let state = dir.path().join("state");
    // Fill the sandbox from the example, then import one of its profiles into a new config.
    ctrld_sync(dir.path())
        .args(["--config", CONFIG, "--sandbox", "apply"])
        .assert()
        .success();
    let imported = dir.path().join("imported/ctrld-sync.toml");
    ctrld_sync(dir.path())
        .args(["--config", imported.to_str().unwrap(), "--state-dir"])
        .arg(&state)
        .args(["--sandbox", "init", "--from-profile", "1home2sandbox"])
        .assert()
        .success();
    let text = fs::read_to_string(&imported).unwrap();
    assert!(text.contains("[folder.badware-hoster]"), "{text}");
    let folder_json =
        fs::read_to_string(dir.path().join("imported/lists/badware-hoster-folder.json")).unwrap();
    assert!(
        folder_json.contains("safe-mirror.bad-hoster.example"),
        "per-rule actions kept"
    );
    // With no state of its own, the imported config adopts the same sandbox's folders by name, and
    // they match: nothing to change.
    let imported_state = dir.path().join("imported-state");
    fs::create_dir_all(&imported_state).unwrap();
    fs::copy(
        state.join(".sandbox.json"),
        imported_state.join(".sandbox.json"),
    )
    .unwrap();
    ctrld_sync(dir.path())
        .args(["--config", imported.to_str().unwrap(), "--state-dir"])
        .arg(&imported_state)
        .args(["--sandbox", "plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn completions_print_a_script() {
    let dir = TempDir::new().unwrap();
    ctrld_sync(dir.path())
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicates::str::contains("ctrld-sync"));
}

#[test]
fn help_shows_examples_for_each_command() {
    let dir = TempDir::new().unwrap();
    for command in ["init", "validate", "plan", "apply", "completions"] {
        ctrld_sync(dir.path())
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicates::str::contains("Examples:"));
    }
}
