//! The README's promises to a newcomer: its first command (the sandbox run of the example config)
//! works from a fresh copy with no token and no network, and the commands it shows do what it says.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

const CONFIG: &str = "examples/ctrld-sync.toml";

/// A copy of `examples/` as a fresh clone has it (config, lists, committed state; no sandbox data).
fn fresh_examples() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let examples = dir.path().join("examples");
    copy_tree(Path::new("examples"), &examples);
    let _ = fs::remove_file(examples.join("state/.sandbox.json"));
    let _ = fs::remove_file(examples.join("state/.lock"));
    (dir, examples)
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
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

fn state_files(examples: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(examples.join("state"))
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

#[test]
fn readme_first_command_runs_on_a_fresh_clone_and_changes_nothing_committed() {
    let args = readme_sandbox_args();
    assert_eq!(args, ["--config", CONFIG, "--sandbox", "apply"]);
    let (dir, examples) = fresh_examples();
    let committed = state_files(&examples);
    assert_eq!(
        committed.len(),
        2,
        "the example's state files are committed"
    );

    let output = ctrld_sync(dir.path()).args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains("sandbox") && stderr.contains("not to Control D"),
        "{stderr}"
    );
    assert!(stdout.contains("Apply report"), "{stdout}");
    // The sandbox starts as the committed state says: one read per profile, nothing written.
    assert!(stdout.contains("API calls: 2 (GET 2)"), "{stdout}");
    assert_eq!(
        state_files(&examples),
        committed,
        "state files stay byte-identical"
    );
}

#[test]
fn sandbox_first_sync_from_empty_state_then_plan_shows_no_changes() {
    let (dir, examples) = fresh_examples();
    for (name, _) in state_files(&examples) {
        fs::remove_file(examples.join("state").join(name)).unwrap();
    }
    let apply = ctrld_sync(dir.path())
        .args(["--config", CONFIG, "--sandbox", "apply"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&apply.stdout);
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(stdout.contains("10 folders to create"), "{stdout}");
    assert!(stdout.contains("folders: 10 created"), "{stdout}");
    assert_eq!(state_files(&examples).len(), 2);

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
fn init_writes_a_config_that_validates() {
    let dir = TempDir::new().unwrap();
    ctrld_sync(dir.path()).arg("init").assert().success();
    assert!(dir.path().join("lists/my-blocks.txt").exists());
    // The config itself is valid; only its hagezi URLs need the network, which tests may not have.
    let validate = ctrld_sync(dir.path()).arg("validate").output().unwrap();
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert!(
        !stderr.contains("ctrld-sync.toml:"),
        "no config error: {stderr}"
    );
    if !validate.status.success() {
        assert!(stderr.contains("raw.githubusercontent.com"), "{stderr}");
    }
    ctrld_sync(dir.path())
        .arg("init")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("already exists; pass --force"));
}

#[test]
fn init_from_profile_imports_folders_so_the_first_plan_is_empty() {
    let (dir, examples) = fresh_examples();
    // Fill the sandbox from the example, then import one of its profiles into a new config.
    ctrld_sync(dir.path())
        .args(["--config", CONFIG, "--sandbox", "apply"])
        .assert()
        .success();
    let imported = dir.path().join("imported/ctrld-sync.toml");
    ctrld_sync(dir.path())
        .args(["--config", imported.to_str().unwrap(), "--state-dir"])
        .arg(examples.join("state"))
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
        examples.join("state/.sandbox.json"),
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
