//! `-v` says what each stage does in words; `-vv` adds one stderr line per API request (method,
//! path with the ids, status, milliseconds, retry count), never the token. The real binary against
//! the emulator.

use crate::apply_support;

use apply_support::{assert_success, FolderSpec, Setup, TOKEN};

fn setup() -> Setup {
    let hostnames = vec![
        "ads.example.com".to_string(),
        "track.example.com".to_string(),
    ];
    Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains("ads", "Ads", "block", &hostnames)],
    )
}

fn stderr_of(setup: &Setup, args: &[&str]) -> String {
    let output = setup.run(args);
    assert_success(&output, &format!("{args:?}"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !stderr.contains(TOKEN),
        "the token is never shown: {stderr}"
    );
    stderr
}

/// The `api: ` lines, each checked to read `api: METHOD PATH -> STATUS in N ms, retry R`; returned
/// with the milliseconds taken out (`in _ ms`), the only part that changes from run to run.
fn request_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("api: "))
        .map(|line| {
            let (before, after) = line.split_once(" in ").expect("` in N ms`");
            let (millis, retry) = after.split_once(" ms, ").expect("`N ms, retry R`");
            assert!(millis.parse::<u64>().is_ok(), "{line}");
            format!("{before} in _ ms, {retry}")
        })
        .collect()
}

#[test]
fn verbose_says_each_stage_in_words_and_no_request() {
    let setup = setup();
    let stderr = stderr_of(&setup, &["-v", "plan"]);
    for stage in [
        "state: 0 state files read from ",
        "sources: reading the folders' sources, 8 at a time",
        "profile p1: reading the folder list; folders whose rule count moved, or new to the state \
         file, are read\n",
        "plan: comparing what the config asks for with what is there\n",
    ] {
        assert!(stderr.contains(stage), "{stage:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("(Auto)"), "no Debug values: {stderr}");
    assert!(request_lines(&stderr).is_empty(), "{stderr}");
    let stderr = stderr_of(&setup, &["-v", "plan", "--refresh", "none"]);
    assert!(
        stderr.contains(
            "profile p1: planning from the state file alone (--refresh none): Control D is not read"
        ),
        "{stderr}"
    );
}

#[test]
fn very_verbose_adds_one_line_per_request_with_its_status_and_retry() {
    let setup = setup();
    setup.apply_ok(&[]);
    let pk = setup.emulator.dump().profiles["p1"].folders[0].pk;
    setup.emulator.reset_stats();
    // The folder list's first answer is lost (502): the client tries again.
    setup
        .emulator
        .lose_next_answers("GET /profiles/{profile}/groups", 1);
    // Full: the folder list, the managed folder's rules and the root's.
    let stderr = stderr_of(&setup, &["-vv", "plan", "--refresh", "full"]);
    let mut lines = request_lines(&stderr);
    lines.sort();
    let mut expected = vec![
        "GET /profiles/p1/groups -> 502 in _ ms, retry 0".to_string(),
        "GET /profiles/p1/groups -> 200 in _ ms, retry 1".to_string(),
        format!("GET /profiles/p1/rules/{pk} -> 200 in _ ms, retry 0"),
        "GET /profiles/p1/rules -> 200 in _ ms, retry 0".to_string(),
    ];
    expected.sort();
    assert_eq!(lines, expected, "{stderr}");
    assert_eq!(setup.emulator.stats().total, 4, "one line per request");
}
