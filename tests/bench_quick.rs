//! The bench's `--quick` mode as a test, so a regression in API calls fails `cargo test`: small
//! synthetic lists, the real binary against the emulator, exact call counts per scenario asserted.

#[allow(dead_code)]
#[path = "../examples/bench/main.rs"]
mod bench;

use std::path::Path;
use std::time::Duration;

#[test]
fn sync_scenarios_make_exactly_the_expected_api_calls() {
    let binary = Path::new(env!("CARGO_BIN_EXE_ctrld-sync"));
    let rows = bench::quick::run(binary, Duration::from_millis(1))
        .unwrap_or_else(|error| panic!("{error}"));
    println!("{}", bench::table::markdown(&rows));
}
