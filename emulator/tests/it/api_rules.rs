//! Rule semantics over real HTTP: parsing, uniqueness, atomicity, limits and the truncation trap.

use crate::common;

use common::{form, names, rules_form, start, start_default};
use controld_emulator::EmulatorConfig;
use serde_json::json;

#[tokio::test]
async fn root_and_folder_listings_are_separate() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    let pk_text = pk.to_string();
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("root", 2)))
        .await;
    api.post(
        "/profiles/p1/rules",
        rules_form(1, &[("group", &pk_text)], &names("in", 1)),
    )
    .await;
    assert_eq!(api.hostnames(None).await, names("root", 2));
    let folder = api.get(&format!("/profiles/p1/rules/{pk}")).await;
    let rule = &folder.json["body"]["rules"][0];
    assert_eq!(rule["PK"], "in0.example");
    assert_eq!(rule["group"], pk);
    assert_eq!(rule["action"], json!({"do": 1, "status": 1}));
    assert!(rule["order"].is_u64());
    let root = api.get("/profiles/p1/rules").await;
    assert_eq!(root.json["body"]["rules"][0]["group"], 0);
    let groups = api.get("/profiles/p1/groups").await;
    assert_eq!(groups.json["body"]["groups"][0]["count"], 1);
}

#[tokio::test]
async fn post_accepts_append_and_indexed_array_keys() {
    let api = start_default().await;
    let appended = form(&[
        ("do", "0"),
        ("status", "1"),
        ("hostnames[]", "a.example"),
        ("hostnames[]", "b.example"),
    ]);
    assert!(api.post("/profiles/p1/rules", appended).await.is_success());
    let indexed = form(&[
        ("do", "0"),
        ("status", "1"),
        ("hostnames[0]", "c.example"),
        ("hostnames[1]", "d.example"),
    ]);
    let answer = api.post("/profiles/p1/rules", indexed).await;
    assert!(answer.is_success());
    assert_eq!(answer.json["body"]["rules"][0]["PK"], "c.example");
    assert_eq!(
        api.hostnames(None).await,
        ["a.example", "b.example", "c.example", "d.example"]
    );
}

#[tokio::test]
async fn bare_hostnames_key_is_rejected() {
    let api = start_default().await;
    let bare = form(&[("do", "0"), ("status", "1"), ("hostnames", "a.example")]);
    let answer = api.post("/profiles/p1/rules", bare).await;
    answer.assert_error(40003);
    assert_eq!(
        answer.json["error"]["message"],
        "hostnames must be an array"
    );
    assert_eq!(api.stored_count(), 0);
}

#[tokio::test]
async fn json_body_is_accepted() {
    let api = start_default().await;
    let answer = api
        .post_json(
            "/profiles/p1/rules",
            json!({"do": 2, "status": 0, "via": "10.0.0.1", "hostnames": ["j.example"]}),
        )
        .await;
    assert!(answer.is_success(), "{answer:?}");
    let rules = api.get("/profiles/p1/rules").await;
    assert_eq!(
        rules.json["body"]["rules"][0]["action"],
        json!({"do": 2, "status": 0, "via": "10.0.0.1"})
    );
}

#[tokio::test]
async fn required_fields_are_40002() {
    let api = start_default().await;
    let no_do = form(&[("status", "1"), ("hostnames[]", "a.example")]);
    api.post("/profiles/p1/rules", no_do)
        .await
        .assert_error(40002);
    let spoof_without_via = rules_form(2, &[], &names("s", 1));
    api.post("/profiles/p1/rules", spoof_without_via)
        .await
        .assert_error(40002);
    assert_eq!(api.stored_count(), 0);
}

#[tokio::test]
async fn duplicate_hostname_fails_the_whole_request() {
    let api = start_default().await;
    let pk = api.create_folder("F").await.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk)], &["taken.example".to_string()]),
    )
    .await;
    let batch = vec!["new1.example".to_string(), "taken.example".to_string()];
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &batch))
        .await;
    answer.assert_error(40003);
    let message = answer.json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Custom Rule already exists"),
        "{message}"
    );
    assert!(api.hostnames(None).await.is_empty(), "nothing stored");
    assert_eq!(api.stored_count(), 1);
}

