//! The 10,000-rules-per-profile limit: checked before anything is sent when the root's rules are
//! known (`--refresh full`), and a POST refused for it during apply stops the profile with a
//! message naming the folder and what to do.

use crate::apply_support;

use apply_support::*;

const RULES_POST: &str = "POST /profiles/{profile}/rules";

/// Profile p1's root already holds 9,995 rules ctrld-sync does not manage; the config wants 10 more.
fn nearly_full() -> Setup {
    let setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains(
            "ads",
            "Ads",
            "block",
            &hosts("ads", 0..10),
        )],
    );
    let root = hosts("root", 0..9_995).iter().map(|h| rule(h)).collect();
    preload(&setup.emulator, "p1", Vec::new(), root);
    setup
}

#[test]
fn a_post_refused_for_the_limit_stops_the_profile_naming_the_folder_and_what_to_do() {
    let setup = nearly_full();
    let output = setup.run(&["apply"]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("folder `ads`"), "{stderr}");
    assert!(stderr.contains("10000-rule limit"), "{stderr}");
    assert!(
        stderr.contains("ctrld-sync plan --refresh full"),
        "{stderr}"
    );
    // One refused POST, not a retry loop.
    assert_eq!(setup.emulator.stats().by_route[RULES_POST], 1);
}

#[test]
fn with_the_root_known_the_limit_is_refused_before_anything_is_sent() {
    let setup = nearly_full();
    let output = setup.run(&["apply", "--refresh", "full"]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("9995"), "{stderr}");
    let stats = setup.emulator.stats();
    assert_eq!(stats.by_method.get("POST"), None, "{stats:?}");
    assert_eq!(stats.by_method.get("PUT"), None, "{stats:?}");
    assert_eq!(stats.by_method.get("DELETE"), None, "{stats:?}");
}
