//! The action's commit-back (`.github/action/commit-state.sh`) against a bare repository and clones
//! of it, one of which fell behind, as two runs meet on a runner: the state commit is rebased and
//! pushed, or the step fails saying why; it is never dropped silently.

use crate::script_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use script_support::{action_script, bash, have, stdout, Git};
use tempfile::TempDir;

const BOT: &str = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>";

/// A bare repository `origin.git` on `main` holding a config, a state file and notes, and clones.
struct Origin {
    git: Git,
    dir: TempDir,
}

impl Origin {
    fn new() -> Self {
        let git = Git::new();
        let dir = TempDir::new().unwrap();
        git.run(
            dir.path(),
            &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
        );
        let origin = Self { git, dir };
        let seed = origin.clone_as("seed");
        write(&seed, "ctrld-sync.toml", "# config\n");
        write(&seed, "notes.txt", "notes\n");
        write(&seed, "state/abcdefgh1234.json", "{\"serial\": 1}\n");
        origin.commit_all(&seed, "first");
        origin
            .git
            .run(&seed, &["push", "--quiet", "origin", "main"]);
        origin
    }

    fn bare(&self) -> PathBuf {
        self.dir.path().join("origin.git")
    }

    fn clone_as(&self, name: &str) -> PathBuf {
        let bare = self.bare();
        self.git.run(
            self.dir.path(),
            &["clone", "--quiet", bare.to_str().unwrap(), name],
        );
        self.dir.path().join(name)
    }

    fn commit_all(&self, clone: &Path, subject: &str) {
        self.git.run(clone, &["add", "--all"]);
        self.git.run(clone, &["commit", "--quiet", "-m", subject]);
    }

    /// Another actor's commit, pushed: the branch moves on under the clones made before it.
    fn push_from(&self, clone: &Path, file: &str, content: &str, subject: &str) {
        self.git.run(clone, &["pull", "--quiet", "--rebase"]);
        write(clone, file, content);
        self.commit_all(clone, subject);
        self.git.run(clone, &["push", "--quiet", "origin", "main"]);
    }

    /// `commit-state.sh state` in `clone`, as the action runs it after `apply`.
    fn commit_state(&self, clone: &Path, extra_env: &[(&str, &str)]) -> Output {
        let mut command = bash(&action_script("commit-state.sh"));
        self.git.isolate(&mut command);
        command
            .arg("state")
            .current_dir(clone)
            .env("COMMIT_STATE_PAUSE_SECONDS", "0")
            .envs(extra_env.iter().copied())
            .output()
            .unwrap()
    }

    /// `main` of the bare repository, newest first: "author <email> subject".
    fn history(&self) -> Vec<String> {
        self.log("main")
    }

    fn log(&self, branch: &str) -> Vec<String> {
        self.git
            .run(&self.bare(), &["log", "--format=%an <%ae> %s", branch])
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn file_on(&self, branch: &str, file: &str) -> String {
        self.git
            .run(&self.bare(), &["show", &format!("{branch}:{file}")])
    }

    fn files_of_tip(&self) -> String {
        self.git
            .run(&self.bare(), &["show", "--format=", "--name-only", "main"])
    }
}

fn write(clone: &Path, file: &str, content: &str) {
    let path = clone.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

#[test]
fn a_clone_that_fell_behind_rebases_its_state_commit_and_pushes_it() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let behind = origin.clone_as("behind");
    let ahead = origin.clone_as("ahead");
    origin.push_from(
        &ahead,
        "ctrld-sync.toml",
        "# config, merged meanwhile\n",
        "merge a PR",
    );

    // The run that fell behind wrote one state file and made a new one; notes.txt (outside the
    // state dir) and report.json (untracked) changed too and must stay out of the commit.
    write(&behind, "state/abcdefgh1234.json", "{\"serial\": 2}\n");
    write(&behind, "state/ijklmnop5678.json", "{\"serial\": 1}\n");
    write(&behind, "notes.txt", "edited by hand\n");
    write(&behind, "report.json", "{}\n");
    let output = origin.commit_state(&behind, &[]);

    assert!(output.status.success(), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("main moved on"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("pushed the state commit"),
        "{}",
        stdout(&output)
    );
    let history = origin.history();
    assert_eq!(
        history,
        [
            format!("{BOT} ctrld-sync: update state of abcdefgh1234 ijklmnop5678"),
            "Test Person <person@example.com> merge a PR".to_string(),
            "Test Person <person@example.com> first".to_string(),
        ]
    );
    assert_eq!(
        origin.files_of_tip().trim(),
        "state/abcdefgh1234.json\nstate/ijklmnop5678.json"
    );
    assert_eq!(
        origin.file_on("main", "ctrld-sync.toml"),
        "# config, merged meanwhile\n"
    );
    assert_eq!(
        origin.file_on("main", "state/abcdefgh1234.json"),
        "{\"serial\": 2}\n"
    );
    // The hand edit outside the state dir is still in the working tree, uncommitted.
    assert_eq!(
        fs::read_to_string(behind.join("notes.txt")).unwrap(),
        "edited by hand\n"
    );
}

#[test]
fn unchanged_state_files_are_said_so_and_nothing_is_committed() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let clone = origin.clone_as("run");
    write(&clone, "notes.txt", "a change outside the state dir\n");

    let output = origin.commit_state(&clone, &[]);

    assert!(output.status.success(), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("state files in state unchanged: nothing to commit"),
        "{}",
        stdout(&output)
    );
    assert_eq!(origin.history().len(), 1);
}

#[test]
fn a_refused_push_fails_the_step_with_the_servers_reason() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let clone = origin.clone_as("run");
    fs::write(
        origin.bare().join("hooks/pre-receive"),
        "#!/bin/sh\necho 'protected branch: pushes need a review' >&2\nexit 1\n",
    )
    .unwrap();
    make_executable(&origin.bare().join("hooks/pre-receive"));
    write(&clone, "state/abcdefgh1234.json", "{\"serial\": 2}\n");

