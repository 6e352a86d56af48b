//! The three plan formats, pinned with insta snapshots over one scenario that has every kind of
//! change; plus the plan JSON and determinism of the rendered bytes.

use std::collections::BTreeMap;

use ctrld_sync::controld::RemoteFolder;
use ctrld_sync::model::{
    ActionKind, DesiredFolder, DesiredProfile, FolderAction, FolderPk, Hostname, RuleAction,
    SourceRecord,
};
use ctrld_sync::plan::render::Format;
use ctrld_sync::plan::{
    plan,
    render::{render, render_with, Detail},
    CurrentFolder, CurrentProfile, Holder, Plan, PlanSettings,
};

fn rules(entries: &[(&str, RuleAction)]) -> BTreeMap<Hostname, RuleAction> {
    entries
        .iter()
        .map(|(host, action)| (Hostname::parse(host).unwrap(), action.clone()))
        .collect()
}

fn block() -> RuleAction {
    RuleAction::block()
}

fn allow() -> RuleAction {
    RuleAction::allow()
}

fn desired(key: &str, name: &str, entries: &[(&str, RuleAction)]) -> DesiredFolder {
    DesiredFolder {
        key: key.into(),
        name: name.into(),
        action: FolderAction::of(ActionKind::Block),
        rules: rules(entries).into(),
        source: SourceRecord {
            location: format!("https://lists.example/{key}.json"),
            etag: Some("\"abc\"".into()),
            last_modified: None,
            sha256: "ab".repeat(32),
            fingerprint: "0123456789abcdef".into(),
        },
    }
}

fn current(pk: u64, name: &str, entries: &[(&str, RuleAction)]) -> CurrentFolder {
    CurrentFolder {
        pk: FolderPk::new(pk),
        name: name.into(),
        action: FolderAction::of(ActionKind::Block),
        rules: rules(entries).into(),
        adopted: false,
    }
}

/// p1: `ads` kept (add, change, move in, remove), `trackers` created, `tlds` renamed, `old`
/// deleted; an overlap and an unmanaged hostname. p2: nothing to do.
fn scenario() -> Plan {
    let many: Vec<(String, RuleAction)> = (0..30)
        .map(|i| (format!("new{i:02}.example"), block()))
        .collect();
    let mut trackers: Vec<(&str, RuleAction)> =
        many.iter().map(|(h, a)| (h.as_str(), a.clone())).collect();
    trackers.push(("moved.example", allow()));
    trackers.push(("shared.example", block()));
    let p1 = DesiredProfile {
        id: "p1".into(),
        settings: Default::default(),
        name: Some("Home".into()),
        folders: vec![
            desired(
                "ads",
                "Ads",
                &[
                    ("keep.example", block()),
                    ("flip.example", allow()),
                    ("add.example", block()),
                    ("shared.example", block()),
                    ("mine.example", block()),
                ],
            ),
            desired("trackers", "Trackers", &trackers),
            desired("tlds", "Abused TLDs", &[("zip", block())]),
        ],
    };
    let mut managed = BTreeMap::new();
    managed.insert(
        "ads".to_string(),
        current(
            10,
            "Ads",
            &[
                ("keep.example", block()),
                ("flip.example", block()),
                ("gone.example", block()),
            ],
        ),
    );
    managed.insert("tlds".to_string(), current(11, "TLDs", &[("zip", block())]));
    managed.insert(
        "old".to_string(),
        current(
            12,
            "Old",
            &[("moved.example", block()), ("stale.example", block())],
        ),
    );
    let remote_folders = vec![
        remote(10, "Ads", 3),
        remote(11, "TLDs", 1),
        remote(12, "Old", 2),
        remote(13, "Mine", 1),
    ];
    let unmanaged = BTreeMap::from([(
        "mine.example".parse().unwrap(),
        Holder::Folder {
            pk: FolderPk::new(13),
            name: "Mine".into(),
        },
    )]);
    let p1_current = CurrentProfile {
        profile: "p1".into(),
        remote_folders,
        managed,
        unmanaged_rules: Some(unmanaged),
        scratch: vec![],
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: "f".repeat(64),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    };
    let p2 = DesiredProfile {
        id: "p2".into(),
        settings: Default::default(),
        name: None,
        folders: vec![desired("tlds", "Abused TLDs", &[("zip", block())])],
    };
    let p2_current = CurrentProfile {
        profile: "p2".into(),
        remote_folders: vec![remote(20, "Abused TLDs", 1)],
        managed: BTreeMap::from([(
            "tlds".to_string(),
            current(20, "Abused TLDs", &[("zip", block())]),
        )]),
        unmanaged_rules: None,
        scratch: vec![],
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: "e".repeat(64),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    };
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    plan([(&p1, &p1_current), (&p2, &p2_current)], &settings).unwrap()
}

