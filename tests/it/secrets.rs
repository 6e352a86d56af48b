//! Secrets never leave the process: URLs with credentials are refused before any request, every
//! URL printed or written is redacted, and a planted secret is found in no output stream and no
//! file the tool writes. Also: a config that manages nothing is an error.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::apply_support::stderr;
use assert_cmd::Command;
use controld_emulator::{Emulator, EmulatorConfig};
use tempfile::TempDir;

const TOKEN: &str = "api-TOKEN-planted-0a1b";
const PASSWORD: &str = "userinfo-planted-2c3d";
const QUERY: &str = "query-planted-4e5f";
const LISTS_TOKEN: &str = "auth-env-planted-6a7b";

/// Every planted secret.
const PLANTED: &[&str] = &[TOKEN, PASSWORD, QUERY, LISTS_TOKEN];

struct Setup {
    dir: TempDir,
    lists: TempDir,
    emulator: Emulator,
}

impl Setup {
    fn start() -> Self {
        let lists = TempDir::new().unwrap();
        std::fs::write(
            lists.path().join("ads.txt"),
            "ads.example.com\ntrack.example.com\n",
        )
        .unwrap();
        let emulator = Emulator::start_background(EmulatorConfig {
            token: TOKEN.into(),
            profiles: vec!["p1".into()],
            serve_dir: Some(lists.path().to_path_buf()),
            ..EmulatorConfig::default()
        })
        .unwrap();
        Self {
            dir: TempDir::new().unwrap(),
            lists,
            emulator,
        }
    }

