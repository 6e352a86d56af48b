//! The GitHub Action's run step (`.github/action/run.sh`), run as the runner would run it: with the
//! runner's output, summary and temp files, against the sandbox of a fresh copy of the example.

mod apply_support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

struct Runner {
    dir: TempDir,
}

impl Runner {
    /// A fresh copy of `examples/` and `state/` (no sandbox data: the emulator starts empty).
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        for tree in ["examples", "state"] {
            apply_support::copy_tree(Path::new(tree), &dir.path().join(tree));
        }
        let _ = fs::remove_file(dir.path().join("state/.sandbox.json"));
        Self { dir }
    }

    /// Runs the step; returns its outputs and the job summary.
    fn step(
        &self,
        command: &str,
        args: &str,
        plan_args: &str,
    ) -> (BTreeMap<String, String>, String) {
        let outputs = self.dir.path().join("github_output");
        let summary = self.dir.path().join("step_summary");
        fs::write(&outputs, "").unwrap();
        fs::write(&summary, "").unwrap();
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_ctrld-sync"));
        let path = format!(
            "{}:{}",
            binary.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let status = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/action/run.sh"))
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("RUNNER_TEMP", self.dir.path())
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("COMMAND", command)
            .env("ARGS", args)
            .env("PLAN_ARGS", plan_args)
            .env_remove("CTRLD_API_TOKEN")
            .env_remove("CTRLD_API_URL")
            .status()
            .unwrap();
        assert!(status.success(), "the run step always exits 0");
        let outputs = fs::read_to_string(&outputs)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        (outputs, fs::read_to_string(&summary).unwrap())
    }
}

const SANDBOX: &str = "--config examples/ctrld-sync.toml --sandbox";

#[test]
fn plan_then_apply_set_the_outputs_and_the_job_summary() {
    let runner = Runner::new();
    // No token: the plan comes from the state files alone (as for a fork's pull request); a new
    // sandbox reads its own as empty, so that is the first sync the apply then makes.
    let (outputs, summary) = runner.step("plan", SANDBOX, "");
    assert_eq!(outputs["exitcode"], "2", "{outputs:?}");
    assert_eq!(outputs["has-changes"], "true");
    assert!(summary.contains("10 folders to create"), "{summary}");
    let markdown = fs::read_to_string(&outputs["plan-markdown"]).unwrap();
    assert!(markdown.starts_with("## ctrld-sync plan"), "{markdown}");
    assert_eq!(summary, markdown);

    // apply: the plan first (against the empty sandbox: changes), then the apply.
    let (outputs, summary) = runner.step("apply", SANDBOX, SANDBOX);
    assert_eq!(outputs["exitcode"], "0", "{outputs:?}");
    assert_eq!(outputs["has-changes"], "true");
    assert!(summary.contains("10 folders to create"), "{summary}");

    let (outputs, _) = runner.step("apply", SANDBOX, SANDBOX);
    assert_eq!(outputs["has-changes"], "false", "{outputs:?}");
}

#[test]
fn an_unknown_command_or_a_failing_run_is_a_non_zero_exitcode_output() {
    let runner = Runner::new();
    let (outputs, _) = runner.step("destroy", "", "");
    assert_eq!(outputs["exitcode"], "1");
    let (outputs, _) = runner.step("plan", "--config missing.toml", "");
    assert_eq!(outputs["exitcode"], "1", "{outputs:?}");
}
