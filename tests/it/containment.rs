//! Input that cannot reach outside: profile ids, `path` sources, `state_dir`; and text from outside
//! (source lines, what Control D answers) that cannot act on a terminal. The real binary on configs
//! in a temporary directory.

use crate::apply_support;

use std::path::Path;

use apply_support::{copy_tree, folder, hosts, rule, FolderSpec, Setup};
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

impl Repo {
    /// Makes `repo/` a repository (its `.git` entry is all that is looked at).
    fn init_git(&self) -> &Self {
        std::fs::create_dir_all(self.repo().join(".git")).unwrap();
        self
    }

    /// The config with `state_dir = "<dir>"` on line 1 (none: no `state_dir`).
    fn set_state_dir(&self, dir: Option<&str>) -> &Self {
        let path = self.repo().join("ctrld-sync.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = match text.split_once("[[profile]]") {
            Some((_, rest)) => format!("[[profile]]{rest}"),
            None => text,
        };
        let line = dir.map(|dir| format!("state_dir = {dir:?}\n"));
        std::fs::write(path, line.unwrap_or_default() + &text).unwrap();
        self
    }

    /// `validate` and `plan` (which makes the state directory and its `.lock`) refuse `state_dir`
    /// at line 1 of the config, saying `why`; `root/outside` stays empty.
    fn state_dir_refused(&self, why: &str) {
        for args in [&["validate"][..], &["plan", "--refresh", "none"]] {
            self.run(args)
                .code(1)
                .stdout("")
                .stderr(contains("ctrld-sync.toml:1:13: `state_dir = "))
                .stderr(contains(why));
        }
        let outside = std::fs::read_dir(self.root.path().join("outside")).unwrap();
        let names: Vec<_> = outside.map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, ["secret.txt"], "nothing is made outside");
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

#[test]
fn a_state_dir_outside_the_repository_is_refused_before_anything_is_made() {
    let repo = Repo::new("p1", "lists/mine.txt");
    repo.init_git();
    let outside = repo.root.path().join("outside/state");
    repo.set_state_dir(Some(outside.to_str().unwrap()))
        .state_dir_refused("is an absolute path");
    let beside_root = format!("{}-state", repo.root.path().display());
    let climbing_past_root = format!(
        "../../{}",
        Path::new(&beside_root)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
    );
    for climbing in [
        "../outside/state",
        "lists/../../outside/state",
        &climbing_past_root,
    ] {
        repo.set_state_dir(Some(climbing))
            .state_dir_refused("leads outside the config's repository");
    }
    assert!(!Path::new(&beside_root).exists());

    // Inside the repository, anywhere; the flag names any directory (whoever runs it chose it).
    repo.set_state_dir(Some("./deeper/../kept"))
        .run(&["plan", "--refresh", "none"])
        .success();
    assert!(repo.repo().join("kept/.lock").exists());
    repo.set_state_dir(None);
    let flag = [
        "--state-dir",
        outside.to_str().unwrap(),
        "plan",
        "--refresh",
        "none",
    ];
    repo.run(&flag).success();
    assert!(outside.join(".lock").exists());
}

#[test]
fn without_a_repository_the_state_dir_stays_in_the_config_directory() {
    let repo = Repo::new("p1", "lists/mine.txt");
    repo.set_state_dir(Some("../state"))
        .state_dir_refused("leads outside the config's directory");
    repo.set_state_dir(Some("state"))
        .run(&["validate"])
        .success();
}

#[cfg(unix)]
#[test]
fn a_state_dir_through_a_symlink_out_of_the_repository_is_refused() {
    let repo = Repo::new("p1", "lists/mine.txt");
    repo.init_git();
    symlink(
        &repo.root.path().join("outside"),
        &repo.repo().join("state"),
    );
    repo.set_state_dir(Some("state"))
        .state_dir_refused("leads outside the config's repository");
    repo.set_state_dir(Some("state/deeper"))
        .state_dir_refused("leads outside the config's repository");
}

/// The example keeps its state in the repository's top-level `state/` (`state_dir = "../state"`
/// beside `examples/`): allowed in a clone, refused in a copy without `.git`.
#[test]
fn the_example_config_keeps_its_state_at_the_top_of_its_repository() {
    let copy = tempfile::tempdir().unwrap();
    for tree in ["examples", "state"] {
        copy_tree(Path::new(tree), &copy.path().join(tree));
    }
    let plan = |copy: &Path| {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .current_dir(copy)
            .args(["--no-progress", "--config", "examples/ctrld-sync.toml"])
            .args(["plan", "--refresh", "none"])
            .env_remove("CTRLD_API_TOKEN")
            .env_remove("CTRLD_API_URL")
            .assert()
    };
    plan(copy.path())
        .code(1)
        .stderr(contains("examples/ctrld-sync.toml:6:13: `state_dir = \"../state\"` leads outside the config's directory"));
    std::fs::create_dir(copy.path().join(".git")).unwrap();
    plan(copy.path())
        .success()
        .stdout(contains("Profile 1home2sandbox"));
    assert!(copy.path().join("state/.lock").exists());
}

/// Clears the screen, sets the terminal's title, rings the bell.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}";
/// How [`HOSTILE`] is shown.
const ESCAPED: &str = "\\u{1b}[2J\\u{1b}]0;owned\\u{7}";

/// No escape or bell byte reached stdout or stderr.
fn assert_no_raw_escape(output: &std::process::Output, what: &str) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&0x07),
            "{what}: raw control bytes on {stream}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// A loopback server that answers every request with `response` (and closes the connection).
