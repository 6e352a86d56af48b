//! Every row of the README's exit-code table, with the real binary. Exit codes are public API:
//! CI workflows branch on them (`--detailed-exitcode` uses 2 for "there are changes").

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

/// A config with one folder read from a local file, in a temporary directory; runs use `--sandbox`
/// (the bundled emulator), so no token is needed.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ctrld-sync.toml"),
            "[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n[folder.ads]\npath = \"ads.txt\"\n\
             format = \"domains\"\nname = \"Ads\"\naction = \"block\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ads.txt"), "ads.example\n").unwrap();
        Self { dir }
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .current_dir(self.dir.path())
            .args(["--no-progress", "--color", "never"])
            .args(args)
            .env_remove("CTRLD_API_TOKEN")
            .env_remove("CTRLD_API_URL")
            .assert()
    }
}

#[test]
fn zero_on_success_and_two_only_for_changes_with_detailed_exitcode() {
    let workspace = Workspace::new();
    workspace
        .run(&["--sandbox", "plan", "--detailed-exitcode"])
        .code(2)
        .stdout(contains("+ ads.example block"));
    workspace.run(&["--sandbox", "plan"]).code(0);
    workspace.run(&["--sandbox", "apply"]).code(0);
    workspace
        .run(&["--sandbox", "plan", "--detailed-exitcode"])
        .code(0)
        .stdout(contains("No changes"));
}

#[test]
fn one_on_an_error_with_one_line_on_stderr() {
    let workspace = Workspace::new();
    workspace
        .run(&["--config", "missing.toml", "validate"])
        .code(1)
        .stdout("")
        .stderr(contains("missing.toml"));
}

#[test]
fn one_on_a_usage_error_never_two() {
    let workspace = Workspace::new();
    let cases: &[(&[&str], &str)] = &[
        (&["plan", "--no-such-flag"], "--no-such-flag"),
        (&["plan", "--format", "yaml"], "yaml"),
        (&["apply", "--parallelism", "many"], "many"),
        (&["no-such-command"], "no-such-command"),
        (&[], "Usage"),
    ];
    for (args, needle) in cases {
        workspace
            .run(args)
            .code(1)
            .stdout("")
            .stderr(contains(*needle));
    }
}

#[test]
fn zero_for_help_and_version_on_stdout() {
    let workspace = Workspace::new();
    for args in [
        &["--help"][..],
        &["-h"],
        &["plan", "--help"],
        &["help", "apply"],
    ] {
        workspace
            .run(args)
            .code(0)
            .stdout(contains("Usage"))
            .stderr("");
    }
    workspace
        .run(&["--version"])
        .code(0)
        .stdout(predicate::str::starts_with(concat!(
            "ctrld-sync ",
            env!("CARGO_PKG_VERSION")
        )))
        .stderr("");
}
