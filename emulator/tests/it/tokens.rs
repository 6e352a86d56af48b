//! Several API tokens: each accepted, and with `rate_limit_per_token` each drains its own bucket.

use crate::common;

use common::{start, TOKEN};
use controld_emulator::EmulatorConfig;
use reqwest::Method;

fn config(rate_limit_per_token: bool) -> EmulatorConfig {
    EmulatorConfig {
        extra_tokens: vec!["second".to_string()],
        rate_limit_per_token,
        rps: Some(0.01),
        burst: 2,
        ..EmulatorConfig::default()
    }
}

async fn status(api: &common::Api, token: Option<&str>) -> u16 {
    api.request(Method::GET, "/profiles", None, None, token)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_extra_token_is_accepted_and_a_stranger_is_not() {
    let api = start(config(false)).await;
    assert_eq!(status(&api, Some("second")).await, 200);
    let refused = api
        .request(Method::GET, "/profiles", None, None, Some("stranger"))
        .await;
    common::answer(refused).await.assert_error(40001);
}

#[tokio::test]
async fn by_default_every_token_drains_one_bucket() {
    let api = start(config(false)).await;
    assert_eq!(status(&api, Some(TOKEN)).await, 200);
    assert_eq!(status(&api, Some("second")).await, 200);
    assert_eq!(status(&api, Some(TOKEN)).await, 429);
    assert_eq!(status(&api, Some("second")).await, 429);
    assert_eq!(api.emulator.stats().rate_limited, 2);
}

#[tokio::test]
async fn per_token_each_token_has_its_own_bucket() {
    let api = start(config(true)).await;
    for _ in 0..2 {
        assert_eq!(status(&api, Some(TOKEN)).await, 200);
    }
    assert_eq!(status(&api, Some(TOKEN)).await, 429);
    for _ in 0..2 {
        assert_eq!(status(&api, Some("second")).await, 200);
    }
    assert_eq!(status(&api, Some("second")).await, 429);
    // Requests without an accepted token share one more bucket (they are refused after it).
    assert_eq!(status(&api, None).await, 400);
    assert_eq!(status(&api, Some("stranger")).await, 400);
    assert_eq!(status(&api, None).await, 429);
    assert_eq!(api.emulator.stats().rate_limited, 3);
}
