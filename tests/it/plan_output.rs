//! How `plan` shows itself: `+`/`-`/`~` lines coloured only where asked (never in JSON or
//! Markdown). The real binary against the emulator.

use crate::apply_support;

use apply_support::{assert_success, FolderSpec, Setup};

const ESC: char = '\u{1b}';

fn hostnames(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| format!("{name}.example.com"))
        .collect()
}

/// Applied with `ads` = {a, b} named "Ads"; the config now names it "Ads v2" with {a, c}: one
/// `~` heading (the rename), one `+` and one `-` line.
fn changed_setup() -> Setup {
    let mut setup = Setup::with_profiles(
        &["p1"],
        vec![FolderSpec::domains(
            "ads",
            "Ads",
            "block",
            &hostnames(&["a", "b"]),
        )],
    );
    setup.apply_ok(&[]);
    setup.set_folders(vec![FolderSpec::domains(
        "ads",
        "Ads v2",
        "block",
        &hostnames(&["a", "c"]),
    )]);
    setup
}

/// `plan` with `args`, its stdout. `no_color`: with `NO_COLOR=1` (else without it).
fn plan_stdout(setup: &Setup, args: &[&str], no_color: bool) -> String {
    let mut command = setup.command();
    command.env_remove("NO_COLOR");
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let output = command.args(args).output().unwrap();
    assert_success(&output, &format!("{args:?}"));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn color_always_paints_plus_minus_and_tilde_lines() {
    let setup = changed_setup();
    let stdout = plan_stdout(&setup, &["--color", "always", "plan"], false);
    for painted in [
        format!("      {ESC}[32m+ c.example.com block{ESC}[0m\n"),
        format!("      {ESC}[31m- b.example.com block{ESC}[0m\n"),
        format!("  {ESC}[33m~ folder `ads` \"Ads v2\" (block, PK "),
    ] {
        assert!(stdout.contains(&painted), "{painted:?} in:\n{stdout}");
    }
    // The summary and the counts stay plain.
    assert!(stdout.starts_with("Plan: "), "{stdout}");
}

#[test]
fn apply_paints_the_plan_it_prints_the_same_way() {
    let setup = changed_setup();
    let output = setup
        .command()
        .env_remove("NO_COLOR")
        .args(["--color", "always", "apply"])
        .output()
        .unwrap();
    assert_success(&output, "apply");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let painted = format!("      {ESC}[32m+ c.example.com block{ESC}[0m\n");
    assert!(stdout.contains(&painted), "{stdout}");
}

#[test]
fn no_color_never_json_and_markdown_are_plain() {
    let setup = changed_setup();
    let plain = [
        plan_stdout(&setup, &["--color", "never", "plan"], false),
        plan_stdout(&setup, &["plan"], true),
        plan_stdout(
            &setup,
            &["--color", "always", "plan", "--format", "json"],
            false,
        ),
        plan_stdout(
            &setup,
            &["--color", "always", "plan", "--format", "markdown"],
            false,
        ),
    ];
    for stdout in &plain {
        assert!(!stdout.contains(ESC), "{stdout}");
    }
    assert!(
        plain[0].contains("      + c.example.com block\n"),
        "{}",
        plain[0]
    );
}

const STATE_ONLY: &str = "Planned from the state files alone (--refresh none): Control D was not \
                          read; the apply reads it first.";

#[test]
fn a_plan_from_the_state_alone_says_so_first_in_every_format() {
    let setup = changed_setup();
    let state_only = ["plan", "--refresh", "none"];
    let text = plan_stdout(&setup, &state_only, true);
    assert!(
        text.starts_with(&format!("{STATE_ONLY}\n\nPlan: ")),
        "{text}"
    );

    let markdown = plan_stdout(
        &setup,
        &[&state_only[..], &["--format", "markdown"]].concat(),
        true,
    );
    assert!(
        markdown.starts_with(&format!("## ctrld-sync plan\n\n> **{STATE_ONLY}**\n\n")),
        "{markdown}"
    );

    let json = plan_stdout(
        &setup,
        &[&state_only[..], &["--format", "json"]].concat(),
        true,
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["refresh"], "none");
    assert_eq!(json["note"], STATE_ONLY);

    // A plan that read Control D says nothing of the kind.
    for format in ["text", "markdown", "json"] {
        let read = plan_stdout(&setup, &["plan", "--format", format], true);
        assert!(!read.contains("state files alone"), "{read}");
        assert!(!read.contains("\"refresh\""), "{read}");
    }
}
