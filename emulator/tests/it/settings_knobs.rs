//! One knob per plausible answer to each *unknown* line about profile settings; each value tested.

use crate::common;

use common::{default_rule, form, start, Api};
use controld_emulator::{
    Behaviour, DefaultDisable, DefaultOmitted, EmulatorConfig, OptionValues, RepeatWrite,
    ServiceOmitted, SettingsWrite, UpdatedMoves,
};
use serde_json::{json, Value};

async fn with(behaviour: Behaviour) -> Api {
    start(EmulatorConfig {
        behaviour,
        ..EmulatorConfig::default()
    })
    .await
}

/// One kind of settings write: its name, a write that changes something the first time, and
/// where its knob lives.
struct Kind {
    name: &'static str,
    path: &'static str,
    pairs: &'static [(&'static str, &'static str)],
    knob: fn(&mut Behaviour) -> &mut SettingsWrite,
}

const KINDS: [Kind; 4] = [
    Kind {
        name: "filter",
        path: "/profiles/p1/filters/filter/ads_small",
        pairs: &[("status", "1")],
        knob: |b| &mut b.filter_writes,
    },
    Kind {
        name: "service",
        path: "/profiles/p1/services/tiktok",
        pairs: &[("do", "0"), ("status", "1")],
        knob: |b| &mut b.service_writes,
    },
    Kind {
        name: "default",
        path: "/profiles/p1/default",
        pairs: &[("do", "0"), ("status", "1")],
        knob: |b| &mut b.default_writes,
    },
    Kind {
        name: "option",
        path: "/profiles/p1/options/safesearch",
        pairs: &[("status", "1")],
        knob: |b| &mut b.option_writes,
    },
];

async fn api_for(kind: &Kind, knob: SettingsWrite) -> Api {
    let mut behaviour = Behaviour::default();
    *(kind.knob)(&mut behaviour) = knob;
    with(behaviour).await
}

async fn write(api: &Api, kind: &Kind) -> common::Answer {
    api.put(kind.path, form(kind.pairs)).await
}

async fn updated(api: &Api) -> u64 {
    api.profile_row("p1").await["updated"].as_u64().unwrap()
}

#[tokio::test]
async fn a_repeated_no_change_write_answers_as_the_knob_says_for_every_kind() {
    for kind in &KINDS {
        for repeat in [
            RepeatWrite::SameBody,
            RepeatWrite::EmptyBody,
            RepeatWrite::Rejected,
        ] {
            let knob = SettingsWrite {
                repeat,
                ..SettingsWrite::default()
            };
            let api = api_for(kind, knob).await;
            let first = write(&api, kind).await;
            assert!(first.is_success(), "{}: {first:?}", kind.name);
            assert_ne!(first.json["body"], json!([]), "{}", kind.name);
            let again = write(&api, kind).await;
            let label = format!("{} {repeat:?}", kind.name);
            match repeat {
                RepeatWrite::SameBody => {
                    assert!(again.is_success(), "{label}");
                    assert_eq!(again.json["body"], first.json["body"], "{label}");
                }
                RepeatWrite::EmptyBody => {
                    assert!(again.is_success(), "{label}");
                    assert_eq!(again.json["body"], json!([]), "{label}");
                }
                RepeatWrite::Rejected => again.assert_error(40003),
            }
        }
    }
}

#[tokio::test]
async fn the_batch_filter_write_follows_the_filter_knob() {
    let kind = &KINDS[0];
    let knob = SettingsWrite {
        repeat: RepeatWrite::Rejected,
        ..SettingsWrite::default()
    };
    let api = api_for(kind, knob).await;
    let body = json!({"filters": [{"filter": "ads_small", "status": 1}]});
    assert!(api
        .put_json("/profiles/p1/filters", body.clone())
        .await
        .is_success());
    api.put_json("/profiles/p1/filters", body)
        .await
        .assert_error(40003);
}

