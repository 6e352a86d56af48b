//! List fetches survive hiccups: 429/5xx (with `Retry-After`), timeouts and connection resets are
//! retried with the API client's policy; 404, 403 and a body that does not parse are not. The real
//! binary against the emulator's `/_lists/` server (and a raw TCP server for resets). And refresh's
//! first read overlaps a list that waits.

use crate::apply_support;

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use controld_emulator::{Emulator, EmulatorConfig};
use tempfile::TempDir;

use apply_support::{stderr, TOKEN};

struct Setup {
    dir: TempDir,
    _lists: TempDir,
    emulator: Emulator,
}

impl Setup {
    /// Each list answers 503 (`Retry-After: 0`) to its first `unavailable` requests.
    fn start(unavailable: u32) -> Self {
        Self::start_with(unavailable, 0, Duration::ZERO)
    }

    /// Lists answer 503 with `Retry-After: retry_after` to their first `unavailable` requests; API
    /// requests take `latency`.
    fn start_with(unavailable: u32, retry_after: u64, latency: Duration) -> Self {
        let lists = TempDir::new().unwrap();
        std::fs::write(lists.path().join("ads.txt"), "ads.example.com\n").unwrap();
        std::fs::write(lists.path().join("bad.json"), "{\"rules\": [").unwrap();
        let emulator = Emulator::start_background(EmulatorConfig {
            token: TOKEN.into(),
            serve_dir: Some(lists.path().to_path_buf()),
            lists_unavailable: unavailable,
            lists_retry_after: retry_after,
            latency,
            ..EmulatorConfig::default()
        })
        .unwrap();
        Self {
            dir: TempDir::new().unwrap(),
            _lists: lists,
            emulator,
        }
    }

    fn list_url(&self, name: &str) -> String {
        format!("{}/_lists/{name}", self.emulator.url())
    }

    fn write_config(&self, sources: &str, url: &str) {
        let text = format!(
            "[sources]\n{sources}\n\n[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n\
             [folder.ads]\nurl = \"{url}\"\nname = \"Ads\"\naction = \"block\"\n"
        );
        std::fs::write(self.dir.path().join("ctrld-sync.toml"), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        apply_support::run_in(self.dir.path(), &self.emulator.url(), args)
    }

    fn requests(&self, name: &str) -> u32 {
        self.emulator
            .list_requests()
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}

#[test]
fn a_list_that_answers_503_twice_is_fetched_on_the_third_try_and_counted() {
    let setup = Setup::start(2);
    setup.write_config("", &setup.list_url("ads.txt"));
    let output = setup.run(&["apply", "--report", "report.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(setup.requests("ads.txt"), 3);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("bytes downloaded, 2 retries"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(setup.dir.path().join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["sources"]["retries"], 2);
    let dump = setup.emulator.dump();
    assert_eq!(dump.profiles["p1"].folders[0].rules.len(), 1);
}

/// Refresh's `GET /groups` goes out as the run starts, while a list waits out its `Retry-After`:
/// by the list's first retry (a second after its first 503) the emulator has received the read,
/// where a refresh that waited for the sources would send it only after the list's third answer.
/// Asserted on the order the emulator sees, not on the stages' times.
#[test]
fn the_first_refresh_read_overlaps_a_slow_source() {
    let setup = Setup::start_with(2, 1, Duration::ZERO);
    setup.write_config("", &setup.list_url("ads.txt"));
    let url = setup.emulator.url();
    let mut child = apply_support::spawn_in(setup.dir.path(), &url, &["-q", "apply"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while setup.requests("ads.txt") < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let reads = setup.emulator.stats().by_route;
    let status = child.wait().unwrap();
    assert_eq!(setup.requests("ads.txt"), 3, "two 503s, then the list");
    assert_eq!(
        reads.get("GET /profiles/{profile}/groups"),
        Some(&1),
        "the folders were read before the list's first retry: {reads:?}"
    );
    assert_eq!(status.code(), Some(0));
}

#[test]
fn retries_are_bounded_and_the_error_says_how_many_attempts() {
    let setup = Setup::start(100);
    let url = setup.list_url("ads.txt");
    setup.write_config("retries = 2", &url);
    let output = setup.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains(&url), "{message}");
    assert!(
        message.contains("HTTP 503 Service Unavailable (gave up after 3 attempts)"),
        "{message}"
    );
    assert_eq!(setup.requests("ads.txt"), 3);
}

#[test]
fn a_404_or_a_body_that_does_not_parse_is_not_retried() {
    let setup = Setup::start(0);
    setup.write_config("", &setup.list_url("gone.txt"));
    let output = setup.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("HTTP 404"), "{}", stderr(&output));
    assert_eq!(setup.requests("gone.txt"), 1);

    setup.write_config("", &setup.list_url("bad.json"));
    let output = setup.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(setup.requests("bad.json"), 1, "{}", stderr(&output));
}

#[test]
fn a_403_is_not_retried() {
    let server = OneShotServer::start(|_| {
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
    });
    let setup = Setup::start(0);
    setup.write_config("", &server.url());
    let output = setup.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("HTTP 403"), "{}", stderr(&output));
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_connection_reset_is_retried() {
    // The first connection is closed without an answer; the next ones are served.
    let server = OneShotServer::start(|n| {
        match n {
        0 => Vec::new(),
        _ => b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 16\r\nconnection: close\r\n\r\nads.example.com\n".to_vec(),
    }
    });
    let setup = Setup::start(0);
    setup.write_config("", &server.url());
    let output = setup.run(&["-v", "plan"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.connections(), 2);
    assert!(stderr(&output).contains("1 retries"), "{}", stderr(&output));
}

/// A raw HTTP/1.1 server on loopback: connection `n` (from 0) is answered `respond(n)` and closed.
struct OneShotServer {
    addr: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl OneShotServer {
    fn start(respond: fn(usize) -> Vec<u8>) -> Self {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let n = counter.fetch_add(1, Ordering::SeqCst);
                apply_support::read_http_head(&mut stream);
                let _ = stream.write_all(&respond(n));
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        Self { addr, connections }
    }

    fn url(&self) -> String {
        format!("http://{}/list.txt", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
