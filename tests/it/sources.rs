//! Fetching sources over real loopback HTTP: the emulator's `/_lists/` static server for ETag,
//! 304 and sha256 reuse; a few raw TCP servers for what a well-behaved server never does
//! (stalling, chunked bodies over the cap, redirect loops).

use std::path::Path;
use std::sync::{Arc, Mutex};

use controld_emulator::{Emulator, EmulatorConfig};
use ctrld_sync::config::Config;
use ctrld_sync::model::{ActionKind, RuleAction};
use ctrld_sync::printer::Printer;
use ctrld_sync::source::{self, CachedSource, Desired, Origin, SourceCache, SourceError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ADS: &str = r#"{"group": {"group": "Ads", "action": {"do": 0, "status": 1}},
 "rules": [{"PK": "ads.example.com", "action": {"do": 0, "status": 1}},
           {"PK": "ok.example.com", "action": {"do": 1, "status": 1}}]}"#;

struct Lists {
    dir: tempfile::TempDir,
    emulator: Emulator,
}

impl Lists {
    fn start() -> Lists {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ads.json"), ADS).unwrap();
        std::fs::write(
            dir.path().join("hosts.txt"),
            "0.0.0.0 a.example b.example\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("page.html"),
            "<html><body>sign in</body></html>",
        )
        .unwrap();
        let emulator = Emulator::start_background(EmulatorConfig {
            serve_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
        Lists { dir, emulator }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/_lists/{name}", self.emulator.url())
    }

    fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).unwrap();
    }
}

fn config(text: &str) -> Config {
    Config::from_str(text, Path::new("ctrld-sync.toml")).unwrap()
}

fn one_folder(url: &str, extra: &str) -> Config {
    config(&format!(
        "[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n[folder.ads]\nurl = \"{url}\"\n{extra}\n"
    ))
}

async fn load(config: &Config, cache: &SourceCache) -> Result<Desired, SourceError> {
    source::load_desired(config, &[], cache, &Printer::silent()).await
}

