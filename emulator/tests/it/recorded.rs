//! One test per *observed* line of the API facts ("Recorded from the live service"): the emulator
//! does by default what the live service was seen to do. Each test is named after the fact.

use crate::common;

use common::{form, names, rules_form, start_default, Api};
use serde_json::{json, Value};

async fn rules_of(api: &Api, path: &str) -> Vec<Value> {
    let answer = api.get(path).await;
    assert!(answer.is_success(), "{answer:?}");
    answer.json["body"]["rules"].as_array().unwrap().clone()
}

async fn folder_json(api: &Api, pk: u64) -> Value {
    let answer = api.get("/profiles/p1/groups").await;
    let groups = answer.json["body"]["groups"].as_array().unwrap().clone();
    groups
        .into_iter()
        .find(|g| g["PK"] == pk)
        .expect("folder listed")
}

async fn profile_json(api: &Api) -> Value {
    let answer = api.get("/profiles").await;
    answer.json["body"]["profiles"][0].clone()
}

#[tokio::test]
async fn dashboard_folders_carry_an_integer_via_of_minus_one() {
    let api = start_default().await;
    let pk = api.emulator.add_dashboard_folder("p1", "Mine", 0).unwrap();
    let folder = folder_json(&api, pk).await;
    assert_eq!(folder["action"], json!({"do": 0, "status": 1, "via": -1}));
}

#[tokio::test]
async fn folders_without_an_action_have_no_do() {
    let api = start_default().await;
    let answer = api
        .post("/profiles/p1/groups", form(&[("name", "Most Abused TLDs")]))
        .await;
    let pk = answer.json["body"]["groups"][0]["PK"].as_u64().unwrap();
    let folder = folder_json(&api, pk).await;
    assert_eq!(folder["action"], json!({"status": 1}));
}

#[tokio::test]
async fn folder_names_are_not_unique_within_a_profile() {
    let api = start_default().await;
    let first = api.create_folder("Same").await;
    let second = api.create_folder("Same").await;
    assert_ne!(first, second);
    let answer = api.get("/profiles/p1/groups").await;
    assert_eq!(answer.json["body"]["groups"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn folder_put_merges_and_cannot_remove_the_action_without_do() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    let path = format!("/profiles/p1/groups/{pk}");
    assert!(api.put(&path, form(&[("name", "G")])).await.is_success());
    let folder = folder_json(&api, pk).await;
    assert_eq!(folder["group"], "G");
    assert_eq!(folder["action"], json!({"do": 0, "status": 1}));
    assert!(api.put(&path, form(&[("status", "1")])).await.is_success());
    assert_eq!(folder_json(&api, pk).await["action"]["do"], 0);
}

#[tokio::test]
async fn rule_put_merges_and_sending_only_do_clears_via() {
    let api = start_default().await;
    let spoof = form(&[
        ("do", "2"),
        ("status", "0"),
        ("via", "1.2.3.4"),
        ("hostnames[]", "a.example"),
    ]);
    assert!(api.post("/profiles/p1/rules", spoof).await.is_success());
    let only_status = form(&[("status", "1"), ("hostnames[]", "a.example")]);
    assert!(api
        .put("/profiles/p1/rules", only_status)
        .await
        .is_success());
    let rule = &rules_of(&api, "/profiles/p1/rules").await[0];
    assert_eq!(
        rule["action"],
        json!({"do": 2, "status": 1, "via": "1.2.3.4"})
    );
    let only_do = form(&[
        ("do", "2"),
        ("via", "5.6.7.8"),
        ("hostnames[]", "a.example"),
    ]);
    assert!(api.put("/profiles/p1/rules", only_do).await.is_success());
    let only_do = form(&[("do", "0"), ("hostnames[]", "a.example")]);
    assert!(api.put("/profiles/p1/rules", only_do).await.is_success());
    let rule = &rules_of(&api, "/profiles/p1/rules").await[0];
    assert_eq!(rule["action"], json!({"do": 0, "status": 1}));
}

#[tokio::test]
async fn rules_carry_comment_ttl_and_order_with_gaps() {
    let api = start_default().await;
    let first = form(&[
        ("do", "0"),
        ("status", "1"),
        ("comment", "mine"),
        ("ttl", "1780003600"),
        ("hostnames[]", "a.example"),
    ]);
    api.post("/profiles/p1/rules", first).await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("b", 1)))
        .await;
    let rules = rules_of(&api, "/profiles/p1/rules").await;
    assert_eq!(rules[0]["comment"], "mine");
    assert_eq!(rules[0]["action"]["ttl"], 1780003600);
    assert_eq!(rules[1]["comment"], "");
    let gap = rules[1]["order"].as_u64().unwrap() - rules[0]["order"].as_u64().unwrap();
    assert!(gap > 1, "{rules:?}");
}

