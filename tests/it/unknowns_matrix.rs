//! The apply path under every emulator knob for an unknown behaviour, with lost responses and
//! server errors: retried PUTs and DELETEs meet what is unknown (a DELETE of a folder already gone,
//! a PUT naming the folder the rules are already in). Whatever the service does, repeated applies
//! finish, the profile matches the config, and a plan afterwards is one read with no change.

use crate::apply_support;

use apply_support::{hosts, FolderSpec, Setup, TOKEN};
use controld_emulator::{Behaviour, EmulatorConfig};

fn folders(churned: bool) -> Vec<FolderSpec> {
    let (ads, moved) = match churned {
        false => (hosts("ads", 0..40), Vec::new()),
        true => (hosts("ads", 5..45), hosts("ads", 0..5)),
    };
    let mut mixed: Vec<(String, bool)> = hosts("trk", 0..30)
        .into_iter()
        .enumerate()
        .map(|(n, host)| (host, (n % 3 == 0) != churned))
        .collect();
    mixed.extend(moved.into_iter().map(|host| (host, true)));
    let mut all = vec![
        FolderSpec::domains("ads", "Ads", "block", &ads),
        FolderSpec::controld("trackers", "Trackers", &mixed),
    ];
    if !churned {
        all.push(FolderSpec::domains(
            "ok",
            "Allowed",
            "allow",
            &hosts("ok", 0..10),
        ));
    }
    all
}

/// The profile synced once to `folders(false)` on an emulator with `behaviour`.
fn synced_under(behaviour: Behaviour) -> Setup {
    let config = EmulatorConfig {
        token: TOKEN.into(),
        profiles: vec!["p1".into()],
        seed: 5,
        behaviour,
        ..EmulatorConfig::default()
    };
    let setup = Setup::new(config, folders(false));
    setup.apply_ok(&["--max-rps", "1000"]);
    setup
}

/// The profile matches the config, and a plan afterwards is one read with no change.
fn assert_settled(setup: &Setup, label: &str) {
    setup.assert_converged(&[]);
    setup.emulator.reset_stats();
    assert_eq!(
        setup.plan_exit_code(),
        0,
        "{label}: no change after the apply"
    );
    assert_eq!(setup.emulator.stats().total, 1, "{label}: one read");
}

fn converges_under(knob: &str, behaviour: Behaviour) {
    let mut setup = synced_under(behaviour);
    setup.set_folders(folders(true));
    setup.emulator.set_fail_rate(0.3);
    // Lost answers are read back and server errors retried within the run: one apply finishes.
    let output = setup.run(&["apply", "--allow-destroy", "--max-rps", "1000"]);
    setup.emulator.set_fail_rate(0.0);
    assert!(
        output.status.success(),
        "{knob}: one apply finishes: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        setup.emulator.stats().faults > 0,
        "{knob}: faults were injected"
    );
    assert_settled(&setup, knob);
}

#[test]
fn apply_converges_under_every_unknown_behaviour_with_lost_responses() {
    for (knob, behaviour) in Behaviour::matrix() {
        converges_under(knob, behaviour);
    }
}

/// A folder DELETE whose answer is lost is retried, and the retry meets a folder already gone:
/// whether the service answers 404, 200 or 400/40003 to that, the same run finishes.
#[test]
fn a_lost_folder_delete_answer_finishes_in_the_same_run_whatever_a_gone_folder_answers() {
    use controld_emulator::GoneFolderDelete;
    for gone in [
        GoneFolderDelete::NotFound,
        GoneFolderDelete::Success,
        GoneFolderDelete::Rejected,
    ] {
        let behaviour = Behaviour {
            gone_folder_delete: gone,
            ..Behaviour::default()
        };
        let mut setup = synced_under(behaviour);
        setup.set_folders(folders(false).into_iter().take(2).collect());
        setup
            .emulator
            .lose_next_answers("DELETE /profiles/{profile}/groups/{group}", 1);
        let output = setup.run(&["apply", "--allow-destroy", "--max-rps", "1000"]);
        assert!(
            output.status.success(),
            "{gone:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            setup.emulator.stats().faults,
            1,
            "{gone:?}: the answer was lost"
        );
        assert_settled(&setup, &format!("{gone:?}"));
    }
}
