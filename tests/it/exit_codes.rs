//! Every row of the README's exit-code table, with the real binary. Exit codes are public API:
//! CI workflows branch on them (`--detailed-exitcode` uses 2 for "there are changes").

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

/// A config with one folder read from a local file, in a temporary directory; runs use `--sandbox`
/// (the bundled emulator), so no token is needed.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ctrld-sync.toml"),
            "[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n[folder.ads]\npath = \"ads.txt\"\n\
             format = \"domains\"\nname = \"Ads\"\naction = \"block\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ads.txt"), "ads.example\n").unwrap();
        Self { dir }
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .current_dir(self.dir.path())
            .args(["--no-progress", "--color", "never"])
            .args(args)
            .env_remove("CTRLD_API_TOKEN")
            .env_remove("CTRLD_API_URL")
            .assert()
    }
}

#[test]
fn zero_on_success_and_two_only_for_changes_with_detailed_exitcode() {
    let workspace = Workspace::new();
    workspace
        .run(&["--sandbox", "plan", "--detailed-exitcode"])
        .code(2)
        .stdout(contains("+ ads.example block"));
    workspace.run(&["--sandbox", "plan"]).code(0);
    workspace.run(&["--sandbox", "apply"]).code(0);
    workspace
        .run(&["--sandbox", "plan", "--detailed-exitcode"])
        .code(0)
        .stdout(contains("No changes"));
}

#[test]
fn one_on_an_error_with_one_line_on_stderr() {
    let workspace = Workspace::new();
    workspace
        .run(&["--config", "missing.toml", "validate"])
        .code(1)
        .stdout("")
        .stderr(contains("missing.toml"));
}

#[test]
fn one_on_a_usage_error_never_two() {
    let workspace = Workspace::new();
    let cases: &[(&[&str], &str)] = &[
        (&["plan", "--no-such-flag"], "--no-such-flag"),
        (&["plan", "--format", "yaml"], "yaml"),
        (&["apply", "--parallelism", "many"], "many"),
        (&["no-such-command"], "no-such-command"),
        (&[], "Usage"),
    ];
    for (args, needle) in cases {
        workspace
            .run(args)
            .code(1)
            .stdout("")
            .stderr(contains(*needle));
    }
}

#[test]
fn zero_for_help_and_version_on_stdout() {
    let workspace = Workspace::new();
    for args in [
        &["--help"][..],
        &["-h"],
        &["plan", "--help"],
        &["help", "apply"],
    ] {
        workspace
            .run(args)
            .code(0)
            .stdout(contains("Usage"))
            .stderr("");
    }
    workspace
        .run(&["--version"])
        .code(0)
        .stdout(predicate::str::starts_with(concat!(
            "ctrld-sync ",
            env!("CARGO_PKG_VERSION")
        )))
        .stderr("");
}

/// Every numeric config key and flag, with the range the README documents for it.
mod numbers {
    use std::path::Path;
    use std::process::Output;

    use assert_cmd::Command;
    use controld_emulator::{Emulator, EmulatorConfig};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// Where a number goes: a key under a table of the config, or a flag of a command.
    #[derive(Clone, Copy, Debug)]
    enum Target {
        Key {
            table: &'static str,
            key: &'static str,
            range: Range,
        },
        Flag {
            command: &'static str,
            flag: &'static str,
            range: Range,
        },
    }

    /// `min..=max`, or `min < x <= max` when `above_min`; `whole`: integers only.
    #[derive(Clone, Copy, Debug)]
    struct Range {
        min: f64,
        above_min: bool,
        max: f64,
        whole: bool,
    }

    const fn decimal(min: f64, above_min: bool, max: f64) -> Range {
        Range {
            min,
            above_min,
            max,
            whole: false,
        }
    }

    const fn whole(min: f64, max: f64) -> Range {
        Range {
            min,
            above_min: false,
            max,
            whole: true,
        }
    }

    const TIMEOUT: Range = decimal(0.1, false, 3_600.0);
    const RATE: Range = decimal(0.01, false, 10_000.0);
    const PARALLELISM: Range = whole(1.0, 64.0);