fn remote(pk: u64, name: &str, count: u64) -> RemoteFolder {
    RemoteFolder {
        pk: FolderPk::new(pk),
        name: name.into(),
        action: FolderAction::of(ActionKind::Block),
        count,
    }
}

#[test]
fn text_plan() {
    insta::assert_snapshot!(render(&scenario(), Format::Text));
}

#[test]
fn json_plan() {
    insta::assert_snapshot!(render(&scenario(), Format::Json));
}

#[test]
fn markdown_plan() {
    let markdown = render(&scenario(), Format::Markdown);
    assert!(markdown.len() < ctrld_sync::plan::render::MARKDOWN_BUDGET);
    insta::assert_snapshot!(markdown);
}

#[test]
fn rendering_is_deterministic() {
    for format in [Format::Text, Format::Json, Format::Markdown] {
        assert_eq!(render(&scenario(), format), render(&scenario(), format));
    }
}

#[test]
fn the_plan_json_round_trips() {
    let plan = scenario();
    let text = render(&plan, Format::Json);
    let back: Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back.profiles[0].steps, plan.profiles[0].steps);
    assert_eq!(back.estimate, plan.estimate);
}

#[test]
fn a_huge_markdown_plan_is_cut_under_the_budget_with_a_note() {
    let hosts: Vec<(String, RuleAction)> = (0..9_000)
        .map(|i| (format!("host-number-{i:05}.example.com"), block()))
        .collect();
    let entries: Vec<(&str, RuleAction)> =
        hosts.iter().map(|(h, a)| (h.as_str(), a.clone())).collect();
    let folders = (0..40)
        .map(|i| {
            desired(
                &format!("folder{i:02}"),
                &format!("Folder {i}"),
                &entries[i * 200..i * 200 + 200],
            )
        })
        .collect();
    let profile = DesiredProfile {
        id: "big".into(),
        settings: Default::default(),
        name: None,
        folders,
    };
    let current = CurrentProfile {
        profile: "big".into(),
        remote_folders: vec![],
        managed: BTreeMap::new(),
        unmanaged_rules: None,
        scratch: vec![],
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: String::new(),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    };
    let plan = plan([(&profile, &current)], &PlanSettings::default()).unwrap();
    let markdown = render(&plan, Format::Markdown);
    assert!(
        markdown.len() <= ctrld_sync::plan::render::MARKDOWN_BUDGET,
        "{}",
        markdown.len()
    );
    assert!(markdown.contains("Cut to fit a comment"));
}

/// Two hagezi-like folders listing the same 150 hostnames (the second is a superset kept first)
/// plus one hostname that changes: a single folder update.
fn overlapping(with_change: bool) -> Plan {
    let hosts: Vec<String> = (0..150)
        .map(|i| format!("t{i:03}.tiktok.example"))
        .collect();
    let shared: Vec<(&str, RuleAction)> = hosts.iter().map(|h| (h.as_str(), block())).collect();
    let mut aggressive = shared.clone();
    aggressive.push(("extra.tiktok.example", block()));
    let mut base = shared.clone();
    if with_change {
        base.push(("new.tiktok.example", block()));
    }
    let profile = DesiredProfile {
        id: "p1".into(),
        settings: Default::default(),
        name: None,
        folders: vec![
            desired(
                "native_tracker_tiktok_aggressive",
                "TikTok Aggressive",
                &aggressive,
            ),
            desired("native_tracker_tiktok", "TikTok", &base),
        ],
    };
    let mut managed = BTreeMap::new();
    managed.insert(
        "native_tracker_tiktok_aggressive".to_string(),
        current(1, "TikTok Aggressive", &aggressive),
    );
    managed.insert(
        "native_tracker_tiktok".to_string(),
        current(2, "TikTok", &[]),
    );
    let current = CurrentProfile {
        profile: "p1".into(),
        remote_folders: vec![remote(1, "TikTok Aggressive", 151), remote(2, "TikTok", 0)],
        managed,
        unmanaged_rules: None,
        scratch: vec![],
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: String::new(),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    };
    plan([(&profile, &current)], &PlanSettings::default()).unwrap()
}

const PAIR_SUMMARY: &str = "overlap: 150 hostnames of `native_tracker_tiktok` are kept by \
                            `native_tracker_tiktok_aggressive`";

