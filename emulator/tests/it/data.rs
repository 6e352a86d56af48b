//! Dump/load, persistence across restarts, lifecycle, and the static list files.

use crate::common;

use std::time::{Duration, SystemTime};

use common::{names, rules_form, start, start_default, Api};
use controld_emulator::{Dump, Emulator, EmulatorConfig};
use sha2::{Digest, Sha256};

/// A folder with two rules, one root rule, and a spoof.
async fn populate(api: &Api) -> u64 {
    let pk = api.create_folder("Ads").await;
    let pk_text = pk.to_string();
    api.post(
        "/profiles/p1/rules",
        rules_form(0, &[("group", &pk_text)], &names("f", 2)),
    )
    .await;
    api.post(
        "/profiles/p1/rules",
        rules_form(2, &[("via", "1.2.3.4"), ("via_v6", "::1")], &names("r", 1)),
    )
    .await;
    pk
}

#[tokio::test]
async fn dump_is_sorted_and_round_trips_through_load() {
    let api = start_default().await;
    let pk = populate(&api).await;
    let dump = api.emulator.dump();
    let profile = &dump.profiles["p1"];
    assert_eq!(profile.folders[0].pk, pk);
    assert_eq!(profile.folders[0].rules.len(), 2);
    assert_eq!(profile.root[0].action.via_v6.as_deref(), Some("::1"));
    assert!(dump.next_pk > pk);

    let over_http: Dump = api.hook_json("/_emulator/dump").await;
    assert_eq!(over_http, dump);

    let other = start(EmulatorConfig {
        profiles: vec!["other".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let loaded = other
        .client
        .post(other.url("/_emulator/load"))
        .json(&dump)
        .send()
        .await
        .unwrap();
    assert_eq!(loaded.status(), 200);
    assert_eq!(
        other.emulator.dump(),
        dump,
        "load replaces the whole data set"
    );
    assert_eq!(other.hostnames(Some(pk)).await, names("f", 2));
    let next = other.create_folder("After load").await;
    assert_eq!(
        next,
        pk + 1,
        "a loaded profile numbers on from its highest PK"
    );

    let third = start_default().await;
    third.emulator.load(dump.clone());
    assert_eq!(third.emulator.dump(), dump);
}

#[tokio::test]
async fn state_file_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("emulator.json");
    let config = EmulatorConfig {
        state_file: Some(state_file.clone()),
        ..EmulatorConfig::default()
    };
    let api = start(config.clone()).await;
    let pk = populate(&api).await;
    let before = api.emulator.dump();
    assert!(state_file.exists(), "saved after each change");
    drop(api);

    let restarted = start(config).await;
    assert_eq!(restarted.emulator.dump(), before);
    assert_eq!(restarted.hostnames(Some(pk)).await, names("f", 2));
    let next = restarted.create_folder("Later").await;
    assert!(next > pk);
    let on_disk: Dump = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(on_disk, restarted.emulator.dump());
}

#[test]
fn background_emulator_serves_without_a_caller_runtime_and_stops() {
    let emulator = Emulator::start_background(EmulatorConfig::default()).unwrap();
    let url = emulator.url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let status = runtime.block_on(async {
        let response = client
            .get(format!("{url}/profiles"))
            .bearer_auth(common::TOKEN)
            .send()
            .await
            .unwrap();
        response.status()
    });
    assert_eq!(status, 200);
    assert_eq!(emulator.stats().total, 1);
    emulator.shutdown();
    let after = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/profiles"))
            .send()
            .await
    });
    assert!(after.is_err(), "nothing listens after shutdown");
}

fn etag_of(content: &[u8]) -> String {
    let hex: String = Sha256::digest(content)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

async fn lists_api() -> (Api, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ads.txt"), "a.example\nb.example\n").unwrap();
    std::fs::write(dir.path().join("folder.json"), r#"{"rules": []}"#).unwrap();
    let api = start(EmulatorConfig {
        serve_dir: Some(dir.path().to_path_buf()),
        ..EmulatorConfig::default()
    })
    .await;
    (api, dir)
}

#[tokio::test]
async fn lists_carry_strong_etag_last_modified_and_content_type() {
    let (api, dir) = lists_api().await;
    let response = api.raw_get("/_lists/ads.txt").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["etag"], etag_of(b"a.example\nb.example\n").as_str());
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let modified = std::fs::metadata(dir.path().join("ads.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let last_modified = headers["last-modified"].to_str().unwrap();
    assert_eq!(last_modified, httpdate::fmt_http_date(modified));
    assert_eq!(response.text().await.unwrap(), "a.example\nb.example\n");
    let json = api.raw_get("/_lists/folder.json").await;
    assert_eq!(json.headers()["content-type"], "application/json");
    assert_eq!(api.emulator.stats().total, 0, "lists are not API requests");
}

#[tokio::test]
async fn lists_answer_304_to_matching_validators_and_reread_the_file() {
    let (api, dir) = lists_api().await;
    let url = api.url("/_lists/ads.txt");
    let first = api.client.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_string();
    let by_etag = api
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(by_etag.status(), 304);
    let by_date = api
        .client
        .get(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), 304);
    let long_ago = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400));
    let stale = api
        .client
        .get(&url)
        .header("If-Modified-Since", long_ago)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    std::fs::write(dir.path().join("ads.txt"), "c.example\n").unwrap();
    let changed = api
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        200,
        "the file is re-read on every request"
    );
    assert_eq!(changed.headers()["etag"], etag_of(b"c.example\n").as_str());
}

#[tokio::test]
async fn lists_404_when_missing_and_refuse_traversal() {
    let (api, _dir) = lists_api().await;
    let missing = api.raw_get("/_lists/none.txt").await;
    assert_eq!(missing.status(), 404);
    let traversal = api.raw_get("/_lists/..%2Fads.txt").await;
    assert_eq!(traversal.status(), 400);
    let no_dir = start_default().await;
    let unserved = no_dir.raw_get("/_lists/ads.txt").await;
    assert_eq!(unserved.status(), 404);
}