    let output = origin.commit_state(&clone, &[]);

    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let error = error_line(&output);
    assert!(
        error.contains("the push to main was refused, and not because the branch moved on")
            && error.contains("protected branch: pushes need a review"),
        "{error}"
    );
    assert_eq!(origin.history().len(), 1);
}

#[test]
fn a_state_file_changed_on_both_sides_is_not_chosen_the_run_fails_and_keeps_its_commit() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let behind = origin.clone_as("behind");
    let other = origin.clone_as("other");
    origin.push_from(
        &other,
        "state/abcdefgh1234.json",
        "{\"serial\": 2, \"by\": \"other\"}\n",
        "ctrld-sync: update state of abcdefgh1234",
    );
    write(
        &behind,
        "state/abcdefgh1234.json",
        "{\"serial\": 2, \"by\": \"behind\"}\n",
    );

    let output = origin.commit_state(&behind, &[]);

    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let error = error_line(&output);
    let saved = error
        .split("on branch ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .unwrap_or_else(|| panic!("no branch named in: {error}"));
    assert!(
        error.starts_with("::error::state/abcdefgh1234.json also changed on main")
            && error.contains("\"ctrld-sync: update state of abcdefgh1234\" by Test Person")
            && error.contains("--refresh full"),
        "{error}"
    );
    // main keeps the other run's file; this run's file is on the branch the error names.
    assert_eq!(
        origin.file_on("main", "state/abcdefgh1234.json"),
        "{\"serial\": 2, \"by\": \"other\"}\n"
    );
    assert_eq!(
        origin.file_on(saved, "state/abcdefgh1234.json"),
        "{\"serial\": 2, \"by\": \"behind\"}\n"
    );
    assert_eq!(
        origin.log(saved)[0],
        format!("{BOT} ctrld-sync: update state of abcdefgh1234")
    );
    // The clone is left out of the rebase, on its own commit.
    assert!(!behind.join(".git/rebase-merge").exists());
    assert!(!behind.join(".git/rebase-apply").exists());
}

#[test]
fn sync_branch_moves_a_checkout_that_fell_behind_to_the_tip_before_apply() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let behind = origin.clone_as("behind");
    let ahead = origin.clone_as("ahead");
    origin.push_from(
        &ahead,
        "state/abcdefgh1234.json",
        "{\"serial\": 2}\n",
        "ctrld-sync: update state of abcdefgh1234",
    );

    let mut command = bash(&action_script("sync-branch.sh"));
    let output = origin
        .git
        .isolate(&mut command)
        .current_dir(&behind)
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("at the tip of main: ")
            && stdout(&output).contains("update state"),
        "{}",
        stdout(&output)
    );
    let state = fs::read_to_string(behind.join("state/abcdefgh1234.json")).unwrap();
    assert_eq!(state, "{\"serial\": 2}\n");
}

