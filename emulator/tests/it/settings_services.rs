//! Service categories and a profile's service rules, over real HTTP.

use crate::common;

use common::{form, start, start_default, Api};
use controld_emulator::EmulatorConfig;
use reqwest::Method;
use serde_json::{json, Value};

async fn put_service(api: &Api, service: &str, pairs: &[(&str, &str)]) -> common::Answer {
    let path = format!("/profiles/p1/services/{service}");
    api.put(&path, form(pairs)).await
}

async fn services(api: &Api) -> Vec<Value> {
    let answer = api.get("/profiles/p1/services").await;
    assert!(answer.is_success(), "{answer:?}");
    answer.json["body"]["services"].as_array().unwrap().clone()
}

async fn action_of(api: &Api, service: &str) -> Value {
    let listed = services(api).await;
    let row = listed.iter().find(|row| row["PK"] == service).unwrap();
    row["action"].clone()
}

#[tokio::test]
async fn categories_answer_without_a_token_twelve_with_counts() {
    let api = start_default().await;
    let response = api
        .request(Method::GET, "/services/categories", None, None, None)
        .await;
    let answer = common::answer(response).await;
    assert!(answer.is_success(), "{answer:?}");
    let categories = answer.json["body"]["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 12);
    for category in categories {
        for key in ["PK", "name", "description"] {
            assert!(category[key].is_string(), "{category}");
        }
        assert!(category["count"].as_u64().unwrap() > 0, "{category}");
    }
    let no_token = api
        .request(Method::GET, "/services/categories/video", None, None, None)
        .await;
    common::answer(no_token).await.assert_error(40001);
}

#[tokio::test]
async fn a_category_lists_its_services_and_a_bad_one_is_404() {
    let api = start_default().await;
    let answer = api.get("/services/categories/video").await;
    let listed = answer.json["body"]["services"].as_array().unwrap().clone();
    let names: Vec<&str> = listed.iter().map(|s| s["PK"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"netflix") && names.contains(&"youtube"),
        "{names:?}"
    );
    for service in &listed {
        assert_eq!(service["category"], "video");
        assert!(service["name"].is_string() && service["unlock_location"].is_string());
    }
    let netflix = listed.iter().find(|s| s["PK"] == "netflix").unwrap();
    assert!(netflix["locations"].is_array(), "{netflix}");
    let categories = api.get("/services/categories").await;
    let video = categories.json["body"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["PK"] == "video")
        .unwrap()
        .clone();
    assert_eq!(video["count"], listed.len());
    api.get("/services/categories/nope")
        .await
        .assert_error(40401);
}

#[tokio::test]
async fn only_services_with_a_rule_are_listed_disabled_ones_included() {
    let api = start_default().await;
    assert!(services(&api).await.is_empty());
    let answer = put_service(&api, "tiktok", &[("do", "0"), ("status", "1")]).await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(
        answer.json["body"]["services"][0],
        json!({"do": 0, "status": 1}),
        "the answer echoes the action"
    );
    put_service(&api, "zoom", &[("do", "1"), ("status", "0")]).await;
    let listed = services(&api).await;
    let pks: Vec<&str> = listed.iter().map(|s| s["PK"].as_str().unwrap()).collect();
    assert_eq!(pks, ["tiktok", "zoom"]);
    assert_eq!(listed[1]["action"], json!({"do": 1, "status": 0}));
    assert_eq!(
        api.profile_row("p1").await["profile"]["svc"]["count"],
        1,
        "the svc count covers enabled ones only"
    );
}

#[tokio::test]
async fn a_service_rule_cannot_be_deleted_status_0_keeps_it_listed() {
    let api = start_default().await;
    put_service(&api, "youtube", &[("do", "0"), ("status", "1")]).await;
    put_service(&api, "youtube", &[("status", "0")]).await;
    assert_eq!(
        action_of(&api, "youtube").await,
        json!({"do": 0, "status": 0})
    );
    let deleted = api.delete("/profiles/p1/services/youtube").await;
    deleted.assert_error(40001);
    assert_eq!(services(&api).await.len(), 1);
}

#[tokio::test]
async fn an_omitted_via_v6_is_kept_and_leaving_spoof_clears_via_and_via_v6() {
    let api = start(EmulatorConfig {
        allow_redirect: true,
        ..EmulatorConfig::default()
    })
    .await;
    let spoof = [
        ("do", "2"),
        ("status", "1"),
        ("via", "1.2.3.4"),
        ("via_v6", "::1"),
    ];
    put_service(&api, "zoom", &spoof).await;
    put_service(&api, "zoom", &[("do", "2"), ("via", "5.6.7.8")]).await;
    assert_eq!(
        action_of(&api, "zoom").await,
        json!({"do": 2, "status": 1, "via": "5.6.7.8", "via_v6": "::1"})
    );
    put_service(&api, "zoom", &[("do", "3")])
        .await
        .assert_error(40002);
    let answer = put_service(&api, "zoom", &[("do", "1")]).await;
    assert_eq!(
        answer.json["body"]["services"][0],
        json!({"do": 1, "status": 1})
    );
    assert_eq!(action_of(&api, "zoom").await, json!({"do": 1, "status": 1}));
}

#[tokio::test]
async fn bad_services_missing_fields_and_redirect_on_a_free_plan_are_refused() {
    let api = start_default().await;
    let bad = put_service(&api, "myspace", &[("do", "0"), ("status", "1")]).await;
    bad.assert_error(40003);
    assert_eq!(bad.json["error"]["message"], "Invalid service was provided");
    put_service(&api, "netflix", &[("status", "1")])
        .await
        .assert_error(40002);
    put_service(&api, "netflix", &[("do", "2"), ("status", "1")])
        .await
        .assert_error(40002);
    put_service(&api, "netflix", &[("do", "3"), ("via", "DFW")])
        .await
        .assert_error(40201);
    assert!(services(&api).await.is_empty(), "nothing stored");
    let paid = start(EmulatorConfig {
        allow_redirect: true,
        ..EmulatorConfig::default()
    })
    .await;
    let redirected = put_service(&paid, "netflix", &[("do", "3"), ("via", "DFW")]).await;
    assert_eq!(
        redirected.json["body"]["services"][0],
        json!({"do": 3, "status": 1, "via": "DFW"})
    );
}
