//! `Config::load` on the fixture files, as the other commands load them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ctrld_sync::config::{Config, ConfigError, Format, SourceLocation};
use ctrld_sync::model::ActionKind;
use sha2::{Digest, Sha256};

const GOOD: &str = "tests/fixtures/configs/good.toml";

#[test]
fn the_good_fixture_loads_in_file_order_with_resolved_paths() {
    let config = Config::load(Path::new(GOOD)).unwrap();
    let keys: Vec<&str> = config.folders.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        ["ads", "tlds", "domains", "hosts", "adblock", "allow"]
    );
    assert_eq!(
        config.folder("hosts").unwrap().location,
        SourceLocation::Path {
            written: "sources/hosts.txt".into(),
            resolved: PathBuf::from("tests/fixtures/configs/sources/hosts.txt"),
        }
    );
    assert_eq!(config.folder("tlds").unwrap().format, Format::Controld);
    assert_eq!(config.folder("ads").unwrap().format, Format::Auto);
    let allow = config.folder("allow").unwrap().action.clone().unwrap();
    assert_eq!(allow.kind, Some(ActionKind::Allow));
    assert_eq!(config.sources.timeout, Duration::from_secs(10));
    assert_eq!(config.sources.concurrency, 8);
    assert_eq!(config.safety.max_delete_percent, 25.0);
    assert_eq!(config.safety.min_rules, 10);
    assert!(!config.safety.allow_destroy);
    let kids = config.profile("kids").unwrap();
    assert_eq!(kids.token_env.as_deref(), Some("CTRLD_TOKEN_KIDS"));
    assert_eq!(kids.folders, ["ads", "allow"]);
    assert_eq!(
        config.profile("home").unwrap().name.as_deref(),
        Some("Home")
    );
}

#[test]
fn the_hash_is_the_sha256_of_the_file() {
    let config = Config::load(Path::new(GOOD)).unwrap();
    let bytes = std::fs::read(GOOD).unwrap();
    let expected: String = Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(config.hash, expected);
}

#[test]
fn folders_sharing_a_source_keep_distinct_fingerprints() {
    let config = Config::load(Path::new(GOOD)).unwrap();
    let hosts = &config.folder("hosts").unwrap().fingerprint;
    let allow = &config.folder("allow").unwrap().fingerprint;
    assert_eq!(hosts.len(), 16);
    assert_ne!(hosts, allow);
}

#[test]
fn several_problems_are_all_reported() {
    let text =
        "[[profile]]\nid = \"p\"\nfolders = [\"a\", \"b\"]\n\n[folder.a]\nurl = \"ftp://x\"\n";
    let Err(ConfigError::Invalid(problems)) = Config::from_str(text, Path::new("c.toml")) else {
        panic!("expected problems");
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("c.toml:6:7: folder `a`: `url`"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("c.toml:3:17: profile `p` names folder `b`"),
        "{lines:?}"
    );
}

#[test]
fn a_missing_file_is_a_read_error_naming_it() {
    let error = Config::load(Path::new("tests/fixtures/configs/absent.toml")).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }));
    assert!(error.to_string().contains("absent.toml"));
}