#[tokio::test]
async fn invalid_hostnames_are_rejected_and_nothing_is_stored() {
    let api = start_default().await;
    for bad in [
        "bad%host.example",
        "what?.example",
        "two words.example",
        "",
        "a/b",
    ] {
        let batch = vec!["fine.example".to_string(), bad.to_string()];
        let answer = api
            .post("/profiles/p1/rules", rules_form(0, &[], &batch))
            .await;
        answer.assert_error(40003);
    }
    let long = vec![format!("{}.example", "a".repeat(250))];
    api.post("/profiles/p1/rules", rules_form(0, &[], &long))
        .await
        .assert_error(40003);
    assert_eq!(api.stored_count(), 0);
    let wildcards = vec!["*.zip".to_string(), "api-*.x_y.example".to_string()];
    assert!(api
        .post("/profiles/p1/rules", rules_form(0, &[], &wildcards))
        .await
        .is_success());
}

#[tokio::test]
async fn rule_limit_fails_the_whole_batch() {
    let api = start(EmulatorConfig {
        max_rules: 5,
        ..EmulatorConfig::default()
    })
    .await;
    let pk = api.create_folder("F").await.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk)], &names("f", 3)),
    )
    .await;
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("r", 3)))
        .await;
    answer.assert_error(40003);
    assert_eq!(
        answer.json["error"]["message"],
        "You have reached the maximum number of custom rules"
    );
    assert_eq!(api.stored_count(), 3);
    assert!(api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("r", 2)))
        .await
        .is_success());
}

#[tokio::test]
async fn form_with_1000_hostnames_silently_stores_999() {
    let api = start_default().await;
    let batch = names("t", 1_000);
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &batch))
        .await;
    assert!(answer.is_success(), "the server still answers 200");
    assert_eq!(answer.json["body"]["rules"].as_array().unwrap().len(), 1);
    let stored = api.hostnames(None).await;
    assert_eq!(stored.len(), 999);
    assert_eq!(
        stored,
        batch[..999].to_vec(),
        "the last hostname is dropped"
    );
}

#[tokio::test]
async fn form_with_1500_hostnames_fails_and_stores_nothing() {
    let api = start_default().await;
    let answer = api
        .post("/profiles/p1/rules", rules_form(0, &[], &names("t", 1_500)))
        .await;
    answer.assert_error(40003);
    assert_eq!(api.stored_count(), 0);
}

#[tokio::test]
async fn json_bodies_are_not_truncated() {
    let api = start_default().await;
    let batch = names("j", 1_200);
    let answer = api
        .post_json(
            "/profiles/p1/rules",
            json!({"do": 0, "status": 1, "hostnames": batch}),
        )
        .await;
    assert!(answer.is_success());
    assert_eq!(api.stored_count(), 1_200);
}

#[tokio::test]
async fn put_merges_the_action() {
    let api = start_default().await;
    let batch = names("m", 2);
    api.post("/profiles/p1/rules", rules_form(0, &[], &batch))
        .await;
    let only_status = form(&[("status", "0"), ("hostnames[]", "m0.example")]);
    assert!(api
        .put("/profiles/p1/rules", only_status)
        .await
        .is_success());
    let to_spoof = form(&[
        ("do", "2"),
        ("via", "1.1.1.1"),
        ("hostnames[]", "m0.example"),
    ]);
    assert!(api.put("/profiles/p1/rules", to_spoof).await.is_success());
    let rules = api.get("/profiles/p1/rules").await;
    assert_eq!(
        rules.json["body"]["rules"][0]["action"],
        json!({"do": 2, "status": 0, "via": "1.1.1.1"})
    );
    assert_eq!(
        rules.json["body"]["rules"][1]["action"],
        json!({"do": 0, "status": 1})
    );
}

