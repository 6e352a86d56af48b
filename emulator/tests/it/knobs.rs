//! Latency, rate limit, fault injection and request statistics.

use crate::common;

use std::time::Duration;

use common::{counts, form, names, rules_form, start, start_default, Api, TOKEN};
use controld_emulator::{EmulatorConfig, Stats};
use reqwest::Method;

fn limited(rps: f64, burst: u32) -> EmulatorConfig {
    EmulatorConfig {
        rps: Some(rps),
        burst,
        ..EmulatorConfig::default()
    }
}

/// On the paused clock (the bucket runs on tokio's clock): no time passes between the requests, so
/// the third finds the bucket empty however slow the machine.
#[tokio::test(start_paused = true)]
async fn empty_bucket_answers_429_with_retry_after() {
    let api = start(limited(0.5, 2)).await;
    assert!(api.get("/profiles").await.is_success());
    assert!(api.get("/profiles").await.is_success());
    let response = api
        .request(Method::GET, "/profiles", None, None, Some(TOKEN))
        .await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    assert_eq!(retry_after, 2, "one token at 0.5 per second");
    let answer = common::answer(response).await;
    answer.assert_error(42900);
    let stats = api.emulator.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.total, 3, "429s are counted");
}

/// On the paused clock: waiting out `Retry-After` takes no real time, and one second less would not
/// do.
#[tokio::test(start_paused = true)]
async fn honouring_retry_after_gets_through() {
    let api = start(limited(1.0, 1)).await;
    assert!(api.get("/profiles").await.is_success());
    let refused = api
        .request(Method::GET, "/profiles", None, None, Some(TOKEN))
        .await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait, 1, "one token at 1 per second");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let early = api
        .request(Method::GET, "/profiles", None, None, Some(TOKEN))
        .await;
    assert_eq!(early.status(), 429, "0.9 s refills 0.9 of a token");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert!(api.get("/profiles").await.is_success());
    assert_eq!(api.emulator.stats().rate_limited, 2);
}

/// On the paused clock (the emulator runs on the test's runtime, its latency a tokio sleep): six
/// requests sent at once are all answered one latency later, all six in the handler together.
#[tokio::test(start_paused = true)]
async fn latency_is_per_request_and_concurrent_requests_overlap() {
    let latency = Duration::from_millis(400);
    let api = start(EmulatorConfig {
        latency,
        ..EmulatorConfig::default()
    })
    .await;
    let started = tokio::time::Instant::now();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let request = api
                .client
                .get(api.url("/profiles"))
                .bearer_auth(TOKEN)
                .send();
            tokio::spawn(request)
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status(), 200);
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= latency, "{elapsed:?}");
    assert!(
        elapsed < latency * 2,
        "one latency for all six: {elapsed:?}"
    );
    assert_eq!(api.emulator.stats().peak_in_flight, 6, "all six at once");
}

fn faulty(seed: u64) -> EmulatorConfig {
    EmulatorConfig {
        fail_rate: 1.0,
        seed,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn faulted_reads_are_500_with_an_empty_json_body() {
    let api = start(faulty(3)).await;
    for _ in 0..5 {
        let response = api
            .request(Method::GET, "/profiles", None, None, Some(TOKEN))
            .await;
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.text().await.unwrap(), "");
    }
    assert_eq!(api.emulator.stats().faults, 5);
    api.emulator.set_fail_rate(0.0);
    assert!(api.get("/profiles").await.is_success());
}

/// Sends `count` folder creations; returns the HTTP statuses.
async fn create_folders(api: &Api, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let name = format!("folder-{i}");
        let response = api
            .request(
                Method::POST,
                "/profiles/p1/groups",
                Some("application/x-www-form-urlencoded"),
                Some(form(&[("name", &name)])),
                Some(TOKEN),
            )
            .await;
        let status = response.status().as_u16();
        if status == 502 {
            assert_eq!(response.headers()["content-type"], "text/html");
            assert!(response.text().await.unwrap().contains("<html"));
        }
        statuses.push(status);
    }
    statuses
}

