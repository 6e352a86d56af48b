//! One knob per plausible answer to each *unknown* line of the API facts; each value tested.

use crate::common;

use common::{form, names, rules_form, start, start_default, Api};
use controld_emulator::{
    Behaviour, EmulatorConfig, FolderCount, GoneFolderDelete, PartialPut, SameFolderPut,
};
use serde_json::json;

async fn with(behaviour: Behaviour) -> Api {
    start(EmulatorConfig {
        behaviour,
        ..EmulatorConfig::default()
    })
    .await
}

async fn gone_folder_delete(knob: GoneFolderDelete) -> common::Answer {
    let api = with(Behaviour {
        gone_folder_delete: knob,
        ..Behaviour::default()
    })
    .await;
    let pk = api.create_folder("F").await;
    api.delete(&format!("/profiles/p1/groups/{pk}")).await;
    api.delete(&format!("/profiles/p1/groups/{pk}")).await
}

#[tokio::test]
async fn delete_of_a_folder_already_gone_answers_as_the_knob_says() {
    gone_folder_delete(GoneFolderDelete::NotFound)
        .await
        .assert_error(40401);
    assert!(gone_folder_delete(GoneFolderDelete::Success)
        .await
        .is_success());
    let rejected = gone_folder_delete(GoneFolderDelete::Rejected).await;
    rejected.assert_error(40003);
    assert_eq!(
        rejected.json["error"]["message"],
        "This folder does not exist"
    );
}

/// Puts two rules in a folder, then PUTs them with `group` = that folder; returns the answer
/// and the orders before and after.
async fn same_folder_put(knob: SameFolderPut) -> (common::Answer, Vec<u64>, Vec<u64>) {
    let api = with(Behaviour {
        same_folder_put: knob,
        ..Behaviour::default()
    })
    .await;
    let pk = api.create_folder("F").await.to_string();
    let hosts = names("a", 2);
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk)], &hosts),
    )
    .await;
    let before = orders(&api, &pk).await;
    let answer = api
        .put(
            "/profiles/p1/rules",
            rules_form(1, &[("group", &pk)], &hosts),
        )
        .await;
    let after = orders(&api, &pk).await;
    (answer, before, after)
}

async fn orders(api: &Api, pk: &str) -> Vec<u64> {
    let answer = api.get(&format!("/profiles/p1/rules/{pk}")).await;
    let rules = answer.json["body"]["rules"].as_array().unwrap().clone();
    rules.iter().map(|r| r["order"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn put_with_group_equal_to_the_current_folder_as_the_knob_says() {
    let (answer, before, after) = same_folder_put(SameFolderPut::Accepted).await;
    assert!(answer.is_success());
    assert_eq!(before, after);
    let (answer, before, after) = same_folder_put(SameFolderPut::Reorders).await;
    assert!(answer.is_success());
    assert_ne!(before, after);
    let (answer, before, after) = same_folder_put(SameFolderPut::Refused).await;
    answer.assert_error(40003);
    assert_eq!(before, after);
}

async fn partial_put(knob: PartialPut) -> (common::Answer, serde_json::Value) {
    let api = with(Behaviour {
        partial_put: knob,
        ..Behaviour::default()
    })
    .await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("a", 1)))
        .await;
    let mut hosts = names("a", 1);
    hosts.push("unknown.example".into());
    let answer = api
        .put("/profiles/p1/rules", rules_form(1, &[], &hosts))
        .await;
    let rules = api.get("/profiles/p1/rules").await;
    (
        answer,
        rules.json["body"]["rules"][0]["action"]["do"].clone(),
    )
}

#[tokio::test]
async fn put_naming_one_unknown_hostname_changes_the_others_as_the_knob_says() {
    let (answer, kind) = partial_put(PartialPut::AllOrNothing).await;
    answer.assert_error(40003);
    assert_eq!(kind, 0);
    let (answer, kind) = partial_put(PartialPut::OthersChanged).await;
    answer.assert_error(40003);
    assert_eq!(kind, 1);
}

async fn folder_count(knob: FolderCount) -> serde_json::Value {
    let api = with(Behaviour {
        folder_count: knob,
        ..Behaviour::default()
    })
    .await;
    let pk = api.create_folder("F").await.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk)], &names("on", 2)),
    )
    .await;
    let disabled = form(&[
        ("do", "0"),
        ("status", "0"),
        ("group", &pk),
        ("hostnames[]", "off.example"),
    ]);
    api.post("/profiles/p1/rules", disabled).await;
    let answer = api.get("/profiles/p1/groups").await;
    answer.json["body"]["groups"][0]["count"].clone()
}

#[tokio::test]
async fn folder_count_includes_disabled_rules_as_the_knob_says() {
    assert_eq!(folder_count(FolderCount::All).await, 3);
    assert_eq!(folder_count(FolderCount::EnabledOnly).await, 2);
}

async fn updated_moves_on_rule_change(knob: bool) -> bool {
    let api = with(Behaviour {
        updated_on_rule_change: knob,
        ..Behaviour::default()
    })
    .await;
    let before = updated(&api).await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("a", 1)))
        .await;
    updated(&api).await != before
}

async fn updated(api: &Api) -> u64 {
    let answer = api.get("/profiles").await;
    answer.json["body"]["profiles"][0]["updated"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn profile_updated_moves_on_a_rule_change_as_the_knob_says() {
    assert!(updated_moves_on_rule_change(true).await);
    assert!(!updated_moves_on_rule_change(false).await);
}

async fn stored_from_json(knob: bool) -> usize {
    let api = with(Behaviour {
        json_truncated: knob,
        ..Behaviour::default()
    })
    .await;
    let body = json!({"do": 0, "status": 1, "hostnames": names("h", 1200)});
    api.post_json("/profiles/p1/rules", body).await;
    api.stored_count()
}

#[tokio::test]
async fn json_bodies_escape_the_1001_variable_cut_as_the_knob_says() {
    assert_eq!(stored_from_json(false).await, 1200);
    assert!(stored_from_json(true).await < 1001);
}

#[tokio::test]
async fn forms_with_more_variables_than_the_knob_are_refused_storing_nothing() {
    let api = with(Behaviour {
        refuse_form_variables_over: Some(600),
        ..Behaviour::default()
    })
    .await;
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("h", 599)))
        .await;
    answer.assert_error(40003);
    assert_eq!(api.stored_count(), 0);
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("h", 598)))
        .await;
    assert!(answer.is_success());
}

#[tokio::test]
async fn the_default_behaviour_is_the_first_of_the_matrix() {
    let matrix = Behaviour::matrix();
    assert_eq!(matrix[0], ("default", Behaviour::default()));
    let _ = start_default().await;
}