#[tokio::test]
async fn put_group_moves_rules_between_folders_and_to_the_root() {
    let api = start_default().await;
    let first = api.create_folder("A").await;
    let second = api.create_folder("B").await;
    let first_text = first.to_string();
    let second_text = second.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &first_text)], &names("x", 3)),
    )
    .await;
    let move_two = form(&[
        ("group", &second_text),
        ("hostnames[]", "x0.example"),
        ("hostnames[]", "x1.example"),
    ]);
    assert!(api.put("/profiles/p1/rules", move_two).await.is_success());
    assert_eq!(api.hostnames(Some(first)).await, ["x2.example"]);
    assert_eq!(api.hostnames(Some(second)).await.len(), 2);
    let to_root = form(&[("group", "0"), ("hostnames[]", "x2.example")]);
    assert!(api.put("/profiles/p1/rules", to_root).await.is_success());
    assert_eq!(api.hostnames(None).await, ["x2.example"]);
    assert!(api.hostnames(Some(first)).await.is_empty());
    let unknown = form(&[("group", "424242"), ("hostnames[]", "x2.example")]);
    api.put("/profiles/p1/rules", unknown)
        .await
        .assert_error(40401);
}

#[tokio::test]
async fn put_of_an_unknown_hostname_fails_atomically_and_is_case_sensitive() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("k", 1)))
        .await;
    let pk_text = pk.to_string();
    let mixed = form(&[
        ("group", &pk_text),
        ("do", "1"),
        ("hostnames[]", "k0.example"),
        ("hostnames[]", "K0.EXAMPLE"),
    ]);
    let answer = api.put("/profiles/p1/rules", mixed).await;
    answer.assert_error(40003);
    let message = answer.json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Custom Rule does not exist"),
        "{message}"
    );
    let root = api.get("/profiles/p1/rules").await;
    assert_eq!(root.json["body"]["rules"][0]["PK"], "k0.example");
    assert_eq!(
        root.json["body"]["rules"][0]["action"]["do"], 0,
        "unchanged"
    );
}

#[tokio::test]
async fn put_form_is_truncated_like_post() {
    let api = start_default().await;
    let batch = names("p", 1_000);
    let created = api
        .post_json(
            "/profiles/p1/rules",
            json!({"do": 0, "status": 1, "hostnames": batch}),
        )
        .await;
    assert!(created.is_success());
    let answer = api
        .put("/profiles/p1/rules", rules_form(1, &[], &batch))
        .await;
    assert!(answer.is_success());
    let dump = api.emulator.dump();
    let allowed = dump.profiles["p1"]
        .root
        .iter()
        .filter(|rule| rule.action.kind == Some(1))
        .count();
    assert_eq!(allowed, 999);
}

#[tokio::test]
async fn delete_is_percent_decoded_and_absent_is_ok() {
    let api = start_default().await;
    let batch = vec!["*.ads.example".to_string(), "keep.example".to_string()];
    api.post("/profiles/p1/rules", rules_form(0, &[], &batch))
        .await;
    assert!(api
        .delete("/profiles/p1/rules/%2A.ads.example")
        .await
        .is_success());
    assert_eq!(api.hostnames(None).await, ["keep.example"]);
    let absent = api.delete("/profiles/p1/rules/never.example").await;
    assert!(absent.is_success());
    assert_eq!(absent.json["body"], json!([]));
    assert_eq!(api.stored_count(), 1);
}

#[tokio::test]
async fn redirect_needs_a_paid_plan() {
    let api = start_default().await;
    let redirect = rules_form(3, &[("via", "US-NYC")], &names("r", 1));
    let answer = api.post("/profiles/p1/rules", redirect.clone()).await;
    answer.assert_error(40201);
    assert_eq!(answer.status, 402);
    assert_eq!(api.stored_count(), 0);
    let paid = start(EmulatorConfig {
        allow_redirect: true,
        ..EmulatorConfig::default()
    })
    .await;
    assert!(paid.post("/profiles/p1/rules", redirect).await.is_success());
}
