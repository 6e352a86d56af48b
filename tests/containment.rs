//! Input that cannot reach outside: profile ids, `path` sources, and source lines quoted in
//! messages. The real binary on configs in a temporary directory.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

/// `root/repo/ctrld-sync.toml` with one folder reading `path`; `root/outside/secret.txt` exists.
struct Repo {
    root: tempfile::TempDir,
}

impl Repo {
    fn new(id: &str, path: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        std::fs::create_dir_all(repo.join("lists")).unwrap();
        std::fs::create_dir_all(root.path().join("outside")).unwrap();
        std::fs::write(
            root.path().join("outside/secret.txt"),
            "CTRLD_API_TOKEN=leaked.example\n",
        )
        .unwrap();
        std::fs::write(repo.join("lists/mine.txt"), "mine.example\n").unwrap();
        std::fs::write(
            repo.join("ctrld-sync.toml"),
            format!(
                "[[profile]]\nid = \"{id}\"\nfolders = [\"mine\"]\n\n[folder.mine]\npath = \"{path}\"\n\
                 format = \"domains\"\nname = \"Mine\"\naction = \"block\"\n"
            ),
        )
        .unwrap();
        Self { root }
    }

    fn repo(&self) -> std::path::PathBuf {
        self.root.path().join("repo")
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .current_dir(self.repo())
            .args(["--no-progress", "--color", "never"])
            .args(args)
            .env_remove("CTRLD_API_TOKEN")
            .env_remove("CTRLD_API_URL")
            .assert()
    }

    /// `validate` refuses the `path` on line 6 of the config, and never shows the file's content.
    fn path_refused(&self) {
        self.run(&["validate"])
            .code(1)
            .stdout("")
            .stderr(contains("ctrld-sync.toml:6:"))
            .stderr(contains("leads outside the config's directory"))
            .stderr(contains("leaked").not());
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn a_profile_id_must_be_letters_and_digits() {
    for id in ["../x", "a/b", "p 1", "p1\\\\x", ""] {
        let repo = Repo::new(id, "lists/mine.txt");
        repo.run(&["validate"])
            .code(1)
            .stderr(contains("ctrld-sync.toml:2:"))
            .stderr(contains("letters and digits only"));
        // No command gets as far as writing a state file.
        repo.run(&["--sandbox", "apply"]).code(1);
        assert!(!repo.root.path().join("x.json").exists());
        assert!(!repo.repo().join("x.json").exists());
    }
    Repo::new("1abcdefgh2ij", "lists/mine.txt")
        .run(&["validate"])
        .success();
}

#[test]
fn a_path_climbing_out_with_dot_dot_is_refused() {
    Repo::new("p1", "../outside/secret.txt").path_refused();
    Repo::new("p1", "lists/../../outside/secret.txt").path_refused();
    Repo::new("p1", "lists/../mine-missing.txt")
        .run(&["validate"])
        .code(1)
        .stderr(contains("leads outside").not());
}

#[test]
fn an_absolute_path_is_refused() {
    Repo::new("p1", "/proc/self/environ").path_refused();
    Repo::new("p1", "/etc/passwd").path_refused();
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_file_or_directory_outside_is_refused() {
    let repo = Repo::new("p1", "lists/link.txt");
    let secret = repo.root.path().join("outside/secret.txt");
    symlink(&secret, &repo.repo().join("lists/link.txt"));
    repo.path_refused();

    let repo = Repo::new("p1", "shared/secret.txt");
    symlink(
        &repo.root.path().join("outside"),
        &repo.repo().join("shared"),
    );
    repo.path_refused();

    let repo = Repo::new("p1", "lists/environ.txt");
    symlink(
        Path::new("/proc/self/environ"),
        &repo.repo().join("lists/environ.txt"),
    );
    repo.path_refused();
}

#[cfg(unix)]
#[test]
fn a_symlink_that_stays_inside_is_read() {
    let repo = Repo::new("p1", "lists/alias.txt");
    symlink(Path::new("mine.txt"), &repo.repo().join("lists/alias.txt"));
    repo.run(&["validate"])
        .success()
        .stdout(contains("rules:   block 1"));
}

#[test]
fn quoted_source_lines_are_escaped_and_cut_at_80_characters() {
    let repo = Repo::new("p1", "lists/mine.txt");
    let long = format!("{}.example", "a".repeat(300));
    std::fs::write(
        repo.repo().join("lists/mine.txt"),
        format!("mine.example\nevil\u{1b}[2J\u{1b}]0;owned\u{7}.example\n{long} x\n"),
    )
    .unwrap();
    let output = repo.run(&["validate"]).success().get_output().clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout}"
    );
    assert!(
        stdout.contains("`evil\\u{1b}[2j\\u{1b}]0;owned\\u{7}.example`"),
        "{stdout}"
    );
    let cut = format!("`{}…`", &format!("{long} x")[..80]);
    assert!(stdout.contains(&cut), "{stdout}");
    assert!(!stdout.contains(&"a".repeat(81)), "{stdout}");
}