    fn list_url(&self) -> String {
        format!("{}/_lists/ads.txt", self.emulator.url())
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("ctrld-sync.toml")
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    fn good_config(&self) -> String {
        format!(
            "[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n[folder.ads]\nurl = \"{}\"\nname = \"Ads\"\naction = \"block\"\nauth_env = \"LISTS_TOKEN\"\n",
            self.list_url()
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .env("CTRLD_API_TOKEN", TOKEN)
            .env("LISTS_TOKEN", LISTS_TOKEN)
            .env_remove("CTRLD_API_URL")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .arg("--config")
            .arg(self.config_path())
            .arg("--api-url")
            .arg(self.emulator.url())
            .arg("--no-progress")
            .args(args)
            .output()
            .unwrap()
    }

    fn list_requests(&self) -> u32 {
        self.emulator.list_requests().values().sum()
    }
}

/// Neither stream shows any planted secret.
fn assert_clean(output: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for secret in PLANTED {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{what} shows {secret}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
}

/// No file under `dir` (written by the tool: state, plans, reports) holds a planted secret.
fn assert_files_clean(dir: &Path, except: &[&Path]) {
    for entry in walk(dir) {
        if except.contains(&entry.as_path()) {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in PLANTED {
            assert!(
                !text.contains(secret),
                "{} holds {secret}:\n{text}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn a_url_with_userinfo_or_a_credential_parameter_is_refused_before_any_request() {
    let setup = Setup::start();
    let cases = [
        (
            setup
                .list_url()
                .replace("http://", &format!("http://user:{PASSWORD}@")),
            "user name or password",
        ),
        (
            format!("{}?ref=main&access_token={QUERY}", setup.list_url()),
            "`access_token`",
        ),
    ];
    for (url, named) in cases {
        let config = setup.good_config().replace(&setup.list_url(), &url);
        setup.write_config(&config);
        for command in [&["validate", "--fetch"][..], &["plan"], &["apply"]] {
            let output = setup.run(command);
            assert_eq!(code(&output), 1, "{command:?}: {}", stderr(&output));
            let message = stderr(&output);
            assert!(message.contains("ctrld-sync.toml:6:7:"), "{message}");
            assert!(message.contains(named), "{message}");
            assert!(message.contains("auth_env"), "{message}");
            assert_clean(&output, &format!("{command:?}"));
        }
    }
    assert_eq!(setup.list_requests(), 0, "nothing was fetched");
    assert_eq!(setup.emulator.stats().total, 0, "no API call was made");
}

#[test]
fn secrets_recorded_by_an_older_version_are_never_shown_or_written_again() {
    let setup = Setup::start();
    setup.write_config(&setup.good_config());
    let first = setup.run(&["apply"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));

    // A state file and a saved plan from before the refusal, with secrets in their locations.
    let secret_url = setup
        .list_url()
        .replace("http://", &format!("http://user:{PASSWORD}@"))
        + &format!("?token={QUERY}");
    let state_path = setup.dir.path().join("state/p1.json");
    let state = std::fs::read_to_string(&state_path).unwrap();
    assert!(state.contains(&setup.list_url()));
    std::fs::write(&state_path, state.replace(&setup.list_url(), &secret_url)).unwrap();
    std::fs::write(
        setup.lists.path().join("ads.txt"),
        "ads.example.com\ntrack.example.com\nnew.example.com\n",
    )
    .unwrap();
    let plan_path = setup.dir.path().join("old.plan.json");
    let saved = setup.run(&["plan", "--out", "old.plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    assert!(plan.contains(&setup.list_url()), "{plan}");
    // Sealed with a checksum of the planted content, as the older version would have written it.
    let mut planted: ctrld_sync::plan::PlanFile =
        serde_json::from_str(&plan.replace(&setup.list_url(), &secret_url)).unwrap();
    planted.seal().unwrap();
    std::fs::write(&plan_path, serde_json::to_string_pretty(&planted).unwrap()).unwrap();
    let planted_plan = std::fs::read_to_string(&plan_path).unwrap();
    let planted_state = std::fs::read_to_string(&state_path).unwrap();

    let outputs = [
        setup.run(&["-v", "state", "show"]),
        setup.run(&["-vv", "validate", "--fetch"]),
        setup.run(&["-vv", "plan", "--format", "json"]),
        setup.run(&["-v", "plan", "--format", "markdown"]),
        setup.run(&["-v", "plan", "--out", "new.plan.json"]),
        setup.run(&["-v", "apply", "old.plan.json", "--report", "report.json"]),
    ];
    for (n, output) in outputs.iter().enumerate() {
        assert_clean(output, &format!("command {n}"));
    }
    let shown = String::from_utf8_lossy(&outputs[0].stdout);
    assert!(shown.contains("http://***:***@127.0.0.1"), "{shown}");
    assert!(shown.contains("?token=***"), "{shown}");
    let applied = &outputs[5];
    assert_eq!(code(applied), 0, "{}", stderr(applied));
    assert!(setup.dir.path().join("report.json").exists());
    assert_ne!(std::fs::read_to_string(&state_path).unwrap(), planted_state);
    // The saved plan we planted is ours, not the tool's; every other file was written by it.
    assert_eq!(std::fs::read_to_string(&plan_path).unwrap(), planted_plan);
    assert_files_clean(setup.dir.path(), &[plan_path.as_path()]);
}

#[test]
fn a_config_without_a_profile_is_nothing_to_manage() {
    let setup = Setup::start();
    let config = setup
        .good_config()
        .replace("[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n", "");
    setup.write_config(&config);
    for command in [&["plan"][..], &["apply"], &["plan", "--refresh", "none"]] {
        let output = setup.run(command);
        assert_eq!(code(&output), 1, "{command:?}");
        let message = stderr(&output);
        assert!(
            message.contains("no [[profile]] in ") && message.contains("nothing to manage"),
            "{message}"
        );
        assert!(message.contains("ctrld-sync.toml"), "{message}");
        assert!(!message.contains("API calls: 0 ()"), "{message}");
        assert!(output.stdout.is_empty(), "{command:?}");
    }
    let validated = setup.run(&["validate"]);
    assert_eq!(code(&validated), 0, "{}", stderr(&validated));
    assert!(
        stderr(&validated).contains("warning: no [[profile]] in "),
        "{}",
        stderr(&validated)
    );
    assert_eq!(setup.emulator.stats().total, 0);
}

#[test]
fn an_auth_env_naming_the_api_token_is_refused_before_any_request() {
    let setup = Setup::start();
    let config = setup.good_config().replace(
        "auth_env = \"LISTS_TOKEN\"",
        "auth_env = \"CTRLD_API_TOKEN\"",
    );
    setup.write_config(&config);
    for command in [&["validate", "--fetch"][..], &["plan"], &["apply"]] {
        let output = setup.run(command);
        assert_eq!(code(&output), 1, "{command:?}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message
                .contains("ctrld-sync.toml:9:12: folder `ads`: `auth_env = \"CTRLD_API_TOKEN\"`")
                && message.contains("the token would be sent to the list's host (127.0.0.1)"),
            "{message}"
        );
        assert_clean(&output, &format!("{command:?}"));
    }
    assert_eq!(
        setup.list_requests(),
        0,
        "the list's host never saw the token"
    );
    assert_eq!(setup.emulator.stats().total, 0, "no API call was made");
}
