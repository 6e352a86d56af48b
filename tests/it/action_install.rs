//! The action's install step (`.github/action/install.sh`): a release binary is used only when its
//! SHA-256 matches and its build provenance attestation names the action's own commit; otherwise
//! the step says why and leaves the build to build.sh, with a cache key on the resolved commit.
//! GitHub is out of reach here: `curl` and `gh` in front on PATH serve a release made by the test and
//! the attestation answer a test chooses, and log how they were called.
#![cfg(unix)]

use crate::script_support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use script_support::{action_script, bash, have, path_with, stdout, Git};
use tempfile::TempDir;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const OTHER_COMMIT: &str = "fedcba9876543210fedcba9876543210fedcba98";
const REPOSITORY: &str = "acme/ctrld-sync";
const ARCHIVE: &str = "ctrld-sync-x86_64-unknown-linux-gnu.tar.xz";

/// `curl` serves the files of `release/` by name; `gh attestation verify` prints the commit in
/// `attested` (or fails with the text of `gh-error`). Both append their arguments to `calls`.
const FAKE_CURL: &str = r#"#!/bin/sh
out="" url=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -*) shift ;;
    *) url="$1"; shift ;;
  esac
done
echo "curl $url" >> "$FAKES/calls"
[ -f "$FAKES/release/${url##*/}" ] || exit 22
cp "$FAKES/release/${url##*/}" "$out"
"#;

const FAKE_GH: &str = r#"#!/bin/sh
echo "gh $*" >> "$FAKES/calls"
if [ -f "$FAKES/gh-error" ]; then cat "$FAKES/gh-error" >&2; exit 1; fi
cat "$FAKES/attested"
"#;

struct Runner {
    dir: TempDir,
}

struct Run {
    stdout: String,
    outputs: BTreeMap<String, String>,
    calls: String,
    home: PathBuf,
}

impl Runner {
    /// The fakes, a release v0.1.0 holding the archive and its `.sha256`, and an attestation
    /// naming `COMMIT`.
    fn new() -> Self {
        let runner = Self {
            dir: TempDir::new().unwrap(),
        };
        let release = runner.fakes().join("release");
        fs::create_dir_all(&release).unwrap();
        for (name, content) in [("curl", FAKE_CURL), ("gh", FAKE_GH)] {
            let path = runner.fakes().join(name);
            fs::write(&path, content).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        runner.make_release();
        runner.attest(COMMIT);
        runner
    }

    fn fakes(&self) -> PathBuf {
        self.dir.path().join("fakes")
    }

    fn make_release(&self) {
        let staging = self.dir.path().join("staging");
        let binary_dir = staging.join("ctrld-sync-x86_64-unknown-linux-gnu");
        fs::create_dir_all(&binary_dir).unwrap();
        fs::write(binary_dir.join("ctrld-sync"), "#!/bin/sh\necho released\n").unwrap();
        let archive = self.fakes().join("release").join(ARCHIVE);
        let status = Command::new("tar")
            .arg("-cJf")
            .arg(&archive)
            .arg("-C")
            .arg(&staging)
            .arg("ctrld-sync-x86_64-unknown-linux-gnu")
            .status()
            .unwrap();
        assert!(status.success());
        let digest = sha256_hex(&fs::read(&archive).unwrap());
        fs::write(
            archive.with_file_name(format!("{ARCHIVE}.sha256")),
            format!("{digest}  {ARCHIVE}\n"),
        )
        .unwrap();
    }

    fn attest(&self, commit: &str) {
        fs::write(self.fakes().join("attested"), format!("{commit}\n")).unwrap();
    }

    /// A copy of the action's source files at `relative` (under the runner's temp dir).
    fn action_at(&self, relative: &str) -> PathBuf {
        let action = self.dir.path().join(relative);
        fs::create_dir_all(action.join("src")).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
            fs::copy(root.join(file), action.join(file)).unwrap();
        }
        action
    }

