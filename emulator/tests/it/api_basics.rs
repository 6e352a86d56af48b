//! Auth, envelopes, profiles and folders, over real HTTP.

use crate::common;

use common::{form, rules_form, start, start_default, TOKEN};
use controld_emulator::{EmulatorConfig, FolderPks};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_token_is_http_400_code_40001() {
    let api = start_default().await;
    let response = api
        .request(Method::GET, "/profiles", None, None, None)
        .await;
    let answer = common::answer(response).await;
    answer.assert_error(40001);
    assert_eq!(answer.json["error"]["message"], "No session token provided");
}

#[tokio::test]
async fn wrong_token_is_http_400_code_40001() {
    let api = start_default().await;
    let response = api
        .request(Method::GET, "/profiles", None, None, Some("not-the-token"))
        .await;
    let answer = common::answer(response).await;
    answer.assert_error(40001);
    assert_eq!(
        answer.json["error"]["message"],
        "Invalid session, please login again."
    );
    let right = api
        .request(Method::GET, "/profiles", None, None, Some(TOKEN))
        .await;
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn profiles_listing_has_the_api_shape_and_counts() {
    let api = start(EmulatorConfig {
        profiles: vec!["p1".into(), "p2".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let pk = api.create_folder("F").await;
    let pk_text = pk.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk_text)], &common::names("a", 2)),
    )
    .await;
    api.post(
        "/profiles/p1/rules",
        rules_form(1, &[], &common::names("r", 1)),
    )
    .await;
    let answer = api.get("/profiles").await;
    assert_eq!(answer.json["success"], true);
    let profiles = answer.json["body"]["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2);
    let p1 = &profiles[0];
    assert_eq!(p1["PK"], "p1");
    assert!(p1["name"].is_string());
    assert!(p1["updated"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(p1["profile"]["rule"]["count"], 3);
    assert_eq!(p1["profile"]["grp"]["count"], 1);
    for key in ["flt", "cflt", "ipflt", "svc", "opt"] {
        assert_eq!(p1["profile"][key]["count"], 0, "{key}");
    }
    assert_eq!(profiles[1]["profile"]["rule"]["count"], 0);
}

#[tokio::test]
async fn bad_paths_never_404_they_look_like_permission_errors() {
    let api = start_default().await;
    for path in ["/profile", "/profiles/p1/rulez", "/v1/profiles"] {
        let answer = api.get(path).await;
        assert_ne!(answer.status, 404, "{path}");
        answer.assert_error(40001);
    }
}

#[tokio::test]
async fn unknown_profile_is_400_40003() {
    let api = start_default().await;
    let answer = api.get("/profiles/nope/groups").await;
    answer.assert_error(40003);
    assert_eq!(answer.json["error"]["message"], "No such profile");
    api.post(
        "/profiles/nope/rules",
        rules_form(0, &[], &common::names("a", 1)),
    )
    .await
    .assert_error(40003);
}

#[tokio::test]
async fn folder_create_answers_the_new_pk_in_listing_shape() {
    let api = start_default().await;
    let created = api
        .post("/profiles/p1/groups", form(&[("name", "Ads"), ("do", "0")]))
        .await;
    assert!(created.is_success());
    let group = &created.json["body"]["groups"][0];
    let pk = group["PK"].as_u64().unwrap();
    assert_eq!(group["group"], "Ads");
    assert_eq!(group["action"], json!({"do": 0, "status": 1}));
    assert_eq!(group["count"], 0);
    let second = api.create_folder("Ads").await;
    assert!(second > pk, "duplicate names are allowed");
    let listed = api.get("/profiles/p1/groups").await;
    let groups = listed.json["body"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(&groups[0], group);
}

/// Creates a folder in `profile` over HTTP and returns its PK.
async fn create_folder_in(api: &common::Api, profile: &str, name: &str) -> u64 {
    let path = format!("/profiles/{profile}/groups");
    let answer = api.post(&path, form(&[("name", name), ("do", "0")])).await;
    assert!(answer.is_success(), "{answer:?}");
    answer.json["body"]["groups"][0]["PK"].as_u64().unwrap()
}

#[tokio::test]
async fn folder_pks_are_per_profile_and_a_deleted_highest_pk_is_handed_out_again() {
    let api = start(EmulatorConfig {
        profiles: vec!["p1".into(), "p2".into()],
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(create_folder_in(&api, "p1", "a").await, 1);
    assert_eq!(
        create_folder_in(&api, "p2", "a").await,
        1,
        "PKs are per profile"
    );
    assert_eq!(create_folder_in(&api, "p1", "b").await, 2);
    assert_eq!(create_folder_in(&api, "p1", "c").await, 3);
    assert!(api.delete("/profiles/p1/groups/3").await.is_success());
    assert_eq!(
        create_folder_in(&api, "p1", "Mine").await,
        3,
        "the freed PK"
    );
    assert!(api.delete("/profiles/p1/groups/2").await.is_success());
    assert_eq!(create_folder_in(&api, "p1", "d").await, 4, "not the hole");
}

#[tokio::test]
async fn the_global_counter_knob_never_hands_a_pk_out_again() {
    let api = start(EmulatorConfig {
        profiles: vec!["p1".into(), "p2".into()],
        folder_pks: FolderPks::GlobalCounter,
        ..EmulatorConfig::default()
    })
    .await;
    let first = create_folder_in(&api, "p1", "a").await;
    assert!(api
        .delete(&format!("/profiles/p1/groups/{first}"))
        .await
        .is_success());
    let second = create_folder_in(&api, "p1", "a").await;
    let other = create_folder_in(&api, "p2", "a").await;
    assert!(first < second && second < other, "{first} {second} {other}");
}

#[tokio::test]
async fn folder_without_action_omits_do_and_name_is_required() {
    let api = start_default().await;
    let created = api
        .post("/profiles/p1/groups", form(&[("name", "Plain")]))
        .await;
    assert_eq!(
        created.json["body"]["groups"][0]["action"],
        json!({"status": 1})
    );
    api.post("/profiles/p1/groups", form(&[("do", "0")]))
        .await
        .assert_error(40002);
}

#[tokio::test]
async fn folder_put_merges_omitted_fields() {
    let api = start_default().await;
    let created = api
        .post(
            "/profiles/p1/groups",
            form(&[("name", "Old"), ("do", "2"), ("via", "1.2.3.4")]),
        )
        .await;
    let pk = created.json["body"]["groups"][0]["PK"].as_u64().unwrap();
    let path = format!("/profiles/p1/groups/{pk}");
    let renamed = api.put(&path, form(&[("name", "New")])).await;
    assert!(renamed.is_success());
    let disabled = api.put(&path, form(&[("status", "0")])).await;
    let group = &disabled.json["body"]["groups"][0];
    assert_eq!(group["group"], "New");
    assert_eq!(
        group["action"],
        json!({"do": 2, "status": 0, "via": "1.2.3.4"})
    );
    let listed = api.get("/profiles/p1/groups").await;
    assert_eq!(&listed.json["body"]["groups"][0], group);
}

#[tokio::test]
async fn folder_delete_removes_its_rules_and_nothing_else() {
    let api = start_default().await;
    let doomed = api.create_folder("Doomed").await;
    let kept = api.create_folder("Kept").await;
    for (pk, prefix) in [(doomed, "d"), (kept, "k")] {
        let pk = pk.to_string();
        let answer = api
            .post(
                "/profiles/p1/rules",
                rules_form(0, &[("group", &pk)], &common::names(prefix, 3)),
            )
            .await;
        assert!(answer.is_success(), "{answer:?}");
    }
    assert!(api
        .delete(&format!("/profiles/p1/groups/{doomed}"))
        .await
        .is_success());
    assert_eq!(api.stored_count(), 3);
    assert_eq!(api.hostnames(Some(kept)).await.len(), 3);
    api.get(&format!("/profiles/p1/rules/{doomed}"))
        .await
        .assert_error(40401);
    // the freed hostnames can be used again
    let again = api
        .post(
            "/profiles/p1/rules",
            rules_form(0, &[], &common::names("d", 3)),
        )
        .await;
    assert!(again.is_success(), "{again:?}");
}

#[tokio::test]
async fn unknown_folder_is_404_40401_except_put_which_is_400_40003() {
    let api = start_default().await;
    let answer = api.get("/profiles/p1/rules/999").await;
    answer.assert_error(40401);
    assert_eq!(answer.json["error"]["message"], "No such group exists.");
    let put = api
        .put("/profiles/p1/groups/999", form(&[("name", "x")]))
        .await;
    put.assert_error(40003);
    assert_eq!(put.json["error"]["message"], "This folder does not exist");
    api.delete("/profiles/p1/groups/999")
        .await
        .assert_error(40401);
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", "999")], &common::names("a", 1)),
    )
    .await
    .assert_error(40401);
    assert_eq!(api.stored_count(), 0);
}
