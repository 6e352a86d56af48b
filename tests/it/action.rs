//! The GitHub Action's run step (`.github/action/run.sh`), run as the runner would run it: with the
//! runner's output, summary and temp files, against the sandbox of a fresh copy of the example.

use crate::apply_support;
use crate::script_support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

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
        // A checkout has `.git`: the example's `state_dir = "../state"` stays inside it.
        fs::create_dir(dir.path().join(".git")).unwrap();
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
        let status = script_support::bash(&script_support::action_script("run.sh"))
            .current_dir(self.dir.path())
            .env(
                "PATH",
                script_support::path_with(&[binary.parent().unwrap()]),
            )
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

#[test]
fn a_failed_plan_leaves_a_comment_and_summary_saying_it_failed_and_why() {
    let runner = Runner::new();
    // A config name with a run of four backticks: the fence around the error text is longer.
    let (outputs, summary) = runner.step("plan", "--config we````ird.toml", "");

    assert_eq!(outputs["exitcode"], "1", "{outputs:?}");
    assert!(!outputs.contains_key("plan-markdown"), "{outputs:?}");
    let comment = fs::read_to_string(&outputs["comment-markdown"]).unwrap();
    assert_eq!(summary, comment);
    let header = "## ctrld-sync plan failed\n\n\
                  `ctrld-sync plan` stopped with exit code 1, so there is no plan for this change. \
                  It said:\n\n`````text\n";
    let said = comment
        .strip_prefix(header)
        .and_then(|rest| rest.strip_suffix("`````\n"))
        .unwrap_or_else(|| panic!("{comment}"));
    // What the tool printed on stderr, as it is (its exact wording is the tool's own).
    assert!(
        said.starts_with("error: cannot read the config we````ird.toml") && said.ends_with('\n'),
        "{said}"
    );

    // The next plan that succeeds replaces it in the comment.
    let (outputs, _) = runner.step("plan", SANDBOX, "");
    assert_eq!(outputs["comment-markdown"], outputs["plan-markdown"]);
}
