//! Saved plans are tamper-evident: `apply PLANFILE` refuses a plan whose content does not match
//! its checksum, and works out what is destructive from the steps, not from the plan's own list.
//! Nothing is sent to Control D in either case.

use crate::apply_support;

use std::path::Path;

use apply_support::*;
use ctrld_sync::plan::PlanFile;

/// One profile synced with folder `ads` (12 rules) and `extra` (2 rules).
fn synced() -> Setup {
    let setup = Setup::with_profiles(
        &["p1"],
        vec![
            FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..12)),
            FolderSpec::domains("extra", "Extra", "block", &hosts("extra", 0..2)),
        ],
    );
    setup.apply_ok(&[]);
    setup
}

/// `plan --out` into the setup's directory; returns the plan file's path.
fn save_plan(setup: &Setup) -> std::path::PathBuf {
    let path = setup.dir.path().join("plan.json");
    let output = setup.run(&["plan", "--out", path.to_str().unwrap()]);
    assert_success(&output, "plan --out");
    path
}

/// Applies the saved plan; asserts it is refused with `needle` and nothing reached the emulator.
fn refused(setup: &Setup, path: &Path, needle: &str) {
    setup.emulator.reset_stats();
    let output = setup.run(&["apply", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert_eq!(setup.emulator.stats().total, 0, "requests were sent");
}

/// Rewrites the plan through the library (which seals it with a fresh checksum), as someone who
/// knows the format would.
fn rewrite(path: &Path, edit: impl FnOnce(&mut PlanFile)) {
    let mut file: PlanFile = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut file);
    file.save(path).unwrap();
}

#[test]
fn an_edited_plan_is_refused_by_its_checksum_and_the_original_applies() {
    let mut setup = synced();
    setup.set_folders(vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..13)),
        FolderSpec::domains("extra", "Extra", "block", &hosts("extra", 0..2)),
    ]);
    let path = save_plan(&setup);
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(original.contains("\"sha256\""), "{original}");
    let edited = original.replace("ads12.example.com", "evil.example.com");
    assert_ne!(edited, original);
    std::fs::write(&path, edited).unwrap();
    refused(&setup, &path, "does not match its checksum");

    std::fs::write(&path, &original).unwrap();
    let output = setup.run(&["apply", path.to_str().unwrap()]);
    assert_success(&output, "apply of the saved plan");
    setup.assert_converged(&[]);
}

#[test]
fn an_emptied_destructive_list_does_not_hide_a_large_removal() {
    let mut setup = synced();
    setup.set_folders(vec![
        FolderSpec::domains("ads", "Ads", "block", &hosts("ads", 0..2)),
        FolderSpec::domains("extra", "Extra", "block", &hosts("extra", 0..2)),
    ]);
    let path = save_plan(&setup);
    rewrite(&path, |file| file.profiles[0].plan.destructive.clear());
    refused(&setup, &path, "folder `ads` would lose 10 of its 12 rules");

    let output = setup.run(&["apply", path.to_str().unwrap(), "--allow-destroy"]);
    assert_success(&output, "apply --allow-destroy of the saved plan");
    setup.assert_converged(&[]);
}

#[test]
fn an_emptied_destructive_list_does_not_hide_a_folder_delete() {
    let mut setup = synced();
    setup.set_folders(vec![FolderSpec::domains(
        "ads",
        "Ads",
        "block",
        &hosts("ads", 0..12),
    )]);
    let path = save_plan(&setup);
    rewrite(&path, |file| file.profiles[0].plan.destructive.clear());
    refused(&setup, &path, "folder `extra`");
}