#[tokio::test]
async fn faulted_writes_are_500_before_or_502_after_the_change() {
    let api = start(faulty(11)).await;
    let statuses = create_folders(&api, 24).await;
    assert!(
        statuses.contains(&500) && statuses.contains(&502),
        "{statuses:?}"
    );
    let dump = api.emulator.dump();
    let stored: Vec<&str> = dump.profiles["p1"]
        .folders
        .iter()
        .map(|folder| folder.name.as_str())
        .collect();
    for (i, status) in statuses.iter().enumerate() {
        let name = format!("folder-{i}");
        let applied = stored.contains(&name.as_str());
        match status {
            500 => assert!(!applied, "{name}: a 500 happens before any change"),
            502 => assert!(applied, "{name}: a 502 is a lost response after the change"),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(api.emulator.stats().faults, 24);
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed() {
    let first = start(EmulatorConfig {
        fail_rate: 0.5,
        seed: 42,
        ..EmulatorConfig::default()
    })
    .await;
    let second = start(EmulatorConfig {
        fail_rate: 0.5,
        seed: 42,
        ..EmulatorConfig::default()
    })
    .await;
    let statuses = create_folders(&first, 30).await;
    assert_eq!(statuses, create_folders(&second, 30).await);
    assert!(statuses.contains(&200) && statuses.iter().any(|s| *s >= 500));
}

#[tokio::test]
async fn stats_count_every_api_request_exactly_and_never_admin_calls() {
    let api = start_default().await;
    let pk = api.create_folder("F").await;
    api.get("/profiles").await;
    api.get("/profiles/p1/groups").await;
    api.put(&format!("/profiles/p1/groups/{pk}"), form(&[("name", "G")]))
        .await;
    api.post("/profiles/p1/rules", rules_form(0, &[], &names("s", 2)))
        .await;
    api.put(
        "/profiles/p1/rules",
        form(&[("status", "0"), ("hostnames[]", "s0.example")]),
    )
    .await;
    api.get("/profiles/p1/rules").await;
    api.get(&format!("/profiles/p1/rules/{pk}")).await;
    api.delete("/profiles/p1/rules/s1.example").await;
    api.delete(&format!("/profiles/p1/groups/{pk}")).await;
    api.get("/nowhere").await;
    api.request(Method::GET, "/profiles", None, None, None)
        .await;
    // admin endpoints and lists are not counted
    api.raw_get("/_emulator/stats").await;
    api.raw_get("/_emulator/dump").await;
    api.raw_get("/_lists/x.txt").await;
    let over_http: Stats = api.hook_json("/_emulator/stats").await;
    let expected = Stats {
        total: 12,
        by_method: counts(&[("DELETE", 2), ("GET", 6), ("POST", 2), ("PUT", 2)]),
        by_route: counts(&[
            ("DELETE /profiles/{profile}/groups/{group}", 1),
            ("DELETE /profiles/{profile}/rules/{hostname}", 1),
            ("GET /profiles", 2),
            ("GET /profiles/{profile}/groups", 1),
            ("GET /profiles/{profile}/rules", 1),
            ("GET /profiles/{profile}/rules/{group}", 1),
            ("OTHER", 1),
            ("POST /profiles/{profile}/groups", 1),
            ("POST /profiles/{profile}/rules", 1),
            ("PUT /profiles/{profile}/groups/{group}", 1),
            ("PUT /profiles/{profile}/rules", 1),
        ]),
        rate_limited: 0,
        faults: 0,
        // One request after another.
        peak_in_flight: 1,
    };
    assert_eq!(over_http, expected);
    assert_eq!(api.emulator.stats(), expected);
    let reset = api
        .client
        .post(api.url("/_emulator/reset-stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(api.emulator.stats(), Stats::default());
    api.get("/profiles").await;
    assert_eq!(api.emulator.stats().total, 1);
    api.emulator.reset_stats();
    assert_eq!(api.emulator.stats().total, 0);
}

#[tokio::test]
async fn admin_endpoints_bypass_auth_rate_limit_and_faults() {
    let api = start(EmulatorConfig {
        rps: Some(0.01),
        burst: 1,
        fail_rate: 1.0,
        ..EmulatorConfig::default()
    })
    .await;
    for _ in 0..5 {
        let response = api.raw_get("/_emulator/dump").await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(api.emulator.stats().total, 0);
}