#[tokio::test]
async fn error_objects_carry_an_undocumented_date() {
    let api = start_default().await;
    let answer = api.get("/profiles/p1/rules/999").await;
    assert!(answer.json["error"]["date"].is_string(), "{answer:?}");
}

#[tokio::test]
async fn successful_deletes_answer_body_as_an_empty_list() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    let folder = api.delete(&format!("/profiles/p1/groups/{pk}")).await;
    let rule = api.delete("/profiles/p1/rules/nothing.example").await;
    for answer in [folder, rule] {
        assert!(answer.is_success());
        assert_eq!(answer.json["body"], json!([]));
    }
}

#[tokio::test]
async fn get_profiles_counts_enabled_items_only() {
    let api = start_default().await;
    let enabled = rules_form(0, &[], &names("on", 2));
    api.post("/profiles/p1/rules", enabled).await;
    let disabled = form(&[("do", "0"), ("status", "0"), ("hostnames[]", "off.example")]);
    api.post("/profiles/p1/rules", disabled).await;
    api.post(
        "/profiles/p1/groups",
        form(&[("name", "off"), ("status", "0")]),
    )
    .await;
    api.create_folder("on").await;
    let profile = profile_json(&api).await;
    assert_eq!(profile["profile"]["rule"]["count"], 2);
    assert_eq!(profile["profile"]["grp"]["count"], 1);
}

#[tokio::test]
async fn get_profiles_updated_moves_when_the_profile_changes() {
    let api = start_default().await;
    let before = profile_json(&api).await["updated"].as_u64().unwrap();
    api.create_folder("F").await;
    let after_folder = profile_json(&api).await["updated"].as_u64().unwrap();
    assert!(after_folder > before);
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("a", 1)))
        .await;
    let after_rule = profile_json(&api).await["updated"].as_u64().unwrap();
    assert!(after_rule > after_folder);
}

#[tokio::test]
async fn rules_of_folder_zero_is_404_no_such_group_and_the_root_is_rules() {
    let api = start_default().await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("r", 1)))
        .await;
    let answer = api.get("/profiles/p1/rules/0").await;
    answer.assert_error(40401);
    assert_eq!(answer.json["error"]["message"], "No such group exists.");
    assert_eq!(api.hostnames(None).await, names("r", 1));
}

#[tokio::test]
async fn undocumented_rules_all_lists_every_rule() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    let pk_text = pk.to_string();
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("root", 1)))
        .await;
    api.post(
        "/profiles/p1/rules",
        rules_form(1, &[("group", &pk_text)], &names("in", 1)),
    )
    .await;
    let rules = rules_of(&api, "/profiles/p1/rules/all").await;
    let placed: Vec<(String, u64)> = rules
        .iter()
        .map(|r| {
            (
                r["PK"].as_str().unwrap().to_string(),
                r["group"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        placed,
        [
            ("root0.example".to_string(), 0),
            ("in0.example".to_string(), pk)
        ]
    );
}

#[tokio::test]
async fn send_scalars_first_status_cut_off_after_1000_hostnames_defaults_to_enabled() {
    let api = start_default().await;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let hosts = names("h", 1000);
    pairs.extend(hosts.iter().map(|h| ("hostnames[]", h.as_str())));
    pairs.push(("do", "0"));
    pairs.push(("status", "0"));
    // `do` is variable 1,001 and kept; `status` is cut and defaults to enabled.
    let answer = api.post("/profiles/p1/rules", form(&pairs)).await;
    assert!(answer.is_success(), "{answer:?}");
    let rules = rules_of(&api, "/profiles/p1/rules").await;
    assert_eq!(rules.len(), 1000);
    assert!(rules.iter().all(|r| r["action"]["status"] == 1));
}

#[tokio::test]
async fn send_scalars_first_do_cut_off_after_1001_variables_fails() {
    let api = start_default().await;
    let hosts = names("h", 1001);
    let mut pairs: Vec<(&str, &str)> = vec![("status", "1")];
    pairs.extend(hosts.iter().map(|h| ("hostnames[]", h.as_str())));
    pairs.push(("do", "0"));
    let answer = api.post("/profiles/p1/rules", form(&pairs)).await;
    answer.assert_error(40002);
    assert_eq!(api.stored_count(), 0);
}

#[tokio::test]
async fn scalars_first_and_1000_hostnames_store_only_999() {
    let api = start_default().await;
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("h", 1000)))
        .await;
    assert!(answer.is_success());
    assert_eq!(api.stored_count(), 999);
}

