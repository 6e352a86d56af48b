//! Native and external filters, over real HTTP, as the API facts record them.

use crate::common;

use common::{form, start_default, Api};
use serde_json::{json, Value};

async fn native_rows(api: &Api) -> Vec<Value> {
    let answer = api.get("/profiles/p1/filters").await;
    assert!(answer.is_success(), "{answer:?}");
    answer.json["body"]["filters"].as_array().unwrap().clone()
}

async fn row(api: &Api, family: &str) -> Value {
    let rows = native_rows(api).await;
    rows.into_iter().find(|row| row["PK"] == family).unwrap()
}

/// `(level name, status)` of a family's levels, in listing order.
async fn levels(api: &Api, family: &str) -> Vec<(String, u64)> {
    let row = row(api, family).await;
    let levels = row["levels"].as_array().unwrap();
    levels
        .iter()
        .map(|level| {
            let name = level["name"].as_str().unwrap().to_string();
            (name, level["status"].as_u64().unwrap())
        })
        .collect()
}

async fn set(api: &Api, name: &str, status: &str) -> common::Answer {
    let path = format!("/profiles/p1/filters/filter/{name}");
    api.put(&path, form(&[("status", status)])).await
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(n, s)| (n.to_string(), *s)).collect()
}

#[tokio::test]
async fn the_filter_listing_has_one_row_per_family_with_levels_and_no_action_when_off() {
    let api = start_default().await;
    let rows = native_rows(&api).await;
    assert!(rows.len() >= 10, "{}", rows.len());
    for row in &rows {
        assert!(row["PK"].is_string() && row["name"].is_string(), "{row}");
        assert!(row["description"].is_string(), "{row}");
        assert_eq!(row["status"], 0, "{row}");
        assert!(
            row.get("action").is_none(),
            "off rows carry no action: {row}"
        );
    }
    assert_eq!(
        levels(&api, "ads").await,
        pairs(&[("ads_small", 0), ("ads_medium", 0), ("ads", 0)])
    );
    assert_eq!(
        levels(&api, "porn").await,
        pairs(&[("porn", 0), ("porn_strict", 0)])
    );
    assert_eq!(
        levels(&api, "nrd").await,
        pairs(&[("nrd_small", 0), ("nrd", 0)])
    );
    let ads = row(&api, "ads").await;
    let level = &ads["levels"][0];
    assert_eq!(level["type"], "filter");
    assert!(level["title"].is_string());
    let malware = row(&api, "malware").await;
    let kinds: Vec<&str> = malware["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|level| level["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ipfilter", "filter", "option"]);
    assert!(row(&api, "gambling").await.get("levels").is_none());
}

#[tokio::test]
async fn enabling_a_level_answers_the_enabled_map_and_another_level_swaps_it() {
    let api = start_default().await;
    let answer = set(&api, "ads_small", "1").await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(
        answer.json["body"]["filters"],
        json!({"ads": {"do": 0, "status": 1, "lvl": "ads_small"}})
    );
    let ads = row(&api, "ads").await;
    assert_eq!(ads["status"], 1);
    assert_eq!(
        ads["action"],
        json!({"do": 0, "status": 1, "lvl": "ads_small"})
    );
    let answer = set(&api, "ads_medium", "1").await;
    assert_eq!(
        answer.json["body"]["filters"]["ads"]["lvl"], "ads_medium",
        "one write swaps the level"
    );
    assert_eq!(
        levels(&api, "ads").await,
        pairs(&[("ads_small", 0), ("ads_medium", 1), ("ads", 0)])
    );
}

#[tokio::test]
async fn the_answer_is_an_empty_list_when_nothing_is_left_enabled() {
    let api = start_default().await;
    set(&api, "porn_strict", "1").await;
    let answer = set(&api, "porn_strict", "0").await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(answer.json["body"]["filters"], json!([]));
    assert_eq!(row(&api, "porn").await["status"], 0);
}

#[tokio::test]
async fn a_family_name_turns_its_own_level_on_and_every_level_off() {
    let api = start_default().await;
    let answer = set(&api, "nrd", "1").await;
    assert_eq!(answer.json["body"]["filters"]["nrd"]["lvl"], "nrd");
    set(&api, "ads_medium", "1").await;
    set(&api, "ads", "1").await;
    assert_eq!(
        levels(&api, "ads").await,
        pairs(&[("ads_small", 0), ("ads_medium", 0), ("ads", 1)]),
        "the family's own level replaces the one that was on"
    );
    set(&api, "ads_small", "1").await;
    set(&api, "ads", "0").await;
    assert_eq!(row(&api, "ads").await["status"], 0, "every level off");
    let gambling = set(&api, "gambling", "1").await;
    assert_eq!(
        gambling.json["body"]["filters"]["gambling"],
        json!({"do": 0, "status": 1}),
        "a family without levels has no lvl"
    );
}

#[tokio::test]
async fn the_dashboards_json_with_lvl_picks_the_level_of_the_named_family() {
    let api = start_default().await;
    let body = json!({"status": 1, "do": 0, "lvl": "ads_medium"});
    let answer = api.put_json("/profiles/p1/filters/filter/ads", body).await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(answer.json["body"]["filters"]["ads"]["lvl"], "ads_medium");
    let foreign = json!({"status": 1, "lvl": "porn_strict"});
    let refused = api
        .put_json("/profiles/p1/filters/filter/ads", foreign)
        .await;
    refused.assert_error(40003);
}

#[tokio::test]
async fn malware_levels_of_different_types_add_up_and_its_option_level_is_the_option() {
    let api = start_default().await;
    set(&api, "malware", "1").await;
    let answer = set(&api, "ip_malware", "1").await;
    assert_eq!(
        answer.json["body"]["filters"]["malware"],
        json!({"do": 0, "status": 1, "lvl": "malware"})
    );
    assert_eq!(
        levels(&api, "malware").await,
        pairs(&[("ip_malware", 1), ("malware", 1), ("ai_malware", 0)])
    );
    set(&api, "ai_malware", "1").await;
    let options = api.get("/profiles/p1/options").await;
    assert_eq!(
        options.json["body"]["options"],
        json!([{"PK": "ai_malware", "value": "0.7"}])
    );
    let counts = &api.profile_row("p1").await["profile"];
    assert_eq!(
        (
            &counts["flt"]["count"],
            &counts["ipflt"]["count"],
            &counts["opt"]["count"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
}

#[tokio::test]
async fn external_filters_have_x_pks_no_levels_and_resolvers() {
    let api = start_default().await;
    let answer = api.get("/profiles/p1/filters/external").await;
    let rows = answer.json["body"]["filters"].as_array().unwrap().clone();
    assert!(rows.len() >= 3);
    for row in &rows {
        assert!(row["PK"].as_str().unwrap().starts_with("x-"), "{row}");
        assert!(row.get("levels").is_none(), "{row}");
        assert!(row["resolvers"].is_object(), "{row}");
    }
    let pk = rows[0]["PK"].as_str().unwrap().to_string();
    let enabled = set(&api, &pk, "1").await;
    assert_eq!(
        enabled.json["body"]["filters"][&pk],
        json!({"do": 0, "status": 1})
    );
    let listed = api.get("/profiles/p1/filters/external").await;
    assert_eq!(listed.json["body"]["filters"][0]["status"], 1);
    let row = api.profile_row("p1").await;
    assert_eq!(row["profile"]["cflt"]["count"], 1);
    assert_eq!(row["profile"]["flt"]["count"], 0);
}

#[tokio::test]
async fn the_batch_write_takes_json_and_answers_the_same_map() {
    let api = start_default().await;
    let body = json!({"filters": [
        {"filter": "porn_strict", "status": 1},
        {"filter": "ads_small", "status": 1},
        {"filter": "x-oisd-big", "status": 1},
    ]});
    let answer = api.put_json("/profiles/p1/filters", body).await;
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(
        answer.json["body"]["filters"],
        json!({
            "ads": {"do": 0, "status": 1, "lvl": "ads_small"},
            "porn": {"do": 0, "status": 1, "lvl": "porn_strict"},
            "x-oisd-big": {"do": 0, "status": 1},
        })
    );
    let off = json!({"filters": [
        {"filter": "porn_strict", "status": 0},
        {"filter": "ads", "status": 0},
        {"filter": "x-oisd-big", "status": 0},
    ]});
    let answer = api.put_json("/profiles/p1/filters", off).await;
    assert_eq!(answer.json["body"]["filters"], json!([]));
}

#[tokio::test]
async fn a_bad_name_in_the_batch_names_its_index_and_changes_nothing() {
    let api = start_default().await;
    let body = json!({"filters": [
        {"filter": "ads", "status": 1},
        {"filter": "foo", "status": 1},
    ]});
    let answer = api.put_json("/profiles/p1/filters", body).await;
    answer.assert_error(40003);
    assert_eq!(
        answer.json["error"]["message"],
        "Invalid filter name 'foo' at index 1"
    );
    assert_eq!(row(&api, "ads").await["status"], 0, "all or nothing");
    let first = json!({"filters": [{"filter": "foo", "status": 1}]});
    let answer = api.put_json("/profiles/p1/filters", first).await;
    assert_eq!(
        answer.json["error"]["message"],
        "Invalid filter name 'foo' at index 0"
    );
}

#[tokio::test]
async fn single_writes_refuse_a_bad_name_and_a_missing_status() {
    let api = start_default().await;
    set(&api, "foo", "1").await.assert_error(40003);
    let missing = api
        .put("/profiles/p1/filters/filter/ads", form(&[("do", "0")]))
        .await;
    missing.assert_error(40002);
    set(&api, "ads", "2").await.assert_error(40003);
    let unknown_profile = api
        .put(
            "/profiles/nope/filters/filter/ads",
            form(&[("status", "1")]),
        )
        .await;
    unknown_profile.assert_error(40003);
}
