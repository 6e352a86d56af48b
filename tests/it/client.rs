//! The API client against the real emulator over loopback HTTP.

use std::time::{Duration, Instant};

use controld_emulator::{Emulator, EmulatorConfig};
use ctrld_sync::controld::{
    ApiError, CallStats, Client, ClientConfig, RateCeiling, RemoteRule, RuleTarget, Token,
    INITIAL_RPS, MAX_HOSTNAMES_PER_REQUEST,
};
use ctrld_sync::model::{ActionKind, FolderAction, FolderPk, RuleAction};

const PROFILE: &str = "p1";

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start_background(config).expect("the emulator starts")
}

/// A client with fast retries and no ceiling (the adaptive pacing alone), so the emulator's
/// behaviour shows.
fn client_config(emulator: &Emulator, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(emulator.url().parse().unwrap(), Token::new(token));
    config.retry_base_delay = Duration::from_millis(5);
    config.retry_max_delay = Duration::from_millis(50);
    config.timeout = Duration::from_secs(10);
    config
}

fn client(emulator: &Emulator) -> Client {
    Client::new(client_config(emulator, "test-token")).unwrap()
}

fn hosts(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn hostnames_of(rules: &[RemoteRule]) -> Vec<&str> {
    let mut names: Vec<&str> = rules.iter().map(|rule| &*rule.hostname).collect();
    names.sort();
    names
}

/// The client's counts must be exactly the emulator's, route by route.
fn assert_same_counts(client: &CallStats, emulator: &Emulator) {
    let server = emulator.stats();
    assert_eq!(client.total, server.total, "total");
    assert_eq!(client.by_method, server.by_method, "by method");
    assert_eq!(client.by_endpoint, server.by_route, "by route");
    assert_eq!(client.rate_limited, server.rate_limited, "429s");
}

#[tokio::test]
async fn every_call_round_trips_and_counts_match_the_emulator() {
    let emulator = start(EmulatorConfig::default());
    let client = client(&emulator);

    let profiles = client.list_profiles().await.unwrap();
    assert!(profiles.iter().any(|profile| profile.id == PROFILE));

    let block = FolderAction::of(ActionKind::Block);
    let folder = client.create_folder(PROFILE, "Ads", &block).await.unwrap();
    assert_eq!((folder.name.as_str(), &folder.action), ("Ads", &block));
    let plain = client
        .create_folder(PROFILE, "No action", &FolderAction::none())
        .await
        .unwrap();
    assert_ne!(folder.pk, plain.pk);

    let ads = hosts(&["ads.example", "*.track.example", "pixel.example"]);
    let action = RuleAction::block();
    client
        .create_rules(PROFILE, Some(folder.pk), &action, &ads)
        .await
        .unwrap();
    let spoof = RuleAction {
        kind: ActionKind::Spoof,
        enabled: false,
        via: Some("10.0.0.1".into()),
        via_v6: None,
    };
    client
        .create_rules(PROFILE, None, &spoof, &hosts(&["nas.home.example"]))
        .await
        .unwrap();

    let in_folder = client.list_rules(PROFILE, Some(folder.pk)).await.unwrap();
    assert_eq!(
        hostnames_of(&in_folder),
        ["*.track.example", "ads.example", "pixel.example"]
    );
    assert!(in_folder
        .iter()
        .all(|rule| rule.folder == Some(folder.pk) && rule.action == action));
    let root = client.list_rules(PROFILE, None).await.unwrap();
    assert_eq!(root.len(), 1);
    assert_eq!((root[0].folder, &root[0].action), (None, &spoof));

    // Move one rule to the root as an allow rule, and one into the other folder.
    let allow = RuleAction::allow();
    let moved = hosts(&["pixel.example"]);
    client
        .update_rules(PROFILE, Some(RuleTarget::Root), &allow, &moved)
        .await
        .unwrap();
    let to_plain = Some(RuleTarget::Folder(plain.pk));
    client
        .update_rules(PROFILE, to_plain, &action, &hosts(&["ads.example"]))
        .await
        .unwrap();
    let root = client.list_rules(PROFILE, None).await.unwrap();
    assert_eq!(hostnames_of(&root), ["nas.home.example", "pixel.example"]);
    let moved_rule = root
        .iter()
        .find(|r| &*r.hostname == "pixel.example")
        .unwrap();
    assert_eq!(moved_rule.action, allow);

    let allow_folder = FolderAction::of(ActionKind::Allow);
    client
        .update_folder(PROFILE, folder.pk, "Ads renamed", &allow_folder)
        .await
        .unwrap();
    let folders = client.list_folders(PROFILE).await.unwrap();
    let renamed = folders.iter().find(|f| f.pk == folder.pk).unwrap();
    assert_eq!(renamed.name, "Ads renamed");
    assert_eq!(renamed.action, allow_folder);
    assert_eq!(renamed.count, 1, "only *.track.example is left in it");
    let plain_now = folders.iter().find(|f| f.pk == plain.pk).unwrap();
    assert_eq!(
        plain_now.action.kind, None,
        "`do` omitted for a folder without action"
    );

    client
        .delete_rule(PROFILE, "*.track.example")
        .await
        .unwrap();
    assert!(client
        .list_rules(PROFILE, Some(folder.pk))
        .await
        .unwrap()
        .is_empty());
    client.delete_folder(PROFILE, plain.pk).await.unwrap();
    let folders = client.list_folders(PROFILE).await.unwrap();
    assert!(folders.iter().all(|f| f.pk != plain.pk));

    let stats = client.stats();
    assert_eq!(stats.total, 16);
    assert_eq!(
        stats.by_endpoint["GET /profiles/{profile}/rules/{group}"],
        2
    );
    assert_eq!(stats.retries, 0);
    assert_same_counts(&stats, &emulator);
}

#[tokio::test]
async fn a_wildcard_hostname_is_deleted_and_its_parent_kept() {
    let emulator = start(EmulatorConfig::default());
    let client = client(&emulator);
    let names = hosts(&["*.example.com", "example.com"]);
    client
        .create_rules(PROFILE, None, &RuleAction::block(), &names)
        .await
        .unwrap();
    client.delete_rule(PROFILE, "*.example.com").await.unwrap();
    let root = client.list_rules(PROFILE, None).await.unwrap();
    assert_eq!(hostnames_of(&root), ["example.com"]);
}

#[tokio::test]
async fn five_hundred_hostnames_go_in_one_request_and_501_are_refused() {
    let emulator = start(EmulatorConfig::default());
    let client = client(&emulator);
    let names: Vec<String> = (0..=MAX_HOSTNAMES_PER_REQUEST)
        .map(|n| format!("host{n}.example"))
        .collect();
    let error = client
        .create_rules(PROFILE, None, &RuleAction::block(), &names)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ApiError::TooManyHostnames {
            count: 501,
            max: 500,
            ..
        }
    ));
    assert_eq!(emulator.stats().total, 0, "nothing was sent");

    let five_hundred = &names[..MAX_HOSTNAMES_PER_REQUEST];
    client
        .create_rules(PROFILE, None, &RuleAction::block(), five_hundred)
        .await
        .unwrap();
    let root = client.list_rules(PROFILE, None).await.unwrap();
    assert_eq!(
        root.len(),
        500,
        "every hostname stored, none silently dropped"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_servers_retry_after() {
    let emulator = start(EmulatorConfig {
        rps: Some(1.0),
        burst: 1,
        ..EmulatorConfig::default()
    });
    let client = client(&emulator);
    client.list_folders(PROFILE).await.unwrap();
    let started = Instant::now();
    client.list_folders(PROFILE).await.unwrap();
    let waited = started.elapsed();

    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    let stats = client.stats();
    assert_eq!((stats.rate_limited, stats.retries), (1, 1));
    assert_eq!(stats.by_endpoint["GET /profiles/{profile}/groups"], 3);
    assert_same_counts(&stats, &emulator);
}

/// Two clients (as for two account tokens) under one `--max-rps 10`: ten starts a second
/// together, so eight calls span at least seven intervals. A lower bound, which a slow machine only
/// lengthens: a ceiling each would take three intervals, none about nothing.
#[tokio::test]
async fn one_ceiling_spaces_the_starts_of_every_client_sharing_it() {
    let emulator = start(EmulatorConfig::default());
    let ceiling = RateCeiling::new(10.0);
    let clients: Vec<Client> = (0..2)
        .map(|_| {
            let mut config = client_config(&emulator, "test-token");
            config.ceiling = ceiling.clone();
            Client::new(config).unwrap()
        })
        .collect();
    let started = Instant::now();
    let calls = (0..8).map(|n| clients[n % 2].list_folders(PROFILE));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let span = started.elapsed();
    assert!(span >= Duration::from_millis(700), "8 starts in {span:?}");
    assert_eq!(clients[0].stats().total + clients[1].stats().total, 8);
    assert_eq!(emulator.stats().total, 8);
}

#[tokio::test]
async fn adaptive_pacing_finds_the_servers_limit_with_few_429s() {
    let emulator = start(EmulatorConfig {
        rps: Some(20.0),
        burst: 5,
        ..EmulatorConfig::default()
    });
    let client = client(&emulator);
    let calls = (0..40).map(|_| client.list_folders(PROFILE));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let stats = client.stats();
    assert_same_counts(&stats, &emulator);
    assert_eq!(stats.total - stats.rate_limited, 40, "every call succeeded");
    // Unpaced, 4 in flight against 20/s with a burst of 5 answers 429 for most requests; the
    // controller backs off after the first and settles under the limit.
    assert!(
        stats.rate_limited <= 12,
        "{} answers were 429",
        stats.rate_limited
    );
    let rate = stats.final_rps.unwrap();
    assert!(rate < INITIAL_RPS, "the rate came down: {rate}");
    assert!(stats.request_seconds > 0.0 && stats.pacing_wait_seconds > 0.0);
}

#[tokio::test]
async fn a_rejected_token_is_named_without_showing_it() {
    let emulator = start(EmulatorConfig::default());
    let secret = "wrong-secret-token-value";
    let client = Client::new(client_config(&emulator, secret)).unwrap();
    let error = client.list_folders(PROFILE).await.unwrap_err();

    assert!(error.is_unauthorized(), "{error:?}");
    assert_eq!(error.code(), Some(40001));
    let text = error.to_string();
    assert!(
        text.contains("the API token was rejected (code 40001)"),
        "{text}"
    );
    assert!(text.contains("CTRLD_API_TOKEN"), "{text}");
    assert!(text.contains("/profiles/p1/groups"), "{text}");
    for shown in [text, format!("{error:?}"), format!("{client:?}")] {
        assert!(!shown.contains(secret), "token leaked: {shown}");
    }
    assert_eq!(emulator.stats().total, 1, "a 4xx is not retried");
}

#[tokio::test]
async fn client_errors_are_typed_by_code() {
    let emulator = start(EmulatorConfig::default());
    let client = client(&emulator);
    let names = hosts(&["dup.example"]);
    let block = RuleAction::block();
    client
        .create_rules(PROFILE, None, &block, &names)
        .await
        .unwrap();

    let duplicate = client
        .create_rules(PROFILE, None, &block, &names)
        .await
        .unwrap_err();
    assert!(duplicate.is_rule_exists(), "{duplicate}");
    assert_eq!(duplicate.code(), Some(40003));

    let missing = client
        .list_rules(PROFILE, Some(FolderPk::new(999_999)))
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");

    let redirect = RuleAction {
        via: Some("US-NYC".into()),
        ..RuleAction::new(ActionKind::Redirect)
    };
    let paid = client
        .create_rules(PROFILE, None, &redirect, &hosts(&["r.example"]))
        .await
        .unwrap_err();
    assert!(matches!(paid, ApiError::PaymentRequired { .. }), "{paid:?}");
    assert!(paid
        .to_string()
        .contains("REDIRECT rules need a paid Control D plan"));
    assert_eq!(client.stats().retries, 0);
    assert_same_counts(&client.stats(), &emulator);
}

#[tokio::test]
async fn the_rule_limit_is_recognised() {
    let emulator = start(EmulatorConfig {
        max_rules: 2,
        ..EmulatorConfig::default()
    });
    let client = client(&emulator);
    let names = hosts(&["a.example", "b.example", "c.example"]);
    let error = client
        .create_rules(PROFILE, None, &RuleAction::block(), &names)
        .await
        .unwrap_err();
    assert!(error.is_rule_limit(), "{error}");
    assert!(!error.is_rule_exists());
}

#[tokio::test]
async fn a_timed_out_read_is_retried_and_a_timed_out_post_is_ambiguous() {
    let emulator = start(EmulatorConfig {
        latency: Duration::from_millis(800),
        ..EmulatorConfig::default()
    });
    let mut config = client_config(&emulator, "test-token");
    config.timeout = Duration::from_millis(200);
    config.max_retries = 1;
    let client = Client::new(config).unwrap();

    let read = client.list_folders(PROFILE).await.unwrap_err();
    assert!(
        matches!(read, ApiError::Timeout { attempts: 2, .. }),
        "{read:?}"
    );

    let write = client
        .create_rules(PROFILE, None, &RuleAction::block(), &hosts(&["t.example"]))
        .await
        .unwrap_err();
    assert!(write.is_ambiguous(), "{write:?}");
    assert!(write.to_string().contains("outcome unknown"), "{write}");
    let stats = client.stats();
    assert_eq!(stats.by_endpoint["GET /profiles/{profile}/groups"], 2);
    assert_eq!(stats.by_endpoint["POST /profiles/{profile}/rules"], 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = ClientConfig::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        Token::new("test-token"),
    );
    config.retry_base_delay = Duration::from_millis(1);
    config.max_retries = 2;
    let client = Client::new(config).unwrap();
    let error = client
        .create_rules(PROFILE, None, &RuleAction::block(), &hosts(&["c.example"]))
        .await
        .unwrap_err();
    // Nothing reached a server, so repeating the POST was safe and the outcome is known.
    assert!(
        matches!(error, ApiError::Connection { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(client.stats().retries, 2);
}

/// Fault injection is seeded: these seeds were picked for the fault sequence each test needs,
/// and every test checks that the faults it relies on did happen.
fn faulty(fail_rate: f64, seed: u64) -> Emulator {
    start(EmulatorConfig {
        fail_rate,
        seed,
        ..EmulatorConfig::default()
    })
}

#[tokio::test]
async fn a_read_with_server_errors_is_retried_until_it_succeeds() {
    let emulator = faulty(0.5, 1);
    let client = client(&emulator);
    client.list_folders(PROFILE).await.unwrap();

    let stats = client.stats();
    assert_eq!(
        emulator.stats().faults,
        3,
        "seed 1 faults the first three reads"
    );
    assert_eq!((stats.total, stats.retries), (4, 3));
    assert_same_counts(&stats, &emulator);
}

#[tokio::test]
async fn a_post_whose_answer_is_lost_is_ambiguous_and_not_repeated() {
    // Seed 0 loses the answer after the change (HTTP 502), seed 5 fails before it (HTTP 500):
    // the client cannot tell them apart, so both are ambiguous and neither is repeated.
    for (seed, stored) in [(0, 1), (5, 0)] {
        let emulator = faulty(1.0, seed);
        let client = client(&emulator);
        let error = client
            .create_rules(
                PROFILE,
                None,
                &RuleAction::block(),
                &hosts(&["lost.example"]),
            )
            .await
            .unwrap_err();

        assert!(error.is_ambiguous(), "seed {seed}: {error:?}");
        assert!(error.to_string().contains("outcome unknown"), "{error}");
        assert!(error.to_string().contains("not repeated"), "{error}");
        assert_eq!(
            emulator.stats().by_method["POST"],
            1,
            "seed {seed}: one POST"
        );
        assert_eq!(client.stats().retries, 0);
        assert_eq!(
            emulator.dump().profiles[PROFILE].root.len(),
            stored,
            "seed {seed}"
        );
    }
}

#[tokio::test]
async fn a_folder_delete_whose_answer_was_lost_succeeds_on_the_404_of_its_retry() {
    let emulator = start(EmulatorConfig {
        seed: 2,
        ..EmulatorConfig::default()
    });
    let client = client(&emulator);
    let folder = client
        .create_folder(PROFILE, "Doomed", &FolderAction::none())
        .await
        .unwrap();
    // Seed 2: the DELETE is applied and its answer lost (502); the retry then finds no folder.
    emulator.set_fail_rate(0.5);
    client.delete_folder(PROFILE, folder.pk).await.unwrap();

    let route = "DELETE /profiles/{profile}/groups/{group}";
    assert_eq!(client.stats().by_endpoint[route], 2);
    assert_eq!(emulator.stats().faults, 1);
    assert!(emulator.dump().profiles[PROFILE].folders.is_empty());
}

/// A one-shot HTTP server on loopback that answers every request with `response` (raw bytes):
/// for answers the emulator never gives (redirects, huge `Retry-After`, huge bodies).
async fn raw_server(response: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    url
}

fn raw_client(url: &str) -> Client {
    let mut config = ClientConfig::new(url.parse().unwrap(), Token::new("t"));
    config.retry_base_delay = Duration::from_millis(5);
    Client::new(config).unwrap()
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_its_location_and_is_not_followed() {
    let url = raw_server(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.example/profiles\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let client = raw_client(&url);
    let error = client
        .create_rules(PROFILE, None, &RuleAction::block(), &hosts(&["a.example"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::Redirected { status: 307, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("https://elsewhere.example/profiles"),
        "{text}"
    );
    assert_eq!(client.stats().total, 1, "neither followed nor retried");
}

#[tokio::test]
async fn a_retry_after_past_five_minutes_stops_with_a_clear_error() {
    let url = raw_server(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n",
    )
    .await;
    let client = raw_client(&url);
    let error = client.list_folders(PROFILE).await.unwrap_err();
    assert!(
        matches!(error, ApiError::WaitTooLong { seconds: 3600, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("asked to wait 3600 seconds"),
        "{error}"
    );
    assert_eq!(client.stats().total, 1, "not retried");
}

#[tokio::test]
async fn an_answer_over_64_mib_is_refused_unread() {
    let url = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 80000000\r\n\
         Connection: close\r\n\r\n{\"body\":",
    )
    .await;
    let client = raw_client(&url);
    let error = client.list_folders(PROFILE).await.unwrap_err();
    assert!(error.to_string().contains("larger than 64 MiB"), "{error}");
}