#[tokio::test]
async fn hostnames_are_case_sensitive_and_two_casings_coexist() {
    let api = start_default().await;
    let both = form(&[
        ("do", "0"),
        ("status", "1"),
        ("hostnames[]", "MiXeD.Example.COM"),
        ("hostnames[]", "mixed.example.com"),
    ]);
    assert!(api.post("/profiles/p1/rules", both).await.is_success());
    assert_eq!(api.stored_count(), 2);
}

#[tokio::test]
async fn put_and_delete_must_name_the_stored_case() {
    let api = start_default().await;
    let mixed = form(&[
        ("do", "0"),
        ("status", "1"),
        ("hostnames[]", "MiXeD.Example.COM"),
    ]);
    api.post("/profiles/p1/rules", mixed).await;
    let lower = form(&[("do", "1"), ("hostnames[]", "mixed.example.com")]);
    api.put("/profiles/p1/rules", lower)
        .await
        .assert_error(40003);
    assert!(api
        .delete("/profiles/p1/rules/mixed.example.com")
        .await
        .is_success());
    assert_eq!(
        api.stored_count(),
        1,
        "a DELETE in another case removes nothing"
    );
    assert!(api
        .delete("/profiles/p1/rules/MiXeD.Example.COM")
        .await
        .is_success());
    assert_eq!(api.stored_count(), 0);
}

#[tokio::test]
async fn one_duplicate_hostname_fails_the_whole_post_across_folders() {
    let api = start_default().await;
    let pk = api.create_folder("F").await.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk)], &names("a", 1)),
    )
    .await;
    let mut batch = names("new", 3);
    batch.push("a0.example".into());
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &batch))
        .await;
    answer.assert_error(40003);
    assert_eq!(
        answer.json["error"]["message"],
        "Custom Rule already exists: a0.example"
    );
    assert_eq!(api.stored_count(), 1);
}

#[tokio::test]
async fn a_post_past_the_rule_limit_stores_nothing() {
    let api = common::start(controld_emulator::EmulatorConfig {
        max_rules: 3,
        ..controld_emulator::EmulatorConfig::default()
    })
    .await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("a", 2)))
        .await;
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("b", 2)))
        .await;
    answer.assert_error(40003);
    assert_eq!(
        answer.json["error"]["message"],
        "You have reached the maximum number of custom rules"
    );
    assert_eq!(api.stored_count(), 2);
}

#[tokio::test]
async fn put_groups_of_an_unknown_folder_is_400_this_folder_does_not_exist() {
    let api = start_default().await;
    let answer = api
        .put("/profiles/p1/groups/424242", form(&[("do", "0")]))
        .await;
    answer.assert_error(40003);
    assert_eq!(
        answer.json["error"]["message"],
        "This folder does not exist"
    );
}

#[tokio::test]
async fn rules_of_a_deleted_folder_answer_404_40401() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    api.delete(&format!("/profiles/p1/groups/{pk}")).await;
    api.get(&format!("/profiles/p1/rules/{pk}"))
        .await
        .assert_error(40401);
}

#[tokio::test]
async fn groups_import_answers_500_with_an_empty_body() {
    let api = start_default().await;
    let response = api
        .request(
            reqwest::Method::POST,
            "/profiles/p1/groups/import",
            Some("application/x-www-form-urlencoded"),
            Some(String::new()),
            Some(common::TOKEN),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    assert!(response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn json_bodies_are_accepted() {
    let api = start_default().await;
    let body = json!({"do": 0, "status": 1, "hostnames": ["a.example"]});
    assert!(api.post_json("/profiles/p1/rules", body).await.is_success());
    assert_eq!(api.stored_count(), 1);
}
