//! The bench's `--quick` mode as a test, so a regression in API calls fails `cargo test`: small
//! synthetic lists, the real binary against the emulator, exact call counts per scenario asserted.

#[allow(dead_code)]
#[path = "../../examples/bench/main.rs"]
mod bench;

use std::path::Path;
use std::time::Duration;

#[test]
fn sync_scenarios_make_exactly_the_expected_api_calls() {
    let binary = Path::new(env!("CARGO_BIN_EXE_ctrld-sync"));
    let rows = bench::quick::run(binary, Duration::from_millis(1))
        .unwrap_or_else(|error| panic!("{error}"));
    println!("{}", bench::table::markdown(&rows));
}

mod lists {
    use super::bench::data::{effective, Act};
    use super::bench::gen;

    #[test]
    fn generated_lists_are_deterministic_and_shaped_like_hagezi_folders() {
        let first = gen::generate(7, 1, 25, 10_000);
        let again = gen::generate(7, 1, 25, 10_000);
        let lists = &first[0].lists;
        assert_eq!(lists.len(), 25);
        let sizes: Vec<usize> = lists.iter().map(|list| list.rules.len()).collect();
        assert_eq!(
            sizes,
            again[0]
                .lists
                .iter()
                .map(|list| list.rules.len())
                .collect::<Vec<_>>()
        );
        assert_eq!(lists[10].rules, again[0].lists[10].rules);
        assert!(
            sizes.iter().all(|size| (19..=1_300).contains(size)),
            "{sizes:?}"
        );
        let rules: Vec<&(String, Act)> = lists.iter().flat_map(|list| &list.rules).collect();
        assert!(rules.iter().any(|(_, act)| *act == Act::ALLOW));
        assert!(rules.iter().any(|(_, act)| *act == Act::BLOCK));
        assert!(rules.iter().any(|(host, _)| host.starts_with("*.")));
        assert!(lists.iter().any(|list| list.action.kind.is_none()));
        let kept: usize = effective(&first[0])
            .iter()
            .map(|folder| folder.rules.len())
            .sum();
        assert!(
            kept < rules.len() && kept < 10_000,
            "overlaps resolved: {kept} of {}",
            rules.len()
        );
    }

    #[test]
    fn churn_changes_about_the_asked_share_and_keeps_the_rest() {
        let base = gen::generate(7, 1, 25, 10_000);
        let churned = gen::churn(8, &base, 0.01);
        let before: std::collections::BTreeSet<&String> = base[0]
            .lists
            .iter()
            .flat_map(|l| l.rules.iter().map(|(h, _)| h))
            .collect();
        let after: std::collections::BTreeSet<&String> = churned[0]
            .lists
            .iter()
            .flat_map(|l| l.rules.iter().map(|(h, _)| h))
            .collect();
        let gone = before.difference(&after).count();
        let new = after.difference(&before).count();
        assert!(
            (20..=60).contains(&gone) && (20..=60).contains(&new),
            "gone {gone}, new {new}"
        );
    }
}

mod minimum {
    use std::collections::BTreeMap;

    use controld_emulator::{ActionDump, FolderDump, RuleDump};

    use super::bench::data::{Act, EffectiveFolder, FolderAct};
    use super::bench::minimum::change;

    fn have(pk: u64, name: &str, hosts: &[(&str, u8)]) -> FolderDump {
        let action = |kind| ActionDump {
            kind: Some(kind),
            status: 1,
            via: None,
            via_v6: None,
        };
        FolderDump {
            pk,
            name: name.to_string(),
            action: action(0),
            rules: hosts
                .iter()
                .map(|(host, kind)| RuleDump {
                    hostname: host.to_string(),
                    action: action(*kind),
                })
                .collect(),
        }
    }

