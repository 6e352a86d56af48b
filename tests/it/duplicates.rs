//! Folder names within one profile: two managed folders may not share one, and several remote
//! folders of one name (left by failed runs of other tools) are adopted deterministically.

use assert_cmd::Command;
use predicates::str::contains;

fn workspace(config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ctrld-sync.toml"), config).unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

fn run(dir: &tempfile::TempDir, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("ctrld-sync")
        .unwrap()
        .current_dir(dir.path())
        .args(["--no-progress", "--color", "never"])
        .args(args)
        .env_remove("CTRLD_API_TOKEN")
        .env_remove("CTRLD_API_URL")
        .assert()
}

#[test]
fn two_managed_folders_named_alike_in_one_profile_are_refused_at_validate() {
    let dir = workspace(
        "[[profile]]\nid = \"p1\"\nfolders = [\"a\", \"b\"]\n\n\
         [folder.a]\npath = \"a.txt\"\nformat = \"domains\"\nname = \"Ads\"\naction = \"block\"\n\n\
         [folder.b]\npath = \"b.txt\"\nformat = \"domains\"\nname = \"Ads\"\naction = \"block\"\n",
        &[("a.txt", "a.example\n"), ("b.txt", "b.example\n")],
    );
    run(&dir, &["validate"])
        .code(1)
        .stdout("")
        .stderr(contains("ctrld-sync.toml:14:"))
        .stderr(contains("folders `a` and `b` are both named \"Ads\""));
}

#[test]
fn the_same_name_in_two_profiles_is_fine() {
    let dir = workspace(
        "[[profile]]\nid = \"p1\"\nfolders = [\"a\"]\n\n[[profile]]\nid = \"p2\"\nfolders = [\"b\"]\n\n\
         [folder.a]\npath = \"a.txt\"\nformat = \"domains\"\nname = \"Ads\"\naction = \"block\"\n\n\
         [folder.b]\npath = \"b.txt\"\nformat = \"domains\"\nname = \"Ads\"\naction = \"block\"\n",
        &[("a.txt", "a.example\n"), ("b.txt", "b.example\n")],
    );
    run(&dir, &["validate"]).success();
}

#[test]
fn names_taken_from_sources_are_checked_at_plan_time() {
    let folder = r#"{"group": {"group": "Same", "action": {"do": 0, "status": 1}},
                     "rules": [{"PK": "HOST", "action": {"do": 0, "status": 1}}]}"#;
    let dir = workspace(
        "[[profile]]\nid = \"p1\"\nfolders = [\"a\", \"b\"]\n\n\
         [folder.a]\npath = \"a.json\"\n\n[folder.b]\npath = \"b.json\"\n",
        &[
            ("a.json", &folder.replace("HOST", "a.example")),
            ("b.json", &folder.replace("HOST", "b.example")),
        ],
    );
    run(&dir, &["plan", "--refresh", "none"])
        .code(1)
        .stdout("")
        .stderr(contains("folders `a` and `b` are both named \"Same\""));
}