#[tokio::test]
async fn settings_writes_move_updated_as_the_knob_says_for_every_kind() {
    for kind in &KINDS {
        for moves in [
            UpdatedMoves::EveryWrite,
            UpdatedMoves::OnChange,
            UpdatedMoves::Never,
        ] {
            let knob = SettingsWrite {
                updated: moves,
                ..SettingsWrite::default()
            };
            let api = api_for(kind, knob).await;
            let before = updated(&api).await;
            write(&api, kind).await;
            let changed = updated(&api).await;
            write(&api, kind).await;
            let repeated = updated(&api).await;
            let label = format!("{} {moves:?}", kind.name);
            let (on_change, on_repeat) = match moves {
                UpdatedMoves::EveryWrite => (true, true),
                UpdatedMoves::OnChange => (true, false),
                UpdatedMoves::Never => (false, false),
            };
            assert_eq!(changed > before, on_change, "{label}: a change");
            assert_eq!(repeated > changed, on_repeat, "{label}: a repeat");
        }
    }
}

#[tokio::test]
async fn a_rejected_repeat_does_not_move_updated() {
    let kind = &KINDS[3];
    let knob = SettingsWrite {
        repeat: RepeatWrite::Rejected,
        updated: UpdatedMoves::EveryWrite,
    };
    let api = api_for(kind, knob).await;
    write(&api, kind).await;
    let changed = updated(&api).await;
    write(&api, kind).await.assert_error(40003);
    assert_eq!(updated(&api).await, changed);
}

/// Sets a disabled block default, then PUTs a spoof without `status`; returns that answer and
/// the default rule after it.
async fn default_omitting_status(knob: DefaultOmitted) -> (common::Answer, Value) {
    let api = with(Behaviour {
        default_omitted: knob,
        ..Behaviour::default()
    })
    .await;
    let disabled = api
        .put(
            "/profiles/p1/default",
            form(&[("do", "0"), ("status", "0")]),
        )
        .await;
    assert!(disabled.is_success(), "{disabled:?}");
    let answer = api
        .put(
            "/profiles/p1/default",
            form(&[("do", "2"), ("via", "10.0.0.1")]),
        )
        .await;
    (answer, default_rule(&api).await)
}

#[tokio::test]
async fn default_rule_omitted_fields_as_the_knob_says() {
    let (kept, after) = default_omitting_status(DefaultOmitted::Kept).await;
    assert!(kept.is_success(), "{kept:?}");
    assert_eq!(after, json!({"do": 2, "status": 0, "via": "10.0.0.1"}));
    let (replaced, after) = default_omitting_status(DefaultOmitted::Replaced).await;
    assert!(replaced.is_success(), "{replaced:?}");
    assert_eq!(after, json!({"do": 2, "status": 1, "via": "10.0.0.1"}));
    let (required, after) = default_omitting_status(DefaultOmitted::Required).await;
    required.assert_error(40002);
    assert_eq!(after, json!({"do": 0, "status": 0}));
}

#[tokio::test]
async fn kept_default_fields_keep_via_and_do_while_replaced_ones_need_do() {
    let kept = with(Behaviour::default()).await;
    let spoof = form(&[("do", "2"), ("status", "1"), ("via", "10.0.0.1")]);
    kept.put("/profiles/p1/default", spoof.clone()).await;
    kept.put("/profiles/p1/default", form(&[("status", "0")]))
        .await;
    assert_eq!(
        default_rule(&kept).await,
        json!({"do": 2, "status": 0, "via": "10.0.0.1"})
    );
    let replaced = with(Behaviour {
        default_omitted: DefaultOmitted::Replaced,
        ..Behaviour::default()
    })
    .await;
    replaced.put("/profiles/p1/default", spoof).await;
    replaced
        .put("/profiles/p1/default", form(&[("status", "0")]))
        .await
        .assert_error(40002);
}

