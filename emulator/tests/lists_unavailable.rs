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