    const TARGETS: &[Target] = &[
        Target::Key {
            table: "api",
            key: "timeout",
            range: TIMEOUT,
        },
        Target::Key {
            table: "api",
            key: "max_rps",
            range: RATE,
        },
        Target::Key {
            table: "api",
            key: "parallelism",
            range: PARALLELISM,
        },
        Target::Key {
            table: "sources",
            key: "timeout",
            range: TIMEOUT,
        },
        Target::Key {
            table: "sources",
            key: "max_bytes",
            range: whole(1.0, 1_073_741_824.0),
        },
        Target::Key {
            table: "sources",
            key: "concurrency",
            range: PARALLELISM,
        },
        Target::Key {
            table: "sources",
            key: "retries",
            range: whole(0.0, 10.0),
        },
        Target::Key {
            table: "safety",
            key: "max_delete_percent",
            range: decimal(0.0, false, 100.0),
        },
        Target::Key {
            table: "safety",
            key: "min_rules",
            range: whole(0.0, 10_000.0),
        },
        Target::Flag {
            command: "apply",
            flag: "--max-rps",
            range: RATE,
        },
        Target::Flag {
            command: "apply",
            flag: "--parallelism",
            range: PARALLELISM,
        },
        Target::Flag {
            command: "probe",
            flag: "--max-rps",
            range: RATE,
        },
    ];

    /// A number as TOML and the command line write it, and its value when it has one.
    #[derive(Clone, Debug)]
    struct Number {
        text: String,
        value: Option<f64>,
    }

    fn float(value: f64) -> Number {
        let text = match value {
            v if v.is_nan() => "nan".to_string(),
            v if v == f64::INFINITY => "inf".to_string(),
            v if v == f64::NEG_INFINITY => "-inf".to_string(),
            v => format!("{v:?}"),
        };
        Number {
            text,
            value: Some(value),
        }
    }

    fn integer(value: i64) -> Number {
        Number {
            text: value.to_string(),
            value: Some(value as f64),
        }
    }

    /// Absurd numbers (NaN, infinities, negatives, 1e308, huge integers, text no number type
    /// holds) half the time, numbers near or inside the ranges the other half.
    fn numbers() -> impl Strategy<Value = Number> {
        let absurd = prop_oneof![
            any::<f64>().prop_map(float),
            any::<i64>().prop_map(integer),
            prop::sample::select(vec![
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e308,
                -1e308,
                1e20,
                1e-300,
                -1.0,
                0.0,
            ])
            .prop_map(float),
            prop::sample::select(vec![i64::MAX, i64::MIN, 4_611_686_018_427_387_904, -1, 0])
                .prop_map(integer),
            Just(Number {
                text: "99999999999999999999999".into(),
                value: None,
            }),
        ];
        let near = prop_oneof![
            (-2.0..20_000.0f64).prop_map(float),
            (-2i64..70).prop_map(integer),
            prop::sample::select(vec![
                0.01, 0.009, 0.1, 0.099, 3_600.0, 3_600.5, 100.0, 100.5, 10_000.0
            ])
            .prop_map(float),
            prop::sample::select(vec![
                1,
                64,
                65,
                10,
                11,
                10_000,
                10_001,
                1 << 30,
                (1 << 30) + 1
            ])
            .prop_map(integer),
        ];
        prop_oneof![absurd, near]
    }

    /// Whether the key or flag takes what is written: a whole number for a whole key (a decimal
    /// there is a type error; an integer for a decimal key is fine), within the i64 TOML holds.
    fn readable(range: &Range, number: &Number) -> bool {
        let is_integer_text = !number.text.contains(['.', 'e', 'n', 'i']);
        number.value.is_some() && (!range.whole || is_integer_text)
    }

    fn in_range(range: &Range, number: &Number) -> bool {
        let value = number.value.unwrap_or(f64::NAN);
        let above_min = match range.above_min {
            true => value > range.min,
            false => value >= range.min,
        };
        readable(range, number) && above_min && value <= range.max
    }

