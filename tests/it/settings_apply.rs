//! Settings as code through the real binary against the emulator: the plan shows each change under
//! the profile, apply makes exactly the config's settings and touches nothing else, a no-change run
//! reads one row per account beside the folder list, dashboard drift is repaired in one apply, a
//! lowering change needs --allow-destroy, unknown names point at the config line with the closest
//! names, and lost answers resolve within the run under every settings knob.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::apply_support::{run_in, stderr, stdout, TOKEN};
use controld_emulator::{ActionDump, Behaviour, Emulator, EmulatorConfig, SettingsDump};
use tempfile::TempDir;

const PROFILE: &str = "p1";

const CONFIG: &str = r#"[[profile]]
id = "p1"
default = "block"
filters = { ads = "ads_medium", malware = true, "x-1hosts-lite" = true }
services = { tiktok = "block", zoom = "bypass" }
options = { safesearch = true, ai_malware = "0.7", ttl_blck = 10 }
"#;

struct Bench {
    emulator: Emulator,
    dir: TempDir,
}

impl Bench {
    fn new(behaviour: Behaviour, config: &str) -> Self {
        let emulator = Emulator::start_background(EmulatorConfig {
            token: TOKEN.into(),
            profiles: vec![PROFILE.into()],
            behaviour,
            ..EmulatorConfig::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ctrld-sync.toml"), config).unwrap();
        Self { emulator, dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        run_in(self.dir.path(), &self.emulator.url(), args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}\n{}",
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }

    fn settings(&self) -> SettingsDump {
        self.emulator.dump().profiles[PROFILE].settings.clone()
    }

    fn edit(&self, change: impl FnOnce(&mut SettingsDump)) {
        let mut dump = self.emulator.dump();
        change(&mut dump.profiles.get_mut(PROFILE).unwrap().settings);
        self.emulator.load(dump);
    }

    /// `plan --detailed-exitcode` exits 0, and how many calls it made.
    fn plan_is_clean(&self) -> u64 {
        self.emulator.reset_stats();
        let output = self.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}\n{}",
            stdout(&output),
            stderr(&output)
        );
        self.emulator.stats().total
    }

    fn config_path(&self) -> &Path {
        self.dir.path()
    }
}

fn action(kind: u8, status: u8) -> ActionDump {
    ActionDump {
        kind: Some(kind),
        status,
        via: None,
        via_v6: None,
    }
}

/// What the config asks for, as the emulator dumps it, plus what the person set themselves.
fn expected(own: &SettingsDump) -> SettingsDump {
    let mut filters = vec![
        "ads_medium".to_string(),
        "malware".to_string(),
        "x-1hosts-lite".to_string(),
    ];
    filters.extend(own.filters.iter().cloned());
    filters.sort();
    let mut services: BTreeMap<String, ActionDump> = own.services.clone();
    services.insert("tiktok".into(), action(0, 1));
    services.insert("zoom".into(), action(1, 1));
    let mut options = own.options.clone();
    options.insert("safesearch".into(), "1".into());
    options.insert("ai_malware".into(), "0.7".into());
    options.insert("ttl_blck".into(), "10".into());
    SettingsDump {
        filters,
        services,
        default_rule: action(0, 1),
        options,
    }
}

/// Settings the person made in the dashboard, none of which the config names.
fn own_settings() -> SettingsDump {
    SettingsDump {
        filters: vec!["porn_strict".into(), "x-oisd-big".into()],
        services: [("netflix".to_string(), action(1, 1))].into(),
        options: [("b_resp".to_string(), "3".to_string())].into(),
        ..SettingsDump::default()
    }
}

#[test]
fn the_plan_lists_each_setting_and_apply_sets_exactly_those_leaving_the_rest() {
    let bench = Bench::new(Behaviour::default(), CONFIG);
    bench.edit(|settings| *settings = own_settings());
    let plan = bench.ok(&["plan"]);
    let settings_lines: Vec<&str> = plan
        .lines()
        .filter(|line| {
            ["~ filter", "+ service", "~ default", "~ option"]
                .iter()
                .any(|tag| line.trim_start().starts_with(tag))
        })
        .map(str::trim)
        .collect();
    assert_eq!(
        settings_lines,
        [
            "~ filter ads: off -> ads_medium",
            "~ filter malware: off -> on",
            "~ filter x-1hosts-lite: off -> on",
            "+ service tiktok: block",
            "+ service zoom: bypass",
            "~ default: bypass -> block",
            "~ option ai_malware: off -> 0.7",
            "~ option safesearch: off -> on",
            "~ option ttl_blck: off -> 10",
        ],
        "{plan}"
    );
    assert!(plan.contains("9 settings to change"), "{plan}");

    bench.emulator.reset_stats();
    let applied = bench.ok(&["apply"]);
    assert!(applied.contains("settings: 9 changed"), "{applied}");
    let stats = bench.emulator.stats();
    // The estimate counts every read the refresh made (catalogues included) and every write.
    assert!(
        plan.contains(&format!("~{} API calls", stats.total)),
        "{} calls sent\n{plan}",
        stats.total
    );
    assert_eq!(stats.by_route["GET /profiles/options"], 1);
    assert_eq!(stats.by_route["GET /services/categories"], 1);
    // One batch write for the three filters, one write per other setting.
    assert_eq!(stats.by_route["PUT /profiles/{profile}/filters"], 1);
    assert_eq!(
        stats.by_route["PUT /profiles/{profile}/services/{service}"],
        2
    );
    assert_eq!(stats.by_route["PUT /profiles/{profile}/default"], 1);
    assert_eq!(
        stats.by_route["PUT /profiles/{profile}/options/{option}"],
        3
    );
    assert_eq!(bench.settings(), expected(&own_settings()));

    let shown = bench.ok(&["state", "show"]);
    for line in [
        "  settings: 9 managed (trusted while GET /profiles says what it said then)",
        "    default block",
        "    filter ads ads_medium",
        "    service zoom bypass",
        "    option ttl_blck 10",
    ] {
        assert!(shown.contains(line), "{line}\n{shown}");
    }
    assert!(
        !shown.contains("netflix"),
        "unmanaged settings are not recorded: {shown}"
    );

    // A no-change run: the folder list and the one GET /profiles row.
    assert_eq!(bench.plan_is_clean(), 2);
    assert_eq!(bench.emulator.stats().by_route["GET /profiles"], 1);
}

#[test]
fn dashboard_drift_is_seen_and_repaired_in_one_apply() {
    let bench = Bench::new(Behaviour::default(), CONFIG);
    bench.ok(&["apply"]);
    assert_eq!(bench.plan_is_clean(), 2);
    bench.edit(|settings| {
        // A level swapped, a service flipped, an option changed, the default changed: counts
        // alone would miss the first two; the row's `updated` shows them.
        settings.filters = vec!["ads_small".into(), "malware".into(), "x-1hosts-lite".into()];
        settings.services.insert("tiktok".into(), action(1, 1));
        settings.options.insert("ttl_blck".into(), "30".into());
        settings.default_rule = action(1, 1);
    });
    let plan = bench.ok(&["plan"]);
    for line in [
        "~ filter ads: ads_small -> ads_medium",
        "~ service tiktok: bypass -> block",
        "~ default: bypass -> block",
        "~ option ttl_blck: 30 -> 10",
    ] {
        assert!(plan.contains(line), "{line}\n{plan}");
    }
    bench.emulator.reset_stats();
    let applied = bench.ok(&["apply"]);
    assert_eq!(bench.settings(), expected(&SettingsDump::default()));
    // The plan's estimate is what the apply sent: the refresh (folder list, row, the drifted
    // kinds), four writes, the row once more; no folder check read, as no folder was written.
    let stats = bench.emulator.stats();
    assert!(
        applied.contains(&format!("API calls: {} (", stats.total)),
        "{applied}"
    );
    assert_eq!(
        stats.by_route.get("GET /profiles/{profile}/groups"),
        Some(&1)
    );
    // One filter changed: written alone, not through the batch.
    assert_eq!(
        stats.by_route["PUT /profiles/{profile}/filters/filter/{filter}"],
        1
    );
    assert!(!stats
        .by_route
        .contains_key("PUT /profiles/{profile}/filters"));
    assert_eq!(stats.by_route["GET /profiles"], 2);
    assert!(
        plan.contains(&format!("~{} API calls", stats.total)),
        "{plan}"
    );
    assert_eq!(bench.plan_is_clean(), 2);
}

#[test]
fn a_change_that_lowers_protection_needs_allow_destroy() {
    let bench = Bench::new(Behaviour::default(), CONFIG);
    bench.ok(&["apply"]);
    let lowered = CONFIG
        .replace("malware = true", "malware = false")
        .replace("tiktok = \"block\"", "tiktok = \"off\"");
    std::fs::write(bench.config_path().join("ctrld-sync.toml"), lowered).unwrap();
    let refused = bench.run(&["apply"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("filter `malware` would go from on to off, lowering protection")
            && message.contains("service `tiktok` would go from block to off")
            && message.contains("--allow-destroy"),
        "{message}"
    );
    assert!(bench.settings().filters.contains(&"malware".to_string()));
    let plan = bench.ok(&["plan"]);
    assert!(
        plan.contains("~ filter malware: on -> off  (lowers protection)"),
        "{plan}"
    );
    // A saved plan is judged by its steps and the state file, not by its own list.
    bench.ok(&["plan", "--out", "lowering.plan"]);
    let refused = bench.run(&["apply", "lowering.plan"]);
    let message = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{message}");
    assert!(
        message.contains("filter `malware` would be turned off")
            && message.contains("service `tiktok` would move away from block"),
        "{message}"
    );
    bench.ok(&["apply", "--allow-destroy", "lowering.plan"]);
    let settings = bench.settings();
    assert!(!settings.filters.contains(&"malware".to_string()));
    assert_eq!(
        settings.services["tiktok"],
        action(0, 0),
        "disabled, not gone"
    );
    assert_eq!(bench.plan_is_clean(), 2);
}

#[test]
fn an_unknown_name_points_at_its_line_with_the_closest_names() {
    for (config, line, expected) in [
        (
            "[[profile]]\nid = \"p1\"\nservices = { tiktk = \"block\" }\n",
            3,
            "Control D lists no service `tiktk`; did you mean `tiktok`",
        ),
        (
            "[[profile]]\nid = \"p1\"\n[profile.filters]\nads = \"ads_mediun\"\n",
            4,
            "no level of filter `ads` `ads_mediun`; did you mean `ads_medium`",
        ),
        (
            "[[profile]]\nid = \"p1\"\noptions = { safe_search = true }\n",
            3,
            "did you mean `safesearch`",
        ),
        (
            "[[profile]]\nid = \"p1\"\noptions = { ai_malware = \"0.8\" }\n",
            3,
            "does not take \"0.8\": one of",
        ),
    ] {
        let bench = Bench::new(Behaviour::default(), config);
        let output = bench.run(&["plan"]);
        assert_eq!(output.status.code(), Some(1), "{config}");
        let message = stderr(&output);
        assert!(
            message.contains(&format!("ctrld-sync.toml:{line}:")) && message.contains(expected),
            "{config}\n{message}"
        );
        assert_eq!(
            bench.settings(),
            SettingsDump::default(),
            "nothing was written"
        );
    }
}

#[test]
fn lost_answers_resolve_in_one_apply_under_every_settings_knob() {
    for (name, behaviour) in Behaviour::settings_matrix() {
        let bench = Bench::new(behaviour, CONFIG);
        for route in [
            "PUT /profiles/{profile}/filters",
            "PUT /profiles/{profile}/services/{service}",
            "PUT /profiles/{profile}/default",
            "PUT /profiles/{profile}/options/{option}",
        ] {
            bench.emulator.lose_next_answers(route, 1);
        }
        let output = bench.run(&["apply"]);
        assert!(
            output.status.success(),
            "{name}: {}\n{}",
            stdout(&output),
            stderr(&output)
        );
        assert_eq!(
            bench.settings(),
            expected(&SettingsDump::default()),
            "{name}"
        );
        let calls = bench.plan_is_clean();
        assert!(
            calls <= 6,
            "{name}: a clean plan after the apply made {calls} calls"
        );
    }
}

#[test]
fn a_value_the_service_clamps_fails_the_run_naming_both() {
    let behaviour = Behaviour {
        option_values: controld_emulator::OptionValues::Clamped,
        ..Behaviour::default()
    };
    let config = "[[profile]]\nid = \"p1\"\noptions = { ttl_blck = 99999 }\n";
    let bench = Bench::new(behaviour, config);
    let output = bench.run(&["apply"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("option `ttl_blck`: Control D stored 3600 where 99999 was sent"),
        "{message}"
    );
}

#[test]
fn verify_reads_back_each_kind_of_setting_written() {
    let bench = Bench::new(Behaviour::default(), CONFIG);
    bench.ok(&["plan"]);
    bench.emulator.reset_stats();
    bench.ok(&["apply"]);
    let plain = bench.emulator.stats();
    let bench = Bench::new(Behaviour::default(), CONFIG);
    bench.ok(&["apply", "--verify"]);
    let verified = bench.emulator.stats();
    for route in [
        "GET /profiles/{profile}/filters",
        "GET /profiles/{profile}/filters/external",
        "GET /profiles/{profile}/services",
        "GET /profiles/{profile}/default",
        "GET /profiles/{profile}/options",
    ] {
        let before = plain.by_route.get(route).copied().unwrap_or(0);
        let after = verified.by_route.get(route).copied().unwrap_or(0);
        assert_eq!(
            after,
            before + 1,
            "{route}: {before} without --verify, {after} with"
        );
    }
    assert_eq!(bench.settings(), expected(&SettingsDump::default()));
}

#[test]
fn a_write_that_keeps_failing_fails_the_run_naming_the_setting_after_reading_it_back() {
    let config = "[[profile]]\nid = \"p1\"\nfilters = { ads = \"ads_medium\" }\n";
    let bench = Bench::new(Behaviour::default(), config);
    bench
        .emulator
        .fail_next_requests("PUT /profiles/{profile}/filters/filter/{filter}", 6);
    let output = bench.run(&["apply"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("profile p1: setting filter `ads_medium`"),
        "{message}"
    );
    let stats = bench.emulator.stats();
    assert_eq!(
        stats.by_route["GET /profiles/{profile}/filters"], 2,
        "read back once"
    );
    assert!(bench.settings().filters.is_empty());
    // The next run finishes.
    bench.ok(&["apply"]);
    assert_eq!(bench.settings().filters, ["ads_medium"]);
}

#[test]
fn names_added_later_are_checked_and_a_listed_service_needs_no_catalogue() {
    let bench = Bench::new(Behaviour::default(), CONFIG);
    bench.edit(|settings| *settings = own_settings());
    bench.ok(&["apply"]);
    // netflix has a rule (the person's): the profile's listing vouches for the name.
    let config = CONFIG.replace(
        "zoom = \"bypass\"",
        "zoom = \"bypass\", netflix = \"block\"",
    );
    std::fs::write(bench.config_path().join("ctrld-sync.toml"), &config).unwrap();
    bench.emulator.reset_stats();
    let plan = bench.ok(&["plan"]);
    assert!(
        plan.contains("~ service netflix: bypass -> block"),
        "{plan}"
    );
    let stats = bench.emulator.stats();
    assert!(
        !stats.by_route.contains_key("GET /services/categories"),
        "{stats:?}"
    );
    // A misspelt name added to a profile whose other names the state knows is still checked.
    let config = CONFIG.replace("zoom = \"bypass\"", "zoom = \"bypass\", tiktk = \"block\"");
    std::fs::write(bench.config_path().join("ctrld-sync.toml"), &config).unwrap();
    let output = bench.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("did you mean `tiktok`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn without_the_profile_rows_the_settings_are_read_and_the_run_goes_on() {
    let bench = Bench::new(Behaviour::default(), CONFIG);
    // GET /profiles fails past its retries: no mark, so every managed kind is read, options too.
    bench.emulator.fail_next_requests("GET /profiles", 6);
    let output = bench.run(&["plan", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let by_endpoint = &plan["estimate"]["by_endpoint"];
    assert_eq!(
        by_endpoint["GET /profiles/{profile}/options"], 1,
        "{by_endpoint}"
    );
    assert_eq!(
        by_endpoint["GET /profiles/{profile}/default"], 1,
        "{by_endpoint}"
    );
    let stats = bench.emulator.stats();
    assert_eq!(stats.by_route["GET /profiles/{profile}/options"], 1);
    bench.ok(&["apply"]);
    assert_eq!(bench.settings(), expected(&SettingsDump::default()));
}