    /// install.sh on a Linux x64 runner, with a fresh HOME, GITHUB_PATH and GITHUB_OUTPUT.
    fn install(&self, action: &Path, repository: &str, action_ref: &str) -> Run {
        let home = TempDir::new_in(self.dir.path()).unwrap().keep();
        let outputs = home.join("github_output");
        fs::write(self.fakes().join("calls"), "").unwrap();
        let mut command = bash(&action_script("install.sh"));
        Git::new().isolate(&mut command);
        let output = command
            .env("PATH", path_with(&[&self.fakes()]))
            .env("FAKES", self.fakes())
            .env("HOME", &home)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_PATH", home.join("github_path"))
            .env("GITHUB_OUTPUT", &outputs)
            .env("ACTION_PATH", action)
            .env("ACTION_REPOSITORY", repository)
            .env("ACTION_REF", action_ref)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let outputs = fs::read_to_string(outputs)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        Run {
            stdout: stdout(&output),
            outputs,
            calls: fs::read_to_string(self.fakes().join("calls")).unwrap(),
            home,
        }
    }
}

impl Run {
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    fn installed(&self) -> bool {
        self.home.join(".ctrld-sync/bin/ctrld-sync").exists()
    }

    fn assert_builds_because(&self, why: &str) {
        assert_eq!(self.outputs["prebuilt"], "false", "{}", self.stdout);
        assert!(!self.installed());
        assert!(
            self.last_line()
                .starts_with("ctrld-sync: building from the action's checkout, because ")
                && self.last_line().contains(why),
            "{}",
            self.stdout
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn ready() -> bool {
    have("tar") && have("xz") && have("git")
}

#[test]
fn a_release_binary_attested_as_built_from_the_pinned_commit_is_installed() {
    if !ready() {
        return;
    }
    let runner = Runner::new();
    let action = runner.action_at("_actions/acme/ctrld-sync/pinned");

    let run = runner.install(&action, REPOSITORY, COMMIT);

    assert_eq!(run.outputs["prebuilt"], "true", "{}", run.stdout);
    assert!(run.installed());
    assert_eq!(
        run.outputs["cache-key"],
        format!("ctrld-sync-Linux-X64-{COMMIT}")
    );
    assert_eq!(
        run.last_line(),
        format!(
            "ctrld-sync: using the v0.1.0 release binary for x86_64-unknown-linux-gnu: SHA-256 \
             checked, attested as built from {COMMIT} by the release workflow of {REPOSITORY}"
        )
    );
    let archive = run
        .calls
        .lines()
        .find(|line| line.starts_with("gh "))
        .unwrap();
    assert!(
        archive.starts_with("gh attestation verify ")
            && archive.contains(&format!("/{ARCHIVE} --repo {REPOSITORY} "))
            && archive.contains(&format!(
                "--signer-workflow {REPOSITORY}/.github/workflows/release.yml"
            )),
        "{}",
        run.calls
    );
    assert!(run.calls.contains(&format!(
        "curl https://github.com/{REPOSITORY}/releases/download/v0.1.0/{ARCHIVE}.sha256"
    )));
}

#[test]
fn a_binary_attested_for_another_commit_or_not_verified_is_not_used() {
    if !ready() {
        return;
    }
    let runner = Runner::new();
    let action = runner.action_at("_actions/acme/ctrld-sync/pinned");

    runner.attest(OTHER_COMMIT);
    runner
        .install(&action, REPOSITORY, COMMIT)
        .assert_builds_because(&format!(
            "it is attested as built from {OTHER_COMMIT}, not from the action's commit {COMMIT}"
        ));

    fs::write(
        runner.fakes().join("gh-error"),
        "\nX Verification failed: no attestations found\n",
    )
    .unwrap();
    let run = runner.install(&action, REPOSITORY, COMMIT);
    run.assert_builds_because(
        "its attestation could not be verified: X Verification failed: no attestations found",
    );
    // The cache of the build is keyed on the commit all the same.
    assert_eq!(
        run.outputs["cache-key"],
        format!("ctrld-sync-Linux-X64-{COMMIT}")
    );
}

#[test]
fn a_binary_whose_sha256_does_not_match_is_not_used_and_a_warning_says_so() {
    if !ready() {
        return;
    }
    let runner = Runner::new();
    let action = runner.action_at("_actions/acme/ctrld-sync/pinned");
    let sha_file = runner.fakes().join(format!("release/{ARCHIVE}.sha256"));
    fs::write(&sha_file, format!("{}  {ARCHIVE}\n", "0".repeat(64))).unwrap();

    let run = runner.install(&action, REPOSITORY, COMMIT);

    run.assert_builds_because("its SHA-256 does not match the release's");
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with("::warning::")
                && line.contains(&format!("{ARCHIVE}: SHA-256 "))),
        "{}",
        run.stdout
    );
    assert!(
        !run.calls.contains("gh "),
        "no attestation is asked for: {}",
        run.calls
    );
}

#[test]
fn an_empty_action_ref_is_resolved_from_the_actions_checkout_or_its_download_path() {
    if !ready() {
        return;
    }
    let runner = Runner::new();
    // `uses: ./`: the action is a git checkout; its HEAD is the commit.
    let checkout = runner.action_at("checkout");
    let git = Git::new();
    git.run(&checkout, &["init", "--quiet"]);
    git.run(&checkout, &["add", "--all"]);
    git.run(&checkout, &["commit", "--quiet", "-m", "action"]);
    let head = git
        .run(&checkout, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    runner.attest(&head);

    let run = runner.install(&checkout, REPOSITORY, "");
    assert!(
        run.stdout.contains(&format!(
            "the action's commit: {head} (from the action's git checkout (github.action_ref is ''))"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(run.outputs["prebuilt"], "true", "{}", run.stdout);
    assert_eq!(
        run.outputs["cache-key"],
        format!("ctrld-sync-Linux-X64-{head}")
    );

    // A download of a pinned commit, with neither github.action_ref nor github.action_repository:
    // both come from the runner's directory `_actions/<owner>/<repo>/<ref>`.
    runner.attest(COMMIT);
    let downloaded = runner.action_at(&format!("_actions/acme/ctrld-sync/{COMMIT}"));
    let run = runner.install(&downloaded, "", "");
    assert!(
        run.stdout.contains(&format!(
            "the action's commit: {COMMIT} (from the action's path (github.action_ref is ''))"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(run.outputs["prebuilt"], "true", "{}", run.stdout);
    assert!(
        run.calls.contains(&format!("--repo {REPOSITORY} ")),
        "{}",
        run.calls
    );
}

#[test]
fn an_unknown_commit_is_said_so_builds_and_keys_the_cache_on_the_source() {
    if !ready() {
        return;
    }
    let runner = Runner::new();
    // `uses: acme/ctrld-sync@main`, downloaded: no commit anywhere.
    let action = runner.action_at("_actions/acme/ctrld-sync/main");

    let first = runner.install(&action, REPOSITORY, "main");
    first.assert_builds_because("the action's commit is unknown (github.action_ref is 'main'");
    assert_eq!(first.calls, "", "nothing is downloaded");
    let key = first.outputs["cache-key"].clone();
    assert!(key.starts_with("ctrld-sync-Linux-X64-source-"), "{key}");

    // The same source: the same key (no rebuild on every run); a changed source: a new key.
    assert_eq!(
        runner.install(&action, REPOSITORY, "main").outputs["cache-key"],
        key
    );
    fs::write(action.join("src/main.rs"), "fn main() {}\n").unwrap();
    assert_ne!(
        runner.install(&action, REPOSITORY, "main").outputs["cache-key"],
        key
    );
}
