//! `ctrld-sync schema` prints the config's JSON Schema; the copy committed at the repository root
//! (which the example configs point editors to) must be exactly what it prints.

use std::fs;

use assert_cmd::Command;

const COMMITTED: &str = "ctrld-sync.schema.json";

fn generated() -> String {
    let output = Command::cargo_bin("ctrld-sync")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed = fs::read_to_string(COMMITTED).unwrap();
    assert!(
        committed == generated(),
        "{COMMITTED} is out of date: run `cargo run -- schema > {COMMITTED}` and commit it"
    );
}

#[test]
fn the_schema_describes_every_key_and_refuses_unknown_ones() {
    let schema: serde_json::Value = serde_json::from_str(&generated()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["additionalProperties"], false);
    for key in ["state_dir", "api", "sources", "safety", "profile", "folder"] {
        assert!(schema["properties"][key].is_object(), "{key}");
    }
    let folder = &schema["definitions"]["Folder"];
    assert_eq!(folder["additionalProperties"], false);
    assert_eq!(schema["definitions"]["Profile"]["required"][0], "id");
    let formats: Vec<&str> = schema["definitions"]["Format"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(formats.contains(&"adblock"), "{formats:?}");
}

#[test]
fn the_example_configs_point_editors_to_the_schema() {
    for config in ["examples/ctrld-sync.toml", "examples/hagezi.toml"] {
        let text = fs::read_to_string(config).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("#:schema ../ctrld-sync.schema.json"),
            "{config}"
        );
    }
}