fn serve(response: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            apply_support::read_http_head(&mut stream);
            let _ = std::io::Write::write_all(&mut stream, &response);
        }
    });
    url
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn an_api_error_message_or_page_holding_escape_sequences_is_shown_escaped() {
    let envelope = serde_json::json!({
        "body": [],
        "success": false,
        "error": {"code": 40003, "message": format!("bad {HOSTILE} request")},
    });
    let page = format!("<html>{HOSTILE}login</html>");
    let cases = [
        (
            http("400 Bad Request", "application/json", &envelope.to_string()),
            format!("rejected by Control D (code 40003): bad {ESCAPED} request"),
        ),
        (
            http("200 OK", "text/html", &page),
            format!(
                "invalid response (HTTP 200): expected JSON, got text/html: <html>{ESCAPED}login"
            ),
        ),
    ];
    let repo = Repo::new("p1", "lists/mine.txt");
    for (response, shown) in cases {
        let output = Command::cargo_bin("ctrld-sync")
            .unwrap()
            .current_dir(repo.repo())
            .env("CTRLD_API_TOKEN", "token")
            .args([
                "--no-progress",
                "--color",
                "never",
                "--api-url",
                &serve(response),
            ])
            .arg("plan")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert_no_raw_escape(&output, &shown);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&shown), "{stderr}");
    }
}

/// Someone renamed the managed folder in the dashboard and added a rule to it, and made a folder
/// of their own holding a hostname the list gains, all with escape sequences in their text.
#[test]
fn folder_names_and_hostnames_from_control_d_are_shown_escaped() {
    let mut ads = hosts("ads", 0..3);
    let mut setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains("ads", "Ads", "block", &ads)],
    );
    setup.apply_ok(&[]);
    let mut dump = setup.emulator.dump();
    let data = dump.profiles.get_mut("p1").unwrap();
    data.folders[0].name = format!("Ads {HOSTILE}");
    data.folders[0]
        .rules
        .push(rule(&format!("x{HOSTILE}.example")));
    let held = "held.example.com".to_string();
    data.folders.push(folder(
        9_000,
        &format!("Mine {HOSTILE}"),
        std::slice::from_ref(&held),
    ));
    dump.next_pk = 9_001;
    setup.emulator.load(dump);
    ads.push(held);
    setup.set_folders(vec![FolderSpec::domains("ads", "Ads", "block", &ads)]);

    let text = setup.run(&["plan", "--refresh", "full"]);
    let markdown = setup.run(&["plan", "--refresh", "full", "--format", "markdown"]);
    let apply = setup.run(&["-v", "apply", "--refresh", "full"]);
    for (output, what) in [(&text, "plan"), (&markdown, "markdown"), (&apply, "apply")] {
        assert_no_raw_escape(output, what);
    }
    let plan = String::from_utf8_lossy(&text.stdout);
    for shown in [
        format!("update from \"Ads {ESCAPED}\" (block)"),
        format!("- x{ESCAPED}.example block"),
        format!("held by unmanaged folder \"Mine {ESCAPED}\" (PK 9000)"),
    ] {
        assert!(plan.contains(&shown), "{shown}\n{plan}");
        let markdown = String::from_utf8_lossy(&markdown.stdout);
        assert!(markdown.contains(&shown), "{shown}\n{markdown}");
    }
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let log = String::from_utf8_lossy(&apply.stderr);
    assert!(
        log.contains(&format!("deleted rule x{ESCAPED}.example")),
        "{log}"
    );
}