#[test]
fn a_detached_checkout_pushes_to_the_branch_the_workflow_ran_for_or_fails_without_one() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let clone = origin.clone_as("run");
    origin.git.run(&clone, &["checkout", "--quiet", "--detach"]);
    write(&clone, "state/abcdefgh1234.json", "{\"serial\": 2}\n");

    let output = origin.commit_state(&clone, &[("GITHUB_REF", "refs/tags/v1.0.0")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        error_line(&output).contains("not on a branch"),
        "{}",
        stdout(&output)
    );

    let output = origin.commit_state(&clone, &[("GITHUB_REF", "refs/heads/main")]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(
        origin.history()[0],
        format!("{BOT} ctrld-sync: update state of abcdefgh1234")
    );
}

/// A branch that moves on before every push, `moves` times: a `git` in front of the real one on
/// PATH pushes another commit from a second clone just before each of the script's pushes.
#[cfg(unix)]
fn commit_state_on_a_busy_branch(moves: usize, attempts: &str) -> (Origin, Output) {
    let origin = Origin::new();
    let run = origin.clone_as("run");
    let busy = origin.clone_as("busy");
    let real_git = std::process::Command::new("bash")
        .args(["-c", "command -v git"])
        .env("PATH", script_support::path_with(&[]))
        .output()
        .unwrap();
    let real_git = stdout(&real_git);
    let shims = origin.dir.path().join("shims");
    fs::create_dir_all(&shims).unwrap();
    let count = origin.dir.path().join("moves");
    fs::write(&count, "0").unwrap();
    let shim = format!(
        "#!/bin/sh\n\
         case \" $* \" in *' push '*' HEAD:refs/heads/main'*)\n\
           n=$(cat '{count}')\n\
           if [ \"$n\" -lt {moves} ]; then\n\
             echo $((n + 1)) > '{count}'\n\
             (cd '{busy}' && echo \"$n\" > busy.txt && '{git}' add busy.txt \\\n\
               && GIT_AUTHOR_NAME=Busy GIT_COMMITTER_NAME=Busy '{git}' commit -q -m \"busy $n\" \\\n\
               && '{git}' push -q origin HEAD:main)\n\
           fi ;;\n\
         esac\n\
         exec '{git}' \"$@\"\n",
        count = count.display(),
        busy = busy.display(),
        git = real_git.trim(),
    );
    fs::write(shims.join("git"), shim).unwrap();
    make_executable(&shims.join("git"));
    write(&run, "state/abcdefgh1234.json", "{\"serial\": 2}\n");

    let mut command = bash(&action_script("commit-state.sh"));
    origin.git.isolate(&mut command);
    let output = command
        .arg("state")
        .current_dir(&run)
        .env("PATH", script_support::path_with(&[&shims]))
        .env("COMMIT_STATE_PAUSE_SECONDS", "0")
        .env("COMMIT_STATE_ATTEMPTS", attempts)
        .output()
        .unwrap();
    (origin, output)
}

#[cfg(unix)]
#[test]
fn a_branch_that_keeps_moving_is_retried_a_bounded_number_of_times() {
    if !have("git") {
        return;
    }
    // Two moves, five attempts: pushed on the third, on top of both.
    let (origin, output) = commit_state_on_a_busy_branch(2, "5");
    assert!(output.status.success(), "{}", stdout(&output));
    let history = origin.history();
    assert_eq!(history.len(), 4, "{history:?}");
    assert_eq!(
        history[0],
        format!("{BOT} ctrld-sync: update state of abcdefgh1234")
    );
    assert!(
        history[1].ends_with("busy 1") && history[2].ends_with("busy 0"),
        "{history:?}"
    );

    // Three moves, three attempts: the step fails and says so; nothing lands.
    let (origin, output) = commit_state_on_a_busy_branch(3, "3");
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert_eq!(
        error_line(&output),
        "::error::main moved on before each of 3 pushes; the state commit is not pushed"
    );
    assert!(origin.history().iter().all(|line| !line.starts_with(BOT)));
}

/// The one `::error::` line the script printed.
fn error_line(output: &Output) -> String {
    let out = stdout(output);
    let errors: Vec<&str> = out
        .lines()
        .filter(|line| line.starts_with("::error::"))
        .collect();
    assert_eq!(errors.len(), 1, "{out}");
    errors[0].to_string()
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Git for Windows runs hooks through its own sh whatever the mode bits.
#[cfg(not(unix))]
fn make_executable(_path: &Path) {}

#[test]
fn remembered_rates_are_no_state_conflict_and_name_no_profile() {
    if !have("git") {
        return;
    }
    let origin = Origin::new();
    let behind = origin.clone_as("behind");
    let ahead = origin.clone_as("ahead");
    // Another run measured the token's rate for the same profile and pushed it first.
    origin.push_from(
        &ahead,
        "state/.pacing/abcdefgh1234.json",
        "{\"rps\": 19.0}\n",
        "ctrld-sync: update state",
    );

    write(&behind, "state/abcdefgh1234.json", "{\"serial\": 2}\n");
    write(
        &behind,
        "state/.pacing/abcdefgh1234.json",
        "{\"rps\": 9.5}\n",
    );
    let output = origin.commit_state(&behind, &[]);

    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(
        origin.history()[0],
        format!("{BOT} ctrld-sync: update state of abcdefgh1234")
    );
    // The newer measurement, this run's, is kept; the state file is this run's too.
    assert_eq!(
        origin.file_on("main", "state/.pacing/abcdefgh1234.json"),
        "{\"rps\": 9.5}\n"
    );
    assert_eq!(
        origin.file_on("main", "state/abcdefgh1234.json"),
        "{\"serial\": 2}\n"
    );
}
