//! Many profiles behind one account token: the real binary against the emulator over loopback.
//! The token is paced as one (its first limit event does not grow with the number of profiles);
//! profiles on tokens of their own are paced apart. Counts are asserted, never wall time.

use crate::apply_support;

use std::time::Duration;

use apply_support::*;
use controld_emulator::EmulatorConfig;

const PROFILES: [&str; 5] = ["p1", "p2", "p3", "p4", "p5"];
const PARALLELISM: u64 = 4;

/// Four folders of 600 rules: 8 writes of at most 500 rules, plus the reads, per profile.
fn folders() -> Vec<FolderSpec> {
    (0..4)
        .map(|n| {
            let key = format!("f{n}");
            FolderSpec::domains(&key, &format!("Folder {n}"), "block", &hosts(&key, 0..600))
        })
        .collect()
}

/// Five profiles; `limit`: the emulator's requests per second and burst (per token when
/// `per_token`, each profile then reading a token of its own through `token_env`).
fn setup(limit: Option<(f64, u32)>, per_token: bool) -> Setup {
    let tokens: Vec<String> = PROFILES.iter().map(|p| format!("token-{p}")).collect();
    let config = EmulatorConfig {
        token: TOKEN.into(),
        extra_tokens: if per_token { tokens } else { Vec::new() },
        rate_limit_per_token: per_token,
        profiles: PROFILES.iter().map(|p| p.to_string()).collect(),
        latency: Duration::from_millis(20),
        rps: limit.map(|(rps, _)| rps),
        burst: limit.map_or(0, |(_, burst)| burst),
        ..EmulatorConfig::default()
    };
    let setup = Setup::new(config, folders());
    if per_token {
        let mut text = std::fs::read_to_string(setup.config_path()).unwrap();
        for profile in PROFILES {
            let table = format!("[[profile]]\nid = \"{profile}\"\n");
            let own = format!("{table}token_env = \"TOKEN_{}\"\n", profile.to_uppercase());
            text = text.replacen(&table, &own, 1);
        }
        std::fs::write(setup.config_path(), text).unwrap();
    }
    setup
}

/// `apply` with each profile's own token in its variable (unused when the config names none).
fn apply(setup: &Setup) {
    let mut command = setup.command();
    for profile in PROFILES {
        command.env(
            format!("TOKEN_{}", profile.to_uppercase()),
            format!("token-{profile}"),
        );
    }
    let output = command.arg("apply").output().unwrap();
    assert_success(&output, "apply");
}

#[test]
fn five_profiles_on_one_limited_token_pay_one_small_first_event_and_end_exact() {
    let setup = setup(Some((20.0, 20)), false);
    apply(&setup);
    let stats = setup.emulator.stats();
    // Enough calls that the limit is met: the burst and more than a second of the rate.
    assert!(stats.total > 60, "{stats:?}");
    assert!(stats.rate_limited > 0, "the limit was met: {stats:?}");
    // The first event catches a small window; its cost does not grow with the profiles.
    assert!(
        stats.rate_limited <= 2 * PARALLELISM + 2,
        "{} 429s: {stats:?}",
        stats.rate_limited
    );
    setup.assert_converged(&[]);
    setup.emulator.reset_stats();
    assert_eq!(setup.plan_exit_code(), 0, "nothing left after one apply");
}

#[test]
fn five_profiles_on_their_own_tokens_are_paced_apart_and_end_exact() {
    // Each token allows 5/s with a burst of 5: every profile meets its own token's limit.
    let setup = setup(Some((5.0, 5)), true);
    apply(&setup);
    let stats = setup.emulator.stats();
    assert!(stats.rate_limited > 0, "the limits were met: {stats:?}");
    // Each token's first event catches its one profile's window, then one 429 measures its rate.
    assert!(
        stats.rate_limited <= 5 * (PARALLELISM + 2),
        "{} 429s: {stats:?}",
        stats.rate_limited
    );
    setup.assert_converged(&[]);
    setup.emulator.reset_stats();
    apply(&setup);
    assert_eq!(setup.emulator.stats().total, 5, "one read per profile");
}

#[test]
fn five_profiles_without_a_limit_never_meet_a_429_and_a_rerun_reads_one_list_each() {
    let setup = setup(None, false);
    apply(&setup);
    assert_eq!(setup.emulator.stats().rate_limited, 0);
    setup.assert_converged(&[]);
    setup.emulator.reset_stats();
    apply(&setup);
    let stats = setup.emulator.stats();
    assert_eq!(stats.total, 5, "{stats:?}");
}

/// Copies `from`'s `.pacing` files into `to`'s state dir.
fn copy_pacing(from: &Setup, to: &Setup) -> usize {
    let (from, to) = (
        from.state_dir().join(".pacing"),
        to.state_dir().join(".pacing"),
    );
    std::fs::create_dir_all(&to).unwrap();
    let mut copied = 0;
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        copied += 1;
    }
    copied
}

#[test]
fn the_rate_one_apply_measured_seeds_the_next_and_its_file_holds_no_token() {
    // A limit low enough that the run lasts past a second event, which measures the rate.
    let limit = Some((10.0, 10));
    let first = setup(limit, false);
    apply(&first);
    let unseeded = first.emulator.stats().rate_limited;
    for profile in PROFILES {
        let file = first
            .state_dir()
            .join(".pacing")
            .join(format!("{profile}.json"));
        let text = read(&file);
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("\"rps\""), "{text}");
    }
    // The same first sync into new profiles, with only the remembered rate kept.
    let second = setup(limit, false);
    assert_eq!(copy_pacing(&first, &second), PROFILES.len());
    apply(&second);
    let seeded = second.emulator.stats().rate_limited;
    second.assert_converged(&[]);
    // Without the seed the first event costs the window in flight; with it, at most the probes
    // of the additive growth above the remembered rate.
    assert!(
        seeded <= 2 && seeded < unseeded,
        "{seeded} 429s seeded, {unseeded} not"
    );
    // `plan` reads, never writes it.
    std::fs::remove_dir_all(second.state_dir().join(".pacing")).unwrap();
    second.plan_exit_code();
    assert!(!second.state_dir().join(".pacing").exists());
}
