//! The recorded live shapes of every endpoint (`tests/fixtures/api/`), read through the envelope
//! and the body decoders exactly as the client does, and a property test that mutates them.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::model::{ActionKind, FolderAction, FolderPk, RuleAction};

use super::envelope::{self, Answer};
use super::settings_types::SettingsSignature;
use super::types::{RemoteProfile, RemoteRule};
use super::wire;
use crate::model::RemoteFolder;

const JSON: Option<&str> = Some("application/json");

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/api/",
            $name
        ))
    };
}

const PROFILES: &str = fixture!("profiles.json");
const GROUPS: &str = fixture!("groups.json");
const CREATE_FOLDER: &str = fixture!("create_folder.json");
const RULES_FOLDER: &str = fixture!("rules_folder.json");
const RULES_ROOT: &str = fixture!("rules_root.json");
const RULES_ALL: &str = fixture!("rules_all.json");
const CREATE_RULES: &str = fixture!("create_rules.json");
const DELETE: &str = fixture!("delete.json");

fn success_body(status: u16, text: &str) -> Value {
    match envelope::read(status, JSON, text.as_bytes()) {
        Answer::Success(body) => body,
        other => panic!("expected success, got {other:?}"),
    }
}

fn failure_of(status: u16, text: &str) -> (u32, String) {
    match envelope::read(status, JSON, text.as_bytes()) {
        Answer::Failure { code, message, .. } => (code, message),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn get_profiles_keeps_id_name_updated_the_enabled_rule_count_and_the_settings_signature() {
    let profiles = wire::profiles(&success_body(200, PROFILES)).unwrap();
    assert_eq!(
        profiles,
        [
            RemoteProfile {
                id: "abcd1234efgh".into(),
                name: "Home".into(),
                updated: Some("1780000000".into()),
                enabled_rule_count: Some(41),
                settings: SettingsSignature {
                    flt: Some(3),
                    cflt: Some(0),
                    ipflt: Some(0),
                    svc: Some(2),
                    opt: Some(7),
                    options: Some([("ai_malware".into(), "0.9".into())].into()),
                },
            },
            RemoteProfile {
                id: "ijkl5678mnopq".into(),
                name: "Kids".into(),
                updated: Some("1779999000".into()),
                enabled_rule_count: Some(0),
                settings: SettingsSignature::default(),
            }
        ]
    );
}

type FolderSummary<'a> = (u64, &'a str, Option<ActionKind>, bool, Option<&'a str>, u64);

#[test]
fn get_groups_accepts_dashboard_folders_string_numbers_and_missing_do_or_count() {
    let folders = wire::folders(&success_body(200, GROUPS)).unwrap();
    let summary: Vec<FolderSummary> = folders
        .iter()
        .map(|f: &RemoteFolder| {
            let a = &f.action;
            (
                f.pk.get(),
                f.name.as_str(),
                a.kind,
                a.enabled,
                a.via.as_deref(),
                f.count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                12345,
                "Badware Hoster",
                Some(ActionKind::Block),
                true,
                None,
                1203
            ),
            (12346, "Most Abused TLDs", None, true, None, 412),
            (
                12347,
                "Made in the dashboard",
                Some(ActionKind::Block),
                true,
                None,
                2
            ),
            (
                12348,
                "Spoofed",
                Some(ActionKind::Spoof),
                false,
                Some("1.2.3.4"),
                0
            ),
            (
                12349,
                "Made in the dashboard",
                Some(ActionKind::Allow),
                true,
                None,
                0
            ),
            (12350, "No action at all", None, true, None, 0),
        ]
    );
}

#[test]
fn post_groups_answers_with_the_new_pk() {
    let folders = wire::folders(&success_body(200, CREATE_FOLDER)).unwrap();
    assert_eq!(folders[0].pk, FolderPk::new(12351));
    assert_eq!(folders[0].action, FolderAction::of(ActionKind::Block));
}

#[test]
fn get_folder_rules_accepts_comment_ttl_order_gaps_and_mixed_case() {
    let rules = wire::rules(&success_body(200, RULES_FOLDER), Some(FolderPk::new(12345))).unwrap();
    let hostnames: Vec<&str> = rules.iter().map(|r| &*r.hostname).collect();
    assert_eq!(
        hostnames,
        [
            "ads.example.com",
            "MiXeD.Example.COM",
            "*.tracker.example",
            "spoof.example"
        ]
    );
    assert!(rules
        .iter()
        .all(|rule| rule.folder == Some(FolderPk::new(12345))));
    assert!(!rules[1].action.enabled);
    assert_eq!(rules[2].action, RuleAction::allow());
    assert_eq!(rules[3].action.to_string(), "spoof via=10.0.0.1 via_v6=::1");
}

#[test]
fn get_root_rules_and_rules_all_place_each_rule() {
    let root = wire::rules(&success_body(200, RULES_ROOT), None).unwrap();
    assert!(root.iter().all(|rule: &RemoteRule| rule.folder.is_none()));
    let all = wire::rules(&success_body(200, RULES_ALL), None).unwrap();
    let folders: Vec<Option<u64>> = all
        .iter()
        .map(|rule| rule.folder.map(FolderPk::get))
        .collect();
    assert_eq!(folders, [None, Some(12345), Some(12347)]);
}

#[test]
fn post_and_put_rules_answer_with_a_one_entry_summary() {
    let rules = wire::rules(&success_body(200, CREATE_RULES), None).unwrap();
    assert_eq!(rules.len(), 1);
}

#[test]
fn deletes_answer_an_empty_list_body() {
    let body = success_body(200, DELETE);
    assert!(wire::rules(&body, None).unwrap().is_empty());
    assert!(wire::folders(&body).unwrap().is_empty());
}

#[test]
fn error_answers_carry_date_string_codes_and_multi_line_messages() {
    assert_eq!(
        failure_of(404, fixture!("error_no_such_group.json")),
        (40401, "No such group exists.".into())
    );
    assert_eq!(
        failure_of(400, fixture!("error_rule_exists.json")),
        (40003, "Custom Rule already exists: ads.example.com".into())
    );
    assert_eq!(
        failure_of(400, fixture!("error_folder_missing.json")),
        (40003, "This folder does not exist".into())
    );
}

#[test]
fn an_empty_json_body_with_http_500_is_a_server_error() {
    let answer = envelope::read(500, JSON, b"");
    assert!(matches!(
        answer,
        Answer::ServerError {
            status: 500,
            message: None
        }
    ));
}

// ---- property: mutated valid responses always decode, to the same needed values ----

/// Fields the tool never reads, at any depth; they may hold any JSON value.
const UNUSED: &[&str] = &[
    "order",
    "comment",
    "ttl",
    "date",
    "message",
    "name",
    "updated",
    "stats",
    "disable_ttl",
    "profile",
    "flt",
    "opt",
    "da",
];
/// Fields read only when they are strings: any other type means "none".
const STRING_OR_NOTHING: &[&str] = &["via", "via_v6"];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// What the mutation does at one object: a seed stream drives every choice.
#[derive(Clone, Debug)]
struct Mutation {
    /// Values to put in unused or string-or-nothing fields, and in new fields.
    values: Vec<Value>,
    /// New field names (never one the decoders read).
    extra_names: Vec<String>,
    /// Drives which fields change and the order keys are written in.
    choices: Vec<u8>,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        prop::collection::vec(any_json(), 1..6),
        prop::collection::vec("x_[a-z]{1,8}", 1..4),
        prop::collection::vec(any::<u8>(), 8..32),
    )
        .prop_map(|(values, extra_names, choices)| Mutation {
            values,
            extra_names,
            choices,
        })
}

struct Cursor<'a> {
    mutation: &'a Mutation,
    step: usize,
}