#[tokio::test]
async fn default_rule_status_0_as_the_knob_says() {
    for (knob, accepted) in [
        (DefaultDisable::Accepted, true),
        (DefaultDisable::Rejected, false),
    ] {
        let api = with(Behaviour {
            default_disable: knob,
            ..Behaviour::default()
        })
        .await;
        let answer = api
            .put(
                "/profiles/p1/default",
                form(&[("do", "0"), ("status", "0")]),
            )
            .await;
        match accepted {
            true => assert_eq!(default_rule(&api).await, json!({"do": 0, "status": 0})),
            false => {
                answer.assert_error(40003);
                assert_eq!(default_rule(&api).await, json!({"do": 1, "status": 1}));
            }
        }
    }
}

/// A disabled block rule on zoom, then a PUT of `do=1` alone; returns its answer and the action.
async fn service_omitting_status(knob: ServiceOmitted) -> (common::Answer, Value) {
    let api = with(Behaviour {
        service_omitted: knob,
        ..Behaviour::default()
    })
    .await;
    let created = api
        .put(
            "/profiles/p1/services/zoom",
            form(&[("do", "0"), ("status", "0")]),
        )
        .await;
    assert!(created.is_success(), "{created:?}");
    let answer = api
        .put("/profiles/p1/services/zoom", form(&[("do", "1")]))
        .await;
    let listed = api.get("/profiles/p1/services").await;
    (answer, listed.json["body"]["services"][0]["action"].clone())
}

#[tokio::test]
async fn service_omitted_fields_as_the_knob_says() {
    let (kept, action) = service_omitting_status(ServiceOmitted::Kept).await;
    assert!(kept.is_success(), "{kept:?}");
    assert_eq!(action, json!({"do": 1, "status": 0}));
    let (reset, action) = service_omitting_status(ServiceOmitted::StatusReset).await;
    assert!(reset.is_success(), "{reset:?}");
    assert_eq!(action, json!({"do": 1, "status": 1}));
    let (required, action) = service_omitting_status(ServiceOmitted::Required).await;
    required.assert_error(40002);
    assert_eq!(action, json!({"do": 0, "status": 0}));
}

/// The answers to a TTL out of range and an unknown `ai_malware` value.
async fn out_of_range(knob: OptionValues) -> (common::Answer, common::Answer) {
    let api = with(Behaviour {
        option_values: knob,
        ..Behaviour::default()
    })
    .await;
    let ttl = form(&[("status", "1"), ("value", "99999")]);
    let ai = form(&[("status", "1"), ("value", "0.8")]);
    (
        api.put("/profiles/p1/options/ttl_blck", ttl).await,
        api.put("/profiles/p1/options/ai_malware", ai).await,
    )
}

#[tokio::test]
async fn option_values_out_of_range_as_the_knob_says() {
    let (ttl, ai) = out_of_range(OptionValues::Rejected).await;
    ttl.assert_error(40003);
    ai.assert_error(40003);
    let (ttl, ai) = out_of_range(OptionValues::Stored).await;
    assert_eq!(ttl.json["body"]["options"][0]["value"], "99999");
    assert_eq!(ai.json["body"]["options"][0]["value"], "0.8");
    let (ttl, ai) = out_of_range(OptionValues::Clamped).await;
    assert_eq!(ttl.json["body"]["options"][0]["value"], "3600");
    ai.assert_error(40003);
}

#[test]
fn the_settings_matrix_starts_with_the_default_and_turns_one_knob_per_entry() {
    let matrix = Behaviour::settings_matrix();
    assert_eq!(matrix[0], ("default".to_string(), Behaviour::default()));
    let names: std::collections::BTreeSet<&String> = matrix.iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), matrix.len(), "names are unique");
    for (name, behaviour) in &matrix[1..] {
        assert_ne!(*behaviour, Behaviour::default(), "{name}");
        let folders_and_rules = |b: &Behaviour| {
            (
                b.gone_folder_delete,
                b.same_folder_put,
                b.partial_put,
                b.folder_count,
                b.updated_on_rule_change,
                b.json_truncated,
                b.refuse_form_variables_over,
            )
        };
        assert_eq!(
            folders_and_rules(behaviour),
            folders_and_rules(&Behaviour::default()),
            "{name}: folder and rule knobs untouched"
        );
    }
    assert_eq!(matrix.len(), 1 + 4 * 4 + 7);
}
