//! Settings in dumps and the state file; stats, the rate limit, faults and lost answers on the
//! settings routes.

use crate::common;

use common::{counts, form, start, start_default, Api, TOKEN};
use controld_emulator::{Dump, EmulatorConfig};
use reqwest::Method;
use serde_json::{json, Value};

/// One write of each kind.
async fn configure(api: &Api) {
    let writes = [
        (
            "/profiles/p1/filters/filter/ads_medium",
            form(&[("status", "1")]),
        ),
        (
            "/profiles/p1/filters/filter/x-oisd-big",
            form(&[("status", "1")]),
        ),
        (
            "/profiles/p1/services/tiktok",
            form(&[("do", "0"), ("status", "1")]),
        ),
        (
            "/profiles/p1/services/zoom",
            form(&[
                ("do", "2"),
                ("status", "0"),
                ("via", "1.2.3.4"),
                ("via_v6", "::1"),
            ]),
        ),
        (
            "/profiles/p1/default",
            form(&[("do", "0"), ("status", "1")]),
        ),
        ("/profiles/p1/options/safesearch", form(&[("status", "1")])),
        (
            "/profiles/p1/options/ttl_blck",
            form(&[("status", "1"), ("value", "30")]),
        ),
    ];
    for (path, body) in writes {
        let answer = api.put(path, body).await;
        assert!(answer.is_success(), "{path}: {answer:?}");
    }
}

/// Everything the settings endpoints show for p1.
async fn settings_seen(api: &Api) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/profiles/p1/filters",
        "/profiles/p1/filters/external",
        "/profiles/p1/services",
        "/profiles/p1/default",
        "/profiles/p1/options",
    ] {
        seen.push(api.get(path).await.json["body"].clone());
    }
    seen.push(api.profile_row("p1").await["profile"].clone());
    seen
}

#[tokio::test]
async fn dumps_carry_settings_and_load_them_back() {
    let api = start_default().await;
    configure(&api).await;
    let dump = api.emulator.dump();
    let settings = &dump.profiles["p1"].settings;
    assert_eq!(settings.filters, ["ads_medium", "x-oisd-big"]);
    assert_eq!(settings.services["zoom"].via_v6.as_deref(), Some("::1"));
    assert_eq!(settings.default_rule.kind, Some(0));
    assert_eq!(settings.options["ttl_blck"], "30");
    let over_http: Dump = api.hook_json("/_emulator/dump").await;
    assert_eq!(over_http, dump);

    let other = start_default().await;
    other.emulator.load(dump.clone());
    assert_eq!(other.emulator.dump(), dump);
    assert_eq!(settings_seen(&other).await, settings_seen(&api).await);
}

#[tokio::test]
async fn a_dump_of_folders_and_rules_alone_is_unchanged_and_old_dumps_load() {
    let api = start_default().await;
    api.create_folder("F").await;
    let text: Value = api.hook_json("/_emulator/dump").await;
    assert!(
        text["profiles"]["p1"].get("settings").is_none(),
        "a new profile's settings are left out: {text}"
    );
    let old = json!({"next_pk": 5, "profiles": {"p1": {"name": "p1", "root": [], "folders": []}}});
    let loaded = api
        .client
        .post(api.url("/_emulator/load"))
        .json(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(loaded.status(), 200);
    let default = api.get("/profiles/p1/default").await;
    assert_eq!(
        default.json["body"]["default"],
        json!({"do": 1, "status": 1})
    );
}

#[tokio::test]
async fn the_state_file_keeps_settings_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        state_file: Some(dir.path().join("emulator.json")),
        ..EmulatorConfig::default()
    };
    let api = start(config.clone()).await;
    configure(&api).await;
    let before = settings_seen(&api).await;
    drop(api);
    let restarted = start(config).await;
    assert_eq!(settings_seen(&restarted).await, before);
}

#[tokio::test]
async fn stats_count_the_settings_routes_by_template() {
    let api = start_default().await;
    configure(&api).await;
    settings_seen(&api).await;
    api.put_json(
        "/profiles/p1/filters",
        json!({"filters": [{"filter": "porn", "status": 1}]}),
    )
    .await;
    api.get("/profiles/options").await;
    api.get("/services/categories").await;
    api.get("/services/categories/video").await;
    api.get("/services/nope").await;
    let stats = api.emulator.stats();
    let expected = counts(&[
        ("GET /profiles", 1),
        ("GET /profiles/options", 1),
        ("GET /profiles/{profile}/default", 1),
        ("GET /profiles/{profile}/filters", 1),
        ("GET /profiles/{profile}/filters/external", 1),
        ("GET /profiles/{profile}/options", 1),
        ("GET /profiles/{profile}/services", 1),
        ("GET /services/categories", 1),
        ("GET /services/categories/{category}", 1),
        ("OTHER", 1),
        ("PUT /profiles/{profile}/default", 1),
        ("PUT /profiles/{profile}/filters", 1),
        ("PUT /profiles/{profile}/filters/filter/{filter}", 2),
        ("PUT /profiles/{profile}/options/{option}", 2),
        ("PUT /profiles/{profile}/services/{service}", 2),
    ]);
    assert_eq!(stats.by_route, expected);
    assert_eq!(stats.by_method, counts(&[("GET", 10), ("PUT", 8)]));
}

#[tokio::test]
async fn the_rate_limit_applies_to_the_public_catalogue_too() {
    let api = start(EmulatorConfig {
        rps: Some(0.01),
        burst: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let first = api
        .request(Method::GET, "/services/categories", None, None, None)
        .await;
    assert_eq!(first.status(), 200);
    let second = api
        .request(Method::GET, "/services/categories", None, None, None)
        .await;
    assert_eq!(second.status(), 429);
    assert_eq!(api.emulator.stats().rate_limited, 1);
}

#[tokio::test]
async fn faults_hit_settings_reads_and_writes() {
    let api = start(EmulatorConfig {
        fail_rate: 1.0,
        seed: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let read = api
        .request(Method::GET, "/profiles/p1/filters", None, None, Some(TOKEN))
        .await;
    assert_eq!(read.status(), 500);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let answer = api
            .put("/profiles/p1/options/safesearch", form(&[("status", "1")]))
            .await;
        statuses.push(answer.status);
    }
    assert!(statuses.iter().all(|status| *status >= 500), "{statuses:?}");
    assert!(
        statuses.contains(&502),
        "some answers are lost after the change"
    );
    assert_eq!(api.emulator.stats().faults, 21);
    api.emulator.set_fail_rate(0.0);
    let options = api.get("/profiles/p1/options").await;
    assert_eq!(
        options.json["body"]["options"],
        json!([{"PK": "safesearch", "value": 1}]),
        "a write whose answer was lost was carried out"
    );
}

#[tokio::test]
async fn a_lost_answer_aimed_at_a_settings_route_is_carried_out_and_answered_502() {
    let api = start_default().await;
    api.emulator
        .lose_next_answers("PUT /profiles/{profile}/services/{service}", 1);
    let lost = api
        .put(
            "/profiles/p1/services/netflix",
            form(&[("do", "0"), ("status", "1")]),
        )
        .await;
    assert_eq!(lost.status, 502);
    let listed = api.get("/profiles/p1/services").await;
    assert_eq!(listed.json["body"]["services"][0]["PK"], "netflix");
    let next = api
        .put("/profiles/p1/services/netflix", form(&[("status", "0")]))
        .await;
    assert!(next.is_success(), "only the next answer is lost: {next:?}");
}