    fn want(name: &str, hosts: &[(String, Act)]) -> EffectiveFolder {
        EffectiveFolder {
            name: name.to_string(),
            action: FolderAct {
                kind: Some(0),
                status: 1,
            },
            rules: hosts.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }

    fn hosts(prefix: &str, n: usize, act: Act) -> Vec<(String, Act)> {
        (0..n)
            .map(|i| (format!("{prefix}{i}.example"), act))
            .collect()
    }

    #[test]
    fn first_sync_costs_one_read_creates_batches_and_a_verification() {
        let mut a = hosts("a", 1_001, Act::BLOCK);
        a.extend(hosts("allow", 3, Act::ALLOW));
        let desired = [want("A", &a), want("B", &hosts("b", 20, Act::BLOCK))];
        let first = change(&[], &desired, false);
        // 1 GET + 2 folders + (3 + 1) POSTs for A + 1 POST for B + 1 verification GET.
        assert_eq!(first.minimum_calls(), 1 + 2 + 4 + 1 + 1);
        assert_eq!(first.rules_changed(), 1_024);
    }

    #[test]
    fn unchanged_profile_costs_one_read_and_adoption_one_more_per_folder() {
        let current = [have(1, "A", &[("x.example", 0)])];
        let desired = [want("A", &[("x.example".to_string(), Act::BLOCK)])];
        assert_eq!(change(&current, &desired, false).minimum_calls(), 1);
        assert_eq!(change(&current, &desired, true).minimum_calls(), 2);
        let mut two_profiles = change(&current, &desired, false);
        two_profiles.add(&change(&current, &desired, false));
        assert_eq!(two_profiles.minimum_calls(), 2, "one read per profile");
    }

    #[test]
    fn moves_changes_and_removals_take_their_cheapest_form() {
        let removed: Vec<(String, u8)> =
            (0..600).map(|i| (format!("gone{i}.example"), 0)).collect();
        let mut a: Vec<(&str, u8)> = vec![("move.example", 0), ("flip.example", 0)];
        a.extend(removed.iter().map(|(host, kind)| (host.as_str(), *kind)));
        let current = [have(1, "A", &a), have(2, "B", &[])];
        let desired = [
            want("A", &[("flip.example".to_string(), Act::ALLOW)]),
            want("B", &[("move.example".to_string(), Act::BLOCK)]),
        ];
        let result = change(&current, &desired, false);
        // 1 GET + PUT (A, allow) + PUT (B, block) + scratch: create, 2 moves, delete + 1 GET.
        assert_eq!(result.minimum_calls(), 1 + 2 + 4 + 1);
        assert_eq!(result.removed, 600);
        let few = [have(1, "A", &[("gone.example", 0), ("kept.example", 0)])];
        let kept = [want("A", &[("kept.example".to_string(), Act::BLOCK)])];
        // One removal: a single DELETE beats a scratch folder.
        assert_eq!(change(&few, &kept, false).minimum_calls(), 1 + 1 + 1);
    }
}

mod old_tool {
    use controld_emulator::{Emulator, EmulatorConfig};

    use super::bench::{gen, old_tool, runner, scenarios};

    #[test]
    fn old_tool_model_deletes_recreates_and_repushes_everything() {
        let lists = gen::generate(3, 2, 6, 1_200);
        let config = EmulatorConfig {
            token: runner::TOKEN.to_string(),
            profiles: vec![gen::profile_id(0), gen::profile_id(1)],
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start_background(config).expect("emulator starts");
        old_tool::sync(&emulator.url(), &lists).expect("first push");
        let desired: Vec<_> = lists
            .iter()
            .map(|p| (p.id.clone(), super::bench::data::effective(p)))
            .collect();
        scenarios::compare(&emulator.dump(), &desired)
            .expect("the old tool's end state is the desired one");
        emulator.reset_stats();
        old_tool::sync(&emulator.url(), &lists).expect("re-push");
        let stats = emulator.stats();
        let route = |name: &str| stats.by_route.get(name).copied().unwrap_or(0);
        assert_eq!(route("GET /profiles/{profile}/groups"), 2);
        assert_eq!(route("DELETE /profiles/{profile}/groups/{group}"), 12);
        assert_eq!(route("POST /profiles/{profile}/groups"), 12);
        assert!(route("POST /profiles/{profile}/rules") >= 12);
        scenarios::compare(&emulator.dump(), &desired).expect("still the desired state");
    }
}
