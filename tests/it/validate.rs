//! `ctrld-sync validate` as a user runs it: the real binary on fixture configs.

use std::net::TcpListener;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

const CONFIGS: &str = "tests/fixtures/configs";

fn validate(config: &str) -> assert_cmd::assert::Assert {
    Command::cargo_bin("ctrld-sync")
        .unwrap()
        .args(["--no-progress", "--color", "never", "--config"])
        .arg(format!("{CONFIGS}/{config}"))
        .arg("validate")
        .env_remove("CTRLD_API_TOKEN")
        .env_remove("CTRLD_API_URL")
        .assert()
}

/// Fails with exit code 1, naming `needle` on stderr and printing nothing on stdout.
fn fails_with(config: &str, needles: &[&str]) {
    let mut assert = validate(config).code(1).stdout("");
    for needle in needles {
        assert = assert.stderr(contains(*needle));
    }
}

#[test]
fn a_good_config_reports_every_folder() {
    validate("good.toml")
        .success()
        .stdout(contains("folder ads\n  source:  sources/ads-folder.json\n  format:  controld\n  rules:   block 4, allow 1\n"))
        .stdout(contains("folder tlds\n  source:  sources/tlds-folder.json\n  format:  controld\n  rules:   block 2\n"))
        .stdout(contains("folder hosts\n  source:  sources/hosts.txt\n  format:  hosts\n  rules:   block 4\n"))
        .stdout(contains("folder allow\n  source:  sources/hosts.txt\n  format:  hosts\n  rules:   allow 4\n"))
        .stdout(contains("folder adblock\n  source:  sources/adblock.txt\n  format:  adblock\n  rules:   block 2\n  unsupported: 3 entries not applied\n"))
        .stdout(contains("folder domains\n  source:  sources/domains.txt\n  format:  domains\n  rules:   block 4\n  skipped: 2 invalid entries\n"))
        .stdout(contains("sources/domains.txt:7: `bad%20entry.example` contains `%`"))
        .stdout(contains("sources/domains.txt:8: `bad..dots.example` has an empty label"))
        .stdout(contains("ok, 2 profiles, 6 folders, 21 rules"));
}

#[test]
fn validate_needs_no_token_and_says_nothing_of_one() {
    validate("good.toml")
        .success()
        .stderr(contains("token").not());
}

#[test]
fn config_errors_name_file_line_and_column() {
    let cases: &[(&str, &[&str])] = &[
        (
            "unknown-key.toml",
            &["unknown-key.toml:7:1:", "unknown field `fromat`"],
        ),
        (
            "token.toml",
            &["token.toml:3:1:", "CTRLD_API_TOKEN", "token_env"],
        ),
        (
            "missing-id.toml",
            &["missing-id.toml:1:1:", "missing field `id`"],
        ),
        (
            "bad-action.toml",
            &["bad-action.toml:7:10:", "block, allow, spoof or redirect"],
        ),
        (
            "duplicate-key.toml",
            &["duplicate-key.toml:7:1:", "duplicate key `path`"],
        ),
        (
            "unknown-folder.toml",
            &["unknown-folder.toml:3:19:", "add a [folder.malware] table"],
        ),
        (
            "folder-twice.toml",
            &["folder-twice.toml:3:19:", "lists folder `ads` twice"],
        ),
        (
            "duplicate-profile.toml",
            &[
                "duplicate-profile.toml:6:6:",
                "profile `home` is listed twice",
            ],
        ),
        (
            "url-and-path.toml",
            &["url-and-path.toml:6:8:", "both `url` and `path`"],
        ),
        (
            "no-source.toml",
            &["no-source.toml:5:9:", "add `url = \"https://...\"`"],
        ),
        (
            "spoof-without-via.toml",
            &["spoof-without-via.toml:5:9:", "needs `via`"],
        ),
        (
            "plain-http.toml",
            &["plain-http.toml:6:7:", "write https://"],
        ),
        (
            "auth-env-api-token.toml",
            &[
                "auth-env-api-token.toml:8:12: folder `ads`: `auth_env = \"CTRLD_API_TOKEN\"` names \
                 the variable holding the Control D API token (CTRLD_API_TOKEN): the token would be \
                 sent to the list's host (lists.example)",
                "auth-env-api-token.toml:13:12: folder `mine`: `auth_env = \"CTRLD_TOKEN_HOME\"` \
                 names the variable holding profile `home`'s Control D API token",
            ],
        ),
    ];
    for (config, needles) in cases {
        fails_with(config, needles);
    }
}

#[test]
fn a_token_value_is_never_echoed() {
    validate("token.toml")
        .code(1)
        .stderr(contains("not-a-real-token").not());
}

#[test]
fn one_line_per_problem() {
    let output = validate("url-and-path.toml").code(1).get_output().clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}