#[test]
fn overlaps_are_summarised_per_pair_of_folders() {
    let plan = overlapping(true);
    let text = render(&plan, Format::Text);
    assert!(text.contains(PAIR_SUMMARY), "{text}");
    assert_eq!(text.matches("overlap:").count(), 1, "{text}");

    let markdown = render(&plan, Format::Markdown);
    assert!(markdown.contains(PAIR_SUMMARY), "{markdown}");
    assert!(!markdown.contains("t000.tiktok.example"), "{markdown}");
    assert!(
        markdown.len() < 2_000,
        "{} bytes: {markdown}",
        markdown.len()
    );

    let json = render(&plan, Format::Json);
    assert_eq!(json.matches("\"dropped_from\"").count(), 150);
}

#[test]
fn every_overlapping_hostname_is_listed_only_when_asked() {
    let plan = overlapping(true);
    let text = render_with(&plan, Format::Text, Detail::Hostnames);
    assert!(text.contains(PAIR_SUMMARY), "{text}");
    assert!(
        text.contains(
            "overlap: t149.tiktok.example is kept by `native_tracker_tiktok_aggressive`, \
             dropped from `native_tracker_tiktok`"
        ),
        "{text}"
    );
    assert_eq!(text.matches("overlap:").count(), 151);
}

#[test]
fn a_plan_with_nothing_to_change_prints_no_overlap_lines() {
    let plan = overlapping(false);
    assert!(!plan.has_changes());
    for format in [Format::Text, Format::Markdown] {
        let rendered = render(&plan, format);
        assert!(!rendered.contains("overlap"), "{rendered}");
    }
}

/// A profile with one folder to create and settings of every kind to change, lowering ones
/// included.
fn settings_scenario() -> Plan {
    use ctrld_sync::model::{
        CurrentFilter, CurrentSettings, FilterWant, Named, OptionWant, ProfileSettings,
        ServiceWant, Spot,
    };
    fn named<T>(name: &str, want: T) -> Named<T> {
        Named {
            name: name.into(),
            want,
            spot: Spot::default(),
        }
    }
    let mut redirect = RuleAction::new(ActionKind::Redirect);
    redirect.via = Some("DFW".into());
    let wanted = ProfileSettings {
        default: Some(named("default", allow())),
        filters: vec![
            named("ads", FilterWant::Level("ads_medium".into())),
            named("porn", FilterWant::Off),
            named("x-1hosts-lite", FilterWant::On),
        ],
        services: vec![
            named("tiktok", ServiceWant::Action(block())),
            named("netflix", ServiceWant::Action(redirect)),
            named("zoom", ServiceWant::Off),
        ],
        options: vec![
            named("safesearch", OptionWant::On),
            named("ai_malware", OptionWant::Value("0.7".into())),
            named("ttl_blck", OptionWant::Value("10".into())),
        ],
        ..ProfileSettings::default()
    };
    let levels = |names: &[&str]| -> BTreeMap<String, String> {
        names
            .iter()
            .map(|name| (name.to_string(), "filter".to_string()))
            .collect()
    };
    let mut current = CurrentSettings::default();
    current.filters.insert(
        "ads".into(),
        CurrentFilter {
            levels: levels(&["ads_small", "ads_medium", "ads"]),
            active: vec!["ads_small".into()],
        },
    );
    current.filters.insert(
        "porn".into(),
        CurrentFilter {
            levels: levels(&["porn", "porn_strict"]),
            active: vec!["porn_strict".into()],
        },
    );
    current.services.insert("zoom".into(), allow());
    current.default = Some(block());
    current.options.insert("ttl_blck".into(), "30".into());
    let desired = DesiredProfile {
        id: "p3".into(),
        settings: wanted,
        name: None,
        folders: vec![desired("tlds", "Abused TLDs", &[("zip", block())])],
    };
    let current = CurrentProfile {
        profile: "p3".into(),
        remote_folders: Vec::new(),
        managed: BTreeMap::new(),
        unmanaged_rules: Some(BTreeMap::new()),
        scratch: Vec::new(),
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: String::new(),
        reads: Default::default(),
        settings: current,
        settings_mark: None,
    };
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    plan([(&desired, &current)], &settings).unwrap()
}

#[test]
fn settings_text_plan() {
    insta::assert_snapshot!(render(&settings_scenario(), Format::Text));
}

#[test]
fn settings_json_plan() {
    insta::assert_snapshot!(render(&settings_scenario(), Format::Json));
}

#[test]
fn settings_markdown_plan() {
    insta::assert_snapshot!(render(&settings_scenario(), Format::Markdown));
}
