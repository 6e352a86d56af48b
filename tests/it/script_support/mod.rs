//! Shared fixtures of the tests of the GitHub Action's scripts (`.github/action/*.sh`): the scripts
//! run by `bash` as a runner runs them, and git repositories with a configuration of their own.

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// The path of one of the action's scripts.
pub fn action_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".github/action")
        .join(name)
}

/// `PATH` with `first` in front. Set explicitly on each child: on Windows a child's own `PATH` is
/// searched before the system directories, so `bash` is Git's bash and not WSL's `bash.exe`.
pub fn path_with(first: &[&Path]) -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs = first
        .iter()
        .map(|dir| dir.to_path_buf())
        .chain(std::env::split_paths(&rest));
    std::env::join_paths(dirs).unwrap()
}

/// `bash SCRIPT` with the current `PATH` set explicitly (see [`path_with`]).
pub fn bash(script: &Path) -> Command {
    let mut command = Command::new("bash");
    command.arg(script).env("PATH", path_with(&[]));
    command
}

/// Whether `program --version` runs; tests that need a missing tool say so and return.
pub fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .env("PATH", path_with(&[]))
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        eprintln!("skipped: `{program}` is not installed");
    }
    found
}

pub use crate::apply_support::{stderr, stdout};

/// Git with a configuration of its own (no system or user config, no identity, no prompts), so a
/// script's own settings are what the test sees.
pub struct Git {
    home: TempDir,
}

impl Git {
    pub fn new() -> Self {
        let home = TempDir::new().unwrap();
        fs::write(home.path().join("gitconfig"), "").unwrap();
        Self { home }
    }

    /// A command (`git` or `bash SCRIPT`) with this configuration in its environment.
    pub fn isolate<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        for name in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_DIR",
            "GIT_WORK_TREE",
            "EMAIL",
            "GITHUB_REF",
            "GITHUB_RUN_ID",
        ] {
            command.env_remove(name);
        }
        command
            .env("HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.path().join("gitconfig"))
            .env("GIT_TERMINAL_PROMPT", "0")
    }

    /// Runs git in `dir` as a person with an identity would; panics on failure.
    pub fn run(&self, dir: &Path, args: &[&str]) -> String {
        let mut command = Command::new("git");
        command.env("PATH", path_with(&[]));
        let output = self
            .isolate(&mut command)
            .current_dir(dir)
            .args([
                "-c",
                "user.name=Test Person",
                "-c",
                "user.email=person@example.com",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?} in {}: {}",
            dir.display(),
            stderr(&output)
        );
        stdout(&output)
    }
}