#[test]
fn source_errors_name_the_folder_and_the_path() {
    let cases: &[(&str, &[&str])] = &[
        (
            "truncated-json.toml",
            &[
                "folder `ads` (sources/truncated.json)",
                "truncated JSON",
                "line 3",
            ],
        ),
        (
            "malformed-json.toml",
            &[
                "folder `ads` (sources/malformed.json)",
                "malformed JSON at line 2 column 35",
            ],
        ),
        ("html-page.toml", &["sources/error-page.html", "HTML page"]),
        (
            "empty-list.toml",
            &["sources/empty.txt", "the source yielded no rules"],
        ),
        (
            "not-utf8.toml",
            &["sources/latin1.txt", "not UTF-8", "line 2"],
        ),
        (
            "missing-file.toml",
            &["sources/does-not-exist.txt", "cannot read"],
        ),
        (
            "strict.toml",
            &[
                "sources/invalid.txt",
                "2 invalid entries and `strict = true`",
                "invalid.txt:3:",
            ],
        ),
        ("too-big.toml", &["sources/hosts.txt", "64-byte limit"]),
        (
            "no-name.toml",
            &["folder `ads`", "add `name = \"...\"` under [folder.ads]"],
        ),
    ];
    for (config, needles) in cases {
        fails_with(config, needles);
    }
}

#[test]
fn a_missing_config_says_how_to_make_one() {
    fails_with("nope.toml", &["nope.toml", "ctrld-sync init"]);
}

#[test]
fn urls_are_fetched_with_fetch_and_a_404_names_the_url() {
    let lists = tempfile::tempdir().unwrap();
    std::fs::copy(
        "tests/fixtures/configs/sources/ads-folder.json",
        lists.path().join("ads.json"),
    )
    .unwrap();
    let emulator =
        controld_emulator::Emulator::start_background(controld_emulator::EmulatorConfig {
            serve_dir: Some(lists.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ctrld-sync.toml");
    let write = |name: &str| {
        let text = format!(
            "[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n[folder.ads]\nurl = \"{}/_lists/{name}\"\n",
            emulator.url()
        );
        std::fs::write(&config, text).unwrap();
    };
    let run = || {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .args(["--no-progress", "--color", "never", "--config"])
            .arg(&config)
            .args(["validate", "--fetch"])
            .env_remove("CTRLD_API_TOKEN")
            .assert()
    };
    write("ads.json");
    run()
        .success()
        .stdout(contains(format!(
            "  source:  {}/_lists/ads.json\n",
            emulator.url()
        )))
        .stdout(contains("rules:   block 4, allow 1"));
    write("gone.json");
    run()
        .code(1)
        .stderr(contains(format!("{}/_lists/gone.json", emulator.url())))
        .stderr(contains("HTTP 404"));
}

/// Connections made to `listener` so far (accepted from its backlog without blocking: a
/// connection the kernel completed waits there, whether or not anyone accepted it yet).
fn connections_made(listener: &TcpListener) -> usize {
    listener.set_nonblocking(true).unwrap();
    std::iter::from_fn(|| listener.accept().ok()).count()
}

#[test]
fn url_sources_are_listed_not_fetched_unless_asked() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.txt"), "mine.example\n").unwrap();
    let config = dir.path().join("ctrld-sync.toml");
    let text = format!(
        "[sources]\nretries = 0\ntimeout = 1\n\n\
         [[profile]]\nid = \"p1\"\nfolders = [\"ads\", \"ads2\", \"mine\"]\n\n\
         [folder.ads]\nurl = \"http://127.0.0.1:{port}/ads.txt?ref=main\"\nname = \"Ads\"\n\n\
         [folder.ads2]\nurl = \"http://127.0.0.1:{port}/ads.txt?ref=main\"\nname = \"Ads 2\"\n\n\
         [folder.mine]\npath = \"mine.txt\"\nname = \"Mine\"\naction = \"block\"\n"
    );
    std::fs::write(&config, text).unwrap();
    let run = |extra: &[&str]| {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .args(["--no-progress", "--color", "never", "--config"])
            .arg(&config)
            .arg("validate")
            .args(extra)
            .env_remove("CTRLD_API_TOKEN")
            .assert()
    };
    run(&[])
        .success()
        .stdout(contains("folder mine\n  source:  mine.txt\n"))
        .stdout(contains(format!(
            "not fetched (offline; `validate --fetch` downloads and checks them):\n  \
             http://127.0.0.1:{port}/ads.txt?ref=main (folders ads, ads2)\n"
        )))
        .stdout(contains(
            "ok, 1 profiles, 3 folders, 1 rules, 0 bytes downloaded, 1 URL sources not fetched\n",
        ));
    assert_eq!(connections_made(&listener), 0, "validate is offline");

    // Nobody answers on the listener: `--fetch` connects, times out and fails naming the URL.
    run(&["--fetch"])
        .code(1)
        .stderr(contains(format!("http://127.0.0.1:{port}/ads.txt")));
    assert_eq!(connections_made(&listener), 1, "--fetch downloads");
}
