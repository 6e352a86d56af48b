//! A MODEL of the historic tool's strategy, for comparison only (not its code): per profile, list
//! the folders, delete every managed folder, create each one again, and re-push all of its rules in
//! batches of 500 with 3 concurrent workers, with no diff. Overlaps are dropped first-folder-wins
//! before pushing, as ours does, so both end in the same state. The old tool's fixed 60 s wait
//! between phases is NOT modelled (it would dominate every figure).

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;

use super::data::{effective, EffectiveFolder, ProfileLists};
use super::error::BenchError;
use super::runner::TOKEN;

const BATCH: usize = 500;
const WORKERS: usize = 3;
const MAX_ATTEMPTS: usize = 20;

/// Syncs every profile the old way; returns the wall time.
pub fn sync(base_url: &str, profiles: &[ProfileLists]) -> Result<Duration, BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| BenchError::io("tokio runtime", e))?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    runtime.block_on(async {
        for profile in profiles {
            sync_profile(&client, base_url, &profile.id, &effective(profile)).await?;
        }
        Ok::<_, BenchError>(())
    })?;
    Ok(started.elapsed())
}

async fn sync_profile(
    client: &reqwest::Client,
    base: &str,
    profile: &str,
    folders: &[EffectiveFolder],
) -> Result<(), BenchError> {
    let groups_url = format!("{base}/profiles/{profile}/groups");
    let listing = send(client.get(&groups_url), &groups_url).await?;
    let existing = listing["body"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for group in existing {
        let name = group["group"].as_str().unwrap_or_default();
        if folders.iter().any(|folder| folder.name == name) {
            let url = format!("{groups_url}/{}", group["PK"]);
            send(client.delete(&url), &url).await?;
        }
    }
    let mut batches = Vec::new();
    for folder in folders {
        let pk = create_folder(client, &groups_url, folder).await?;
        batches.extend(folder_batches(pk, folder));
    }
    let rules_url = format!("{base}/profiles/{profile}/rules");
    stream::iter(batches)
        .map(|form| send(client.post(&rules_url).form(&form), &rules_url))
        .buffer_unordered(WORKERS)
        .try_collect::<Vec<Value>>()
        .await?;
    Ok(())
}

async fn create_folder(
    client: &reqwest::Client,
    groups_url: &str,
    folder: &EffectiveFolder,
) -> Result<u64, BenchError> {
    let mut form = vec![
        ("name", folder.name.clone()),
        ("status", folder.action.status.to_string()),
    ];
    if let Some(kind) = folder.action.kind {
        form.push(("do", kind.to_string()));
    }
    let answer = send(client.post(groups_url).form(&form), groups_url).await?;
    answer["body"]["groups"][0]["PK"]
        .as_u64()
        .ok_or_else(|| BenchError::Failed(format!("{groups_url}: no PK in the answer: {answer}")))
}

/// Form bodies of at most 500 hostnames, grouped by action, scalar fields first.
fn folder_batches(pk: u64, folder: &EffectiveFolder) -> Vec<Vec<(&'static str, String)>> {
    let mut by_action: std::collections::BTreeMap<_, Vec<&str>> = std::collections::BTreeMap::new();
    for (host, act) in &folder.rules {
        by_action.entry(*act).or_default().push(host.as_str());
    }
    let mut batches = Vec::new();
    for (act, hosts) in by_action {
        for chunk in hosts.chunks(BATCH) {
            let mut form = vec![
                ("do", act.kind.to_string()),
                ("status", act.status.to_string()),
                ("group", pk.to_string()),
            ];
            form.extend(chunk.iter().map(|host| ("hostnames[]", host.to_string())));
            batches.push(form);
        }
    }
    batches
}

/// Sends once, and again after `Retry-After` while the answer is 429 (as the old tool's HTTP
/// library did); any other failure ends the sync.
async fn send(request: reqwest::RequestBuilder, url: &str) -> Result<Value, BenchError> {
    let http = |source| BenchError::Http {
        url: url.to_string(),
        source,
    };
    let request = request.bearer_auth(TOKEN);
    for _ in 0..MAX_ATTEMPTS {
        let attempt = request
            .try_clone()
            .ok_or_else(|| BenchError::Failed(format!("{url}: body cannot be resent")))?;
        let response = attempt.send().await.map_err(http)?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(retry_after(&response)).await;
            continue;
        }
        let body: Value = response.json().await.map_err(http)?;
        if status.is_success() && body["success"] == Value::Bool(true) {
            return Ok(body);
        }
        return Err(BenchError::Failed(format!(
            "{url}: HTTP {status}: {}",
            body["error"]
        )));
    }
    Err(BenchError::Failed(format!(
        "{url}: still 429 after {MAX_ATTEMPTS} attempts"
    )))
}

fn retry_after(response: &reqwest::Response) -> Duration {
    let seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds)
}
