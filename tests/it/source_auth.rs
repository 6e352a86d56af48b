//! Private sources: `auth_env` sends `Authorization: Bearer $VAR` (or the raw value under
//! `auth_header`), never to another origin after a redirect; a missing variable is named. Two
//! loopback servers on different ports are two origins.

use crate::apply_support;

use std::io::Write;
use std::net::TcpListener;
use std::process::Output;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use tempfile::TempDir;

const SECRET: &str = "lists-token-planted-9z8y";
const LIST: &str = "ads.example.com\n";

type Respond = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

/// A raw HTTP/1.1 server on loopback recording every request head.
struct Server {
    addr: std::net::SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(respond: Respond) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let head = apply_support::read_http_head(&mut stream).to_ascii_lowercase();
                seen.lock().unwrap().push(head.clone());
                let _ = stream.write_all(&respond(&head));
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        Self { addr, heads }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn list_response() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{LIST}",
        LIST.len()
    )
    .into_bytes()
}

fn redirect_to(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .into_bytes()
}

/// `origin` redirects `/other-origin` to `elsewhere`, `/same-origin` to its own `/final`, and
/// serves the list at `/final` and `/list.txt`.
fn origin_server(elsewhere: String) -> Server {
    Server::start(Arc::new(move |head: &str| {
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        match path.as_str() {
            "/other-origin" => redirect_to(&elsewhere),
            "/same-origin" => redirect_to("/final"),
            _ => list_response(),
        }
    }))
}

fn validate(url: &str, auth: &str, secret: Option<&str>) -> Output {
    let dir = TempDir::new().unwrap();
    let config = format!(
        "[[profile]]\nid = \"p1\"\nfolders = [\"private\"]\n\n\
         [folder.private]\nurl = \"{url}\"\nname = \"Private\"\naction = \"block\"\n{auth}\n"
    );
    std::fs::write(dir.path().join("ctrld-sync.toml"), config).unwrap();
    let mut command = Command::cargo_bin("ctrld-sync").unwrap();
    command
        .current_dir(dir.path())
        .env_remove("LISTS_TOKEN")
        .args([
            "--no-progress",
            "--color",
            "never",
            "-vv",
            "validate",
            "--fetch",
        ]);
    if let Some(secret) = secret {
        command.env("LISTS_TOKEN", secret);
    }
    command.output().unwrap()
}

fn assert_never_shown(output: &Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains(SECRET), "{all}");
}

/// `validate` of a list whose origin redirects to another origin, with `auth`: it succeeds and
/// never shows the secret. Returns the origin and the other server, to see what each was sent.
fn validate_across_origins(auth: &str) -> (Server, Server) {
    let elsewhere = Server::start(Arc::new(|_: &str| list_response()));
    let origin = origin_server(elsewhere.url("/list.txt"));
    let output = validate(&origin.url("/other-origin"), auth, Some(SECRET));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_never_shown(&output);
    (origin, elsewhere)
}

#[test]
fn the_bearer_token_is_sent_to_the_source_and_not_to_another_origin() {
    let (origin, elsewhere) = validate_across_origins("auth_env = \"LISTS_TOKEN\"");
    let asked = origin.heads();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].contains(&format!("authorization: bearer {SECRET}")),
        "{asked:?}"
    );
    let followed = elsewhere.heads();
    assert_eq!(followed.len(), 1, "the redirect was followed");
    assert!(!followed[0].contains(SECRET), "{followed:?}");
    assert!(!followed[0].contains("authorization"), "{followed:?}");
}

#[test]
fn a_custom_header_is_not_sent_to_another_origin_either() {
    let (origin, elsewhere) =
        validate_across_origins("auth_env = \"LISTS_TOKEN\"\nauth_header = \"PRIVATE-TOKEN\"");
    assert!(origin.heads()[0].contains(&format!("private-token: {SECRET}")));
    assert!(!origin.heads()[0].contains("authorization"));
    let followed = elsewhere.heads();
    assert_eq!(followed.len(), 1);
    assert!(!followed[0].contains(SECRET), "{followed:?}");
}

#[test]
fn a_same_origin_redirect_keeps_the_credential() {
    let origin = origin_server(String::new());
    let output = validate(
        &origin.url("/same-origin"),
        "auth_env = \"LISTS_TOKEN\"",
        Some(SECRET),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let heads = origin.heads();
    assert_eq!(heads.len(), 2);
    assert!(heads.iter().all(|head| head.contains(SECRET)), "{heads:?}");
}

#[test]
fn a_missing_or_empty_variable_is_named_and_nothing_is_requested() {
    let origin = origin_server(String::new());
    for secret in [None, Some("  ")] {
        let output = validate(
            &origin.url("/list.txt"),
            "auth_env = \"LISTS_TOKEN\"",
            secret,
        );
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("$LISTS_TOKEN is not set or is empty"),
            "{stderr}"
        );
    }
    assert!(origin.heads().is_empty());
}
