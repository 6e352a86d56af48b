//! The `controld-emulator` binary: first stdout line, flags, and serving until killed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_address_first_and_serves_the_configured_profiles() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_controld-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--token",
            "T",
            "--profiles",
            "a,b",
        ])
        .args(["--latency-ms", "1", "--seed", "3", "--max-rules", "50"])
        .args(["--folder-pks", "global-counter"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = first_line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let client = reqwest::Client::new();
    let body: serde_json::Value = client
        .get(format!("{url}/profiles"))
        .bearer_auth("T")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = body["body"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|profile| profile["PK"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    let wrong = client
        .get(format!("{url}/profiles"))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400, "--token replaces the default token");
    let mut pks = Vec::new();
    for profile in ["a", "b"] {
        let created: serde_json::Value = client
            .post(format!("{url}/profiles/{profile}/groups"))
            .bearer_auth("T")
            .form(&[("name", "Ads")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pks.push(created["body"]["groups"][0]["PK"].as_u64().unwrap());
    }
    assert_eq!(
        pks,
        [1, 2],
        "--folder-pks global-counter numbers across profiles"
    );
    drop(child);
}

/// Starts the binary with `args`; returns it (killed on drop) and its URL.
async fn spawn(args: &[&str]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_controld-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = first_line.trim_end().strip_prefix("listening on ").unwrap();
    (child, url.to_string())
}

#[tokio::test]
async fn binary_takes_the_settings_knobs() {
    let (child, url) = spawn(&[
        "--option-repeat",
        "rejected",
        "--option-updated",
        "never",
        "--option-values",
        "clamped",
        "--default-disable",
        "rejected",
    ])
    .await;
    let client = reqwest::Client::new();
    let put = |path: &str, pairs: &'static [(&'static str, &'static str)]| {
        client
            .put(format!("{url}{path}"))
            .bearer_auth("test-token")
            .form(pairs)
            .send()
    };
    let ttl = &[("status", "1"), ("value", "99999")];
    let first: serde_json::Value = put("/profiles/p1/options/ttl_blck", ttl)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["body"]["options"][0]["value"], "3600", "clamped");
    let again = put("/profiles/p1/options/ttl_blck", ttl).await.unwrap();
    assert_eq!(again.status(), 400, "a repeat is rejected");
    let disable = put("/profiles/p1/default", &[("do", "0"), ("status", "0")])
        .await
        .unwrap();
    assert_eq!(disable.status(), 400, "status=0 is rejected");
    drop(child);
}
