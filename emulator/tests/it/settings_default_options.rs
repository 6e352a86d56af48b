//! The default rule and profile options, over real HTTP.

use crate::common;

use common::{default_rule, form, start, start_default, Api};
use controld_emulator::EmulatorConfig;
use serde_json::{json, Value};

async fn set_option(api: &Api, name: &str, pairs: &[(&str, &str)]) -> common::Answer {
    api.put(&format!("/profiles/p1/options/{name}"), form(pairs))
        .await
}

async fn options(api: &Api) -> Value {
    let answer = api.get("/profiles/p1/options").await;
    assert!(answer.is_success(), "{answer:?}");
    answer.json["body"]["options"].clone()
}

#[tokio::test]
async fn a_new_profiles_default_rule_is_bypass_and_a_put_echoes_it() {
    let api = start_default().await;
    assert_eq!(default_rule(&api).await, json!({"do": 1, "status": 1}));
    let answer = api
        .put(
            "/profiles/p1/default",
            form(&[("do", "0"), ("status", "1")]),
        )
        .await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(
        answer.json["body"]["default"],
        json!({"do": 0, "status": 1})
    );
    assert_eq!(default_rule(&api).await, json!({"do": 0, "status": 1}));
    let spoof = form(&[("do", "2"), ("status", "1"), ("via", "10.0.0.1")]);
    api.put("/profiles/p1/default", spoof).await;
    assert_eq!(
        default_rule(&api).await,
        json!({"do": 2, "status": 1, "via": "10.0.0.1"})
    );
}

#[tokio::test]
async fn a_redirect_default_takes_a_proxy_code_on_a_paid_plan_only() {
    let free = start_default().await;
    let redirect = form(&[("do", "3"), ("status", "1"), ("via", "LOCAL")]);
    free.put("/profiles/p1/default", redirect.clone())
        .await
        .assert_error(40201);
    let paid = start(EmulatorConfig {
        allow_redirect: true,
        ..EmulatorConfig::default()
    })
    .await;
    paid.put(
        "/profiles/p1/default",
        form(&[("do", "3"), ("status", "1")]),
    )
    .await
    .assert_error(40002);
    let answer = paid.put("/profiles/p1/default", redirect).await;
    assert_eq!(
        answer.json["body"]["default"],
        json!({"do": 3, "status": 1, "via": "LOCAL"})
    );
}

#[tokio::test]
async fn the_option_catalogue_has_13_options_of_three_types_and_observed_default_shapes() {
    let api = start_default().await;
    let answer = api.get("/profiles/options").await;
    let catalogue = answer.json["body"]["options"].as_array().unwrap().clone();
    let pks: Vec<&str> = catalogue
        .iter()
        .map(|o| o["PK"].as_str().unwrap())
        .collect();
    assert_eq!(
        pks,
        [
            "ai_malware",
            "safesearch",
            "safeyoutube",
            "block_rfc1918",
            "no_dnssec",
            "ttl_blck",
            "ttl_spff",
            "ttl_pass",
            "b_resp",
            "ecs_subnet",
            "spoof_ipv6",
            "dns64",
            "cflat"
        ]
    );
    let by_pk = |pk: &str| catalogue.iter().find(|o| o["PK"] == pk).unwrap().clone();
    for option in &catalogue {
        for key in ["title", "description", "info_url"] {
            assert!(option[key].is_string(), "{option}");
        }
    }
    assert_eq!(by_pk("safesearch")["type"], "toggle");
    assert!(by_pk("safesearch")["default_value"].is_number());
    assert_eq!(by_pk("ai_malware")["type"], "dropdown");
    let levels = by_pk("ai_malware")["default_value"].clone();
    assert!(levels["0.9"].is_string() && levels["0.7"].is_string() && levels["0.5"].is_string());
    assert_eq!(by_pk("ttl_blck")["type"], "field");
    assert!(by_pk("ttl_blck")["default_value"].is_number());
    assert!(by_pk("dns64")["default_value"].is_array());
}

#[tokio::test]
async fn options_are_sparse_toggles_send_only_status_and_a_disable_answers_value_0() {
    let api = start_default().await;
    assert_eq!(options(&api).await, json!([]));
    let answer = set_option(&api, "safesearch", &[("status", "1")]).await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(
        answer.json["body"]["options"],
        json!([{"PK": "safesearch", "value": 1}])
    );
    let ai = set_option(&api, "ai_malware", &[("status", "1"), ("value", "0.9")]).await;
    assert_eq!(
        ai.json["body"]["options"],
        json!([{"PK": "ai_malware", "value": "0.9"}])
    );
    set_option(&api, "ttl_blck", &[("status", "1"), ("value", "10")]).await;
    assert_eq!(
        options(&api).await,
        json!([
            {"PK": "ai_malware", "value": "0.9"},
            {"PK": "safesearch", "value": 1},
            {"PK": "ttl_blck", "value": "10"},
        ])
    );
    let row = api.profile_row("p1").await;
    assert_eq!(row["profile"]["opt"]["count"], 3);
    assert_eq!(row["profile"]["opt"]["data"], options(&api).await);
    let off = set_option(&api, "safesearch", &[("status", "0")]).await;
    assert_eq!(
        off.json["body"]["options"],
        json!([{"PK": "safesearch", "value": 0}])
    );
    assert_eq!(options(&api).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn option_writes_need_status_a_value_for_non_toggles_and_a_known_name() {
    let api = start_default().await;
    set_option(&api, "safesearch", &[("value", "1")])
        .await
        .assert_error(40002);
    set_option(&api, "ttl_blck", &[("status", "1")])
        .await
        .assert_error(40002);
    set_option(&api, "turbo", &[("status", "1")])
        .await
        .assert_error(40003);
    set_option(&api, "ai_malware", &[("status", "1"), ("value", "0.8")])
        .await
        .assert_error(40003);
    assert_eq!(options(&api).await, json!([]));
}

#[tokio::test]
async fn every_profile_row_carries_option_data_an_empty_list_when_none_is_set() {
    let api = start_default().await;
    let row = api.profile_row("p1").await;
    assert_eq!(row["profile"]["opt"], json!({"count": 0, "data": []}));
}
