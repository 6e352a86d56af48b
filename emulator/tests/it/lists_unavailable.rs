//! The `/_lists/` 503 knob: each file's first N requests answer 503 with `Retry-After`.

use controld_emulator::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_file_is_unavailable_for_its_first_requests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "a.example\n").unwrap();
    std::fs::write(dir.path().join("b.txt"), "b.example\n").unwrap();
    let emulator = Emulator::start_background(EmulatorConfig {
        serve_dir: Some(dir.path().to_path_buf()),
        lists_unavailable: 2,
        lists_retry_after: 3,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let get = |name: &str| reqwest::get(format!("{}/_lists/{name}", emulator.url()));
    for _ in 0..2 {
        let refused = get("a.txt").await.unwrap();
        assert_eq!(refused.status(), 503);
        assert_eq!(refused.headers()["retry-after"], "3");
    }
    let served = get("a.txt").await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.text().await.unwrap(), "a.example\n");
    assert_eq!(
        get("b.txt").await.unwrap().status(),
        503,
        "counted per file"
    );
    let counts = emulator.list_requests();
    assert_eq!(counts.get("a.txt"), Some(&3));
    assert_eq!(counts.get("b.txt"), Some(&1));
    assert_eq!(emulator.stats().total, 0, "list requests are not API calls");
}

/// Kills the child when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_the_knob_as_flags() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "a.example\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_controld-emulator"))
        .arg("--serve-dir")
        .arg(dir.path())
        .args(["--lists-unavailable", "1", "--lists-retry-after", "7"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let _child = Killed(child);
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
        .unwrap()
        .to_string();
    let list = format!("{url}/_lists/a.txt");
    let refused = reqwest::get(&list).await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "7");
    assert_eq!(reqwest::get(&list).await.unwrap().status(), 200);
}