    /// The run, in a directory of its own: a config with one profile and no folder; with a flag,
    /// the config holds no number at all. The emulator refuses the token, so a number in range
    /// ends at the first request (the client, its pacing and its slots were built by then).
    fn run(emulator: &Emulator, dir: &Path, target: &Target, number: &Number) -> Output {
        let profile = "[[profile]]\nid = \"p1\"\nfolders = []\n";
        let (config, args) = match target {
            Target::Key { table, key, .. } => (
                format!("[{table}]\n{key} = {}\n\n{profile}", number.text),
                vec!["apply".to_string()],
            ),
            Target::Flag { command, flag, .. } => {
                let mut args = vec![command.to_string(), format!("{flag}={}", number.text)];
                if *command == "probe" {
                    args.extend(["--profile".to_string(), "p1".to_string()]);
                }
                (profile.to_string(), args)
            }
        };
        std::fs::write(dir.join("ctrld-sync.toml"), config).unwrap();
        Command::cargo_bin("ctrld-sync")
            .unwrap()
            .current_dir(dir)
            .env("CTRLD_API_TOKEN", "not-the-emulators-token")
            .args([
                "--no-progress",
                "--color",
                "never",
                "--api-url",
                &emulator.url(),
            ])
            .args(&args)
            .output()
            .unwrap()
    }

    fn check(emulator: &Emulator, target: &Target, number: &Number) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        let requests_before = emulator.stats().total;
        let output = run(emulator, dir.path(), target, number);
        let requests = emulator.stats().total - requests_before;
        let stderr = String::from_utf8_lossy(&output.stderr);
        prop_assert_eq!(
            output.status.code(),
            Some(1),
            "{:?} {:?}: {}",
            target,
            number,
            stderr
        );
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        let (range, refused) = match target {
            Target::Key { table, key, range } => {
                let names = format!("`{key} = {}` under [{table}]", number.text);
                let refused = stderr.contains("ctrld-sync.toml:2:")
                    && (stderr.contains(&names) || !readable(range, number));
                (range, refused)
            }
            Target::Flag { flag, range, .. } => (
                range,
                stderr.contains("invalid value") && stderr.contains(flag),
            ),
        };
        match in_range(range, number) {
            true => {
                prop_assert!(
                    stderr.contains("the API token was rejected"),
                    "{:?} {:?} is in range, so only the token is refused: {}",
                    target,
                    number,
                    stderr
                );
                prop_assert!(requests >= 1, "the emulator counts the refused request");
            }
            false => {
                prop_assert!(
                    refused,
                    "{:?} {:?} is out of range: {}",
                    target,
                    number,
                    stderr
                );
                prop_assert_eq!(requests, 0, "refused before any request");
            }
        }
        Ok(())
    }

    /// `apply` and `probe` on any number in any numeric key or flag: exit 1 (the number refused,
    /// naming the key with its file:line or the flag, before any request; or, in range, the
    /// emulator refusing the token), never a panic (101).
    #[test]
    fn a_number_anywhere_is_refused_or_used_never_a_panic() {
        let emulator = Emulator::start_background(EmulatorConfig {
            token: "the-emulators-token".into(),
            profiles: vec!["p1".into()],
            ..EmulatorConfig::default()
        })
        .unwrap();
        // The inputs of the report that found the panics, then random ones.
        let seen = [
            (0, float(1e20)),
            (3, float(1e20)),
            (1, float(1e-300)),
            (2, integer(4_611_686_018_427_387_904)),
            (9, float(1e-300)),
            (10, integer(4_611_686_018_427_387_904)),
            (11, integer(0)),
        ];
        for (index, number) in &seen {
            check(&emulator, &TARGETS[*index], number).unwrap();
        }
        let config = Config {
            cases: 64,
            failure_persistence: None,
            max_shrink_iters: 32,
            ..Config::default()
        };
        let targets = prop::sample::select(TARGETS.to_vec());
        TestRunner::new(config)
            .run(&(targets, numbers()), |(target, number)| {
                check(&emulator, &target, &number)
            })
            .unwrap();
    }
}