fn cache_of(desired: &Desired) -> SourceCache {
    let mut cache = SourceCache::default();
    for folder in desired.profiles.iter().flat_map(|p| &p.folders) {
        cache.insert(&folder.source.fingerprint, CachedSource::from(folder));
    }
    cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_fetch_parses_and_records_validators() {
    let lists = Lists::start();
    let config = one_folder(&lists.url("ads.json"), "");
    let desired = load(&config, &SourceCache::default()).await.unwrap();
    let folder = &desired.profiles[0].folders[0];
    assert_eq!(folder.name, "Ads");
    assert_eq!(folder.rules["ads.example.com"], RuleAction::block());
    assert_eq!(folder.rules["ok.example.com"], RuleAction::allow());
    assert!(folder.source.etag.is_some(), "{:?}", folder.source);
    assert!(folder.source.last_modified.is_some());
    assert_eq!(folder.source.sha256.len(), 64);
    assert_eq!(folder.source.fingerprint, config.folders[0].fingerprint);
    assert_eq!(desired.report.fetched, 1);
    assert_eq!(desired.report.bytes_downloaded, ADS.len() as u64);
    assert_eq!(desired.report.folders[0].origin, Origin::Fetched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_source_answers_304_and_is_not_parsed() {
    let lists = Lists::start();
    let config = one_folder(&lists.url("ads.json"), "");
    let first = load(&config, &SourceCache::default()).await.unwrap();
    let second = load(&config, &cache_of(&first)).await.unwrap();
    assert_eq!(second.report.not_modified, 1);
    assert_eq!(second.report.fetched, 0);
    assert_eq!(second.report.bytes_downloaded, 0);
    assert_eq!(second.report.folders[0].origin, Origin::NotModified);
    assert_eq!(second.profiles, first.profiles);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_parse_is_reused_only_when_the_rules_come_from_it() {
    let lists = Lists::start();
    let config = one_folder(&lists.url("ads.json"), "");
    let first = load(&config, &SourceCache::default()).await.unwrap();
    // A cache that says so, but with rules the source does not have: reuse must show them.
    let mut cache = SourceCache::default();
    let mut cached = CachedSource::from(&first.profiles[0].folders[0]);
    cached
        .rules
        .insert("cached-only.example".parse().unwrap(), RuleAction::block());
    let fingerprint = cached.record.fingerprint.clone();
    cache.insert(&fingerprint, cached);
    let second = load(&config, &cache).await.unwrap();
    assert!(second.profiles[0].folders[0]
        .rules
        .contains_key("cached-only.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_sha256_without_validators_skips_the_parse() {
    let lists = Lists::start();
    let config = one_folder(&lists.url("ads.json"), "");
    let first = load(&config, &SourceCache::default()).await.unwrap();
    let mut cached = CachedSource::from(&first.profiles[0].folders[0]);
    cached.record.etag = None;
    cached.record.last_modified = None;
    let mut cache = SourceCache::default();
    cache.insert(&config.folders[0].fingerprint, cached);
    let second = load(&config, &cache).await.unwrap();
    assert_eq!(second.report.unchanged_by_hash, 1);
    assert_eq!(second.report.bytes_downloaded, ADS.len() as u64);
    assert_eq!(second.report.folders[0].origin, Origin::UnchangedByHash);
    // The new record carries the validators the server sent this time.
    assert!(second.profiles[0].folders[0].source.etag.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_source_is_downloaded_and_parsed_again() {
    let lists = Lists::start();
    let config = one_folder(&lists.url("ads.json"), "");
    let first = load(&config, &SourceCache::default()).await.unwrap();
    lists.write(
        "ads.json",
        &ADS.replace("ads.example.com", "new.example.com"),
    );
    let second = load(&config, &cache_of(&first)).await.unwrap();
    assert_eq!(second.report.fetched, 1);
    let folder = &second.profiles[0].folders[0];
    assert!(folder.rules.contains_key("new.example.com"));
    assert!(!folder.rules.contains_key("ads.example.com"));
    assert_ne!(
        folder.source.sha256,
        first.profiles[0].folders[0].source.sha256
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_folder_settings_reparse_even_when_the_source_is_unchanged() {
    let lists = Lists::start();
    let before = one_folder(&lists.url("ads.json"), "");
    let first = load(&before, &SourceCache::default()).await.unwrap();
    let after = one_folder(&lists.url("ads.json"), "name = \"Renamed\"");
    let second = load(&after, &cache_of(&first)).await.unwrap();
    assert_eq!(second.report.fetched, 1);
    assert_eq!(second.profiles[0].folders[0].name, "Renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_shared_by_folders_and_profiles_is_fetched_once() {
    let server = RawServer::start(|_| ok_response("text/plain", "0.0.0.0 a.example\n")).await;
    let url = server.url("/list.txt");
    let config = config(&format!(
        "[[profile]]\nid = \"p1\"\nfolders = [\"block\", \"allow\"]\n\n\
         [[profile]]\nid = \"p2\"\nfolders = [\"block\"]\n\n\
         [folder.block]\nurl = \"{url}\"\nname = \"Block\"\n\n\
         [folder.allow]\nurl = \"{url}\"\nname = \"Allow\"\naction = \"allow\"\n"
    ));
    let desired = load(&config, &SourceCache::default()).await.unwrap();
    assert_eq!(server.requests().len(), 1);
    assert_eq!(desired.report.fetched, 1);
    assert_eq!(desired.profiles.len(), 2);
    let allow = &desired.profiles[0].folders[1];
    assert_eq!(allow.rules["a.example"].kind, ActionKind::Allow);
    assert_eq!(
        desired.profiles[1].folders[0].rules["a.example"].kind,
        ActionKind::Block
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_our_user_agent_and_validators() {
    let server = RawServer::start(|_| ok_response("text/plain", "a.example\n")).await;
    let config = one_folder(&server.url("/l.txt"), "name = \"L\"");
    let first = load(&config, &SourceCache::default()).await.unwrap();
    let mut cached = CachedSource::from(&first.profiles[0].folders[0]);
    cached.record.etag = Some("\"abc\"".into());
    let mut cache = SourceCache::default();
    cache.insert(&config.folders[0].fingerprint, cached);
    load(&config, &cache).await.unwrap();
    let requests = server.requests();
    let user_agent = format!("user-agent: ctrld-sync/{}", env!("CARGO_PKG_VERSION"));
    assert!(
        requests[0].to_ascii_lowercase().contains(&user_agent),
        "{}",
        requests[0]
    );
    assert!(!requests[0].to_ascii_lowercase().contains("if-none-match"));
    assert!(
        requests[1]
            .to_ascii_lowercase()
            .contains("if-none-match: \"abc\""),
        "{}",
        requests[1]
    );
}

async fn error_lines(config: &Config) -> String {
    load(config, &SourceCache::default())
        .await
        .unwrap_err()
        .lines()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_names_the_url() {
    let lists = Lists::start();
    let url = lists.url("missing.json");
    let message = error_lines(&one_folder(&url, "")).await;
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("404"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_where_json_was_expected_names_the_url() {
    let lists = Lists::start();
    let url = lists.url("page.html");
    let message = error_lines(&one_folder(&url, "format = \"controld\"")).await;
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("text/html"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_cap_is_refused() {
    let lists = Lists::start();
    let config = config(&format!(
        "[sources]\nmax_bytes = 20\n\n[[profile]]\nid = \"p1\"\nfolders = [\"h\"]\n\n\
         [folder.h]\nurl = \"{}\"\nname = \"H\"\n",
        lists.url("hosts.txt")
    ));
    let message = error_lines(&config).await;
    assert!(message.contains("20-byte limit"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_is_cut_off_while_streaming() {
    // No Content-Length: only counting while reading can stop it.
    let server = RawServer::start(|_| {
        let mut response = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
        for _ in 0..40 {
            let chunk = "0.0.0.0 ads.example.com\n".repeat(40);
            response.extend(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
        }
        response.extend(b"0\r\n\r\n");
        response
    })
    .await;
    let config = config(&format!(
        "[sources]\nmax_bytes = 4096\n\n[[profile]]\nid = \"p1\"\nfolders = [\"h\"]\n\n\
         [folder.h]\nurl = \"{}\"\nname = \"H\"\n",
        server.url("/big.txt")
    ));
    let message = error_lines(&config).await;
    assert!(message.contains("4096-byte limit"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_times_out_naming_the_url() {
    let server = RawServer::stalling().await;
    let url = server.url("/slow.txt");
    let config = config(&format!(
        "[sources]\ntimeout = 0.3\nretries = 1\n\n[[profile]]\nid = \"p1\"\nfolders = [\"s\"]\n\n\
         [folder.s]\nurl = \"{url}\"\nname = \"S\"\n"
    ));
    let message = error_lines(&config).await;
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("timed out"), "{message}");
    assert!(message.contains("gave up after 2 attempts"), "{message}");
    assert_eq!(server.requests().len(), 2, "a timeout is retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_stops_after_five() {
    let server = RawServer::start(|_| {
        b"HTTP/1.1 302 Found\r\nlocation: /again\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .to_vec()
    })
    .await;
    let message = error_lines(&one_folder(&server.url("/start"), "name = \"R\"")).await;
    assert!(message.contains("more than 5 redirects"), "{message}");
    assert_eq!(server.requests().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failing_source_is_reported() {
    let lists = Lists::start();
    let config = config(&format!(
        "[[profile]]\nid = \"p1\"\nfolders = [\"a\", \"b\"]\n\n\
         [folder.a]\nurl = \"{}\"\n\n[folder.b]\nurl = \"{}\"\n",
        lists.url("gone-a.json"),
        lists.url("gone-b.json")
    ));
    let error = load(&config, &SourceCache::default()).await.unwrap_err();
    assert_eq!(error.lines().len(), 2, "{error}");
}

// ---- a raw HTTP/1.1 server for misbehaviour ------------------------------------------------------

struct RawServer {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    /// Answers every request with `respond(request head)`, then closes the connection.
    async fn start(respond: fn(&str) -> Vec<u8>) -> RawServer {
        Self::serve(Some(respond)).await
    }

    /// Reads requests and never answers.
    async fn stalling() -> RawServer {
        Self::serve(None).await
    }

    async fn serve(respond: Option<fn(&str) -> Vec<u8>>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let head = read_head(&mut socket).await;
                    seen.lock().unwrap().push(head.clone());
                    match respond {
                        Some(respond) => {
                            let _ = socket.write_all(&respond(&head)).await;
                            let _ = socket.shutdown().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                });
            }
        });
        RawServer { addr, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn ok_response(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
