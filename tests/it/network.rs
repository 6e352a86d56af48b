//! Corporate networks: TLS trusts the operating system's certificate store as well as the bundled
//! roots (a TLS-inspecting proxy's CA lives there), an unusable store is not fatal, and
//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are honoured for sources and the API.
//!
//! The store is pointed at a test CA with `SSL_CERT_FILE` (read in place of the system's store on
//! every platform), the proxy variables are set only in the spawned binary's environment.

use crate::apply_support;

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use apply_support::{read_http_head, stderr, FolderSpec, Setup};
use assert_cmd::Command;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tempfile::TempDir;

const LIST: &str = "ads.example.com\n";

/// Every variable that could route or trust differently than a test asks.
const NETWORK_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// An HTTPS server on 127.0.0.1 whose certificate the test CA signed; it answers every request
/// with [`LIST`].
struct TlsServer {
    port: u16,
}

impl TlsServer {
    fn start() -> Self {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(fixture("server.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let config = Arc::clone(&config);
                std::thread::spawn(move || serve_tls(stream, config));
            }
        });
        Self { port }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/list.txt", self.port)
    }
}

/// One connection: the handshake (which fails when the client does not trust the CA), one
/// request, the list.
fn serve_tls(stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let connection = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, stream);
    if read_http_head(&mut tls).is_empty() {
        return;
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{LIST}",
        LIST.len()
    );
    let _ = tls.write_all(response.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// A forwarding proxy on 127.0.0.1 recording the first line of each connection's first request:
/// `CONNECT host:port` is tunnelled, `GET http://host:port/...` forwarded as it is.
struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let record = Arc::clone(&record);
                std::thread::spawn(move || forward(stream, &record));
            }
        });
        Self { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn forward(mut client: TcpStream, record: &Mutex<Vec<String>>) {
    let head = read_http_head(&mut client);
    let line = head.lines().next().unwrap_or_default().to_string();
    record.lock().unwrap().push(line.clone());
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let authority = match method {
        "CONNECT" => target.to_string(),
        _ => target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
            .to_string(),
    };
    let Ok(mut upstream) = TcpStream::connect(authority) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let _ = match method {
        "CONNECT" => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        _ => upstream.write_all(head.as_bytes()),
    };
    pipe(client, upstream);
}

/// Copies both ways until each side is done.
fn pipe(client: TcpStream, upstream: TcpStream) {
    let (mut client_in, mut upstream_out) =
        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut upstream_out);
        let _ = upstream_out.shutdown(Shutdown::Write);
    });
    let (mut upstream_in, mut client_out) = (upstream, client);
    let _ = std::io::copy(&mut upstream_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// `validate --fetch` of a config whose one folder reads `url`, with `env` set (and no other
/// network variable).
fn validate_fetch(url: &str, env: &[(&str, String)]) -> Output {
    let dir = TempDir::new().unwrap();
    let config = format!(
        "[sources]\nretries = 0\n\n[[profile]]\nid = \"p1\"\nfolders = [\"ads\"]\n\n\
         [folder.ads]\nurl = \"{url}\"\nformat = \"domains\"\nname = \"Ads\"\naction = \"block\"\n"
    );
    std::fs::write(dir.path().join("ctrld-sync.toml"), config).unwrap();
    let mut command = Command::cargo_bin("ctrld-sync").unwrap();
    command.current_dir(dir.path()).args([
        "--no-progress",
        "--color",
        "never",
        "validate",
        "--fetch",
    ]);
    isolate(&mut command, env);
    command.output().unwrap()
}

fn isolate(command: &mut Command, env: &[(&str, String)]) {
    for variable in NETWORK_VARIABLES {
        command.env_remove(variable);
    }
    for (name, value) in env {
        command.env(name, value);
    }
}

fn trusting_the_test_ca() -> (&'static str, String) {
    ("SSL_CERT_FILE", fixture("ca.pem").display().to_string())
}

fn succeeded(output: &Output) -> bool {
    output.status.success()
}

#[test]
fn a_certificate_from_the_system_store_is_trusted() {
    let server = TlsServer::start();
    let trusted = validate_fetch(&server.url(), &[trusting_the_test_ca()]);
    assert!(succeeded(&trusted), "{}", stderr(&trusted));
    let stdout = String::from_utf8_lossy(&trusted.stdout);
    assert!(stdout.contains("rules:   block 1"), "{stdout}");
    // The same server, the test CA in no store: refused.
    let store = ("SSL_CERT_FILE", fixture("server.pem").display().to_string());
    let untrusted = validate_fetch(&server.url(), &[store]);
    assert_eq!(untrusted.status.code(), Some(1), "{}", stderr(&untrusted));
    assert!(
        stderr(&untrusted).contains("certificate"),
        "{}",
        stderr(&untrusted)
    );
}

#[test]
fn an_unusable_system_store_falls_back_to_the_bundled_roots() {
    let setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains(
            "ads",
            "Ads",
            "block",
            &["ads.example.com".to_string()],
        )],
    );
    let mut command = setup.command();
    let store = (
        "SSL_CERT_FILE",
        fixture("unusable-store.pem").display().to_string(),
    );
    isolate(&mut command, &[store]);
    let output = command.arg("plan").output().unwrap();
    assert!(succeeded(&output), "{}", stderr(&output));
}

#[test]
fn https_proxy_carries_the_requests_to_https_sources() {
    let server = TlsServer::start();
    let proxy = Proxy::start();
    let output = validate_fetch(
        &server.url(),
        &[trusting_the_test_ca(), ("HTTPS_PROXY", proxy.url())],
    );
    assert!(succeeded(&output), "{}", stderr(&output));
    assert_eq!(
        proxy.seen(),
        [format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port)]
    );
}

#[test]
fn http_proxy_carries_api_requests_unless_no_proxy_names_the_host() {
    let setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains(
            "ads",
            "Ads",
            "block",
            &["ads.example.com".to_string()],
        )],
    );
    let proxy = Proxy::start();
    let plan = |env: &[(&str, String)]| {
        let mut command = setup.command();
        isolate(&mut command, env);
        let output = command.arg("plan").output().unwrap();
        assert!(succeeded(&output), "{}", stderr(&output));
    };
    plan(&[("HTTP_PROXY", proxy.url())]);
    let groups = format!("GET {}/profiles/p1/groups HTTP/1.1", setup.emulator.url());
    assert_eq!(proxy.seen(), std::slice::from_ref(&groups));
    plan(&[
        ("HTTP_PROXY", proxy.url()),
        ("NO_PROXY", "127.0.0.1".to_string()),
    ]);
    assert_eq!(proxy.seen(), [groups], "NO_PROXY: straight to the API");
}