impl Cursor<'_> {
    fn choice(&mut self) -> usize {
        let choices = &self.mutation.choices;
        self.step += 1;
        usize::from(choices[self.step % choices.len()])
    }

    fn flip(&mut self) -> bool {
        self.choice().is_multiple_of(2)
    }

    fn value(&mut self) -> Value {
        let values = &self.mutation.values;
        values[self.choice() % values.len()].clone()
    }

    fn non_string_value(&mut self) -> Value {
        match self.value() {
            Value::String(_) => Value::from(-1),
            other => other,
        }
    }
}

fn mutate(value: &mut Value, cursor: &mut Cursor<'_>) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| mutate(item, cursor)),
        Value::Object(fields) => mutate_object(fields, cursor),
        _ => {}
    }
}

fn mutate_object(fields: &mut Map<String, Value>, cursor: &mut Cursor<'_>) {
    let keys: Vec<String> = fields.keys().cloned().collect();
    for key in keys {
        if UNUSED.contains(&key.as_str()) && cursor.flip() {
            fields.insert(key, cursor.value());
        } else if STRING_OR_NOTHING.contains(&key.as_str()) && cursor.flip() {
            fields.insert(key, cursor.non_string_value());
        } else if let Some(inner) = fields.get_mut(&key) {
            mutate(inner, cursor);
        }
    }
    if cursor.flip() {
        let names = &cursor.mutation.extra_names;
        let name = names[cursor.choice() % names.len()].clone();
        let value = cursor.value();
        fields.insert(name, value);
    }
}

/// Writes JSON with every object's keys in an order the cursor picks.
fn write_shuffled(value: &Value, cursor: &mut Cursor<'_>, out: &mut String) {
    match value {
        Value::Object(fields) => {
            let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, cursor.choice() % (i + 1));
            }
            out.push('{');
            for (n, (key, inner)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_shuffled(inner, cursor, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_shuffled(item, cursor, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn mutated(fixture: &str, mutation: &Mutation) -> Value {
    let mut value: Value = serde_json::from_str(fixture).unwrap();
    let mut cursor = Cursor { mutation, step: 0 };
    mutate(&mut value, &mut cursor);
    let mut text = String::new();
    write_shuffled(&value, &mut cursor, &mut text);
    success_body(200, &text)
}

/// What decoding must keep whatever the mutation: the needed fields.
fn folder_keys(folders: &[RemoteFolder]) -> Vec<(FolderPk, String, Option<ActionKind>, bool, u64)> {
    let key = |f: &RemoteFolder| {
        (
            f.pk,
            f.name.clone(),
            f.action.kind,
            f.action.enabled,
            f.count,
        )
    };
    folders.iter().map(key).collect()
}

fn rule_keys(rules: &[RemoteRule]) -> Vec<(String, ActionKind, bool, Option<FolderPk>)> {
    let key = |r: &RemoteRule| {
        (
            r.hostname.to_string(),
            r.action.kind,
            r.action.enabled,
            r.folder,
        )
    };
    rules.iter().map(key).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mutated_responses_always_decode_to_the_same_needed_values(mutation in mutation()) {
        let profiles = wire::profiles(&mutated(PROFILES, &mutation)).unwrap();
        let ids: Vec<String> = profiles.into_iter().map(|p| p.id).collect();
        prop_assert_eq!(ids, ["abcd1234efgh", "ijkl5678mnopq"]);
        for fixture in [GROUPS, CREATE_FOLDER] {
            let expected = folder_keys(&wire::folders(&success_body(200, fixture)).unwrap());
            let decoded = wire::folders(&mutated(fixture, &mutation)).unwrap();
            prop_assert_eq!(folder_keys(&decoded), expected);
        }
        for fixture in [RULES_FOLDER, RULES_ROOT, RULES_ALL, CREATE_RULES, DELETE] {
            let expected = rule_keys(&wire::rules(&success_body(200, fixture), Some(FolderPk::new(7))).unwrap());
            let decoded = wire::rules(&mutated(fixture, &mutation), Some(FolderPk::new(7))).unwrap();
            prop_assert_eq!(rule_keys(&decoded), expected);
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in any_json()) {
        let _ = wire::profiles(&body);
        let _ = wire::folders(&body);
        let _ = wire::rules(&body, None);
        let _ = envelope::read(200, JSON, body.to_string().as_bytes());
    }
}
