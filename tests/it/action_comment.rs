//! The action's pull-request comment (`.github/action/comment.js`, run by actions/github-script):
//! one comment, updated in place, and only ever a comment that the token's own identity wrote.
//! Run by Node.js against a stand-in for GitHub's API (out of reach here) that serves the given
//! comments and records the calls.

use crate::script_support;

use std::process::Command;

use serde_json::{json, Value};

const MARKER: &str = "<!-- ctrld-sync-plan -->";

/// The calls made by `upsertPlanComment` when the token is `viewer` and the pull request holds
/// `comments`, and the line it returns.
const HARNESS: &str = r#"
const upsertPlanComment = require(process.env.COMMENT_JS);
const calls = [];
const github = {
  graphql: async (query) => ({ viewer: { login: process.env.VIEWER } }),
  paginate: async (method, params) => {
    calls.push({ call: 'list', method, params });
    return JSON.parse(process.env.COMMENTS);
  },
  rest: {
    issues: {
      listComments: 'issues.listComments',
      updateComment: async (params) => { calls.push({ call: 'update', params }); },
      createComment: async (params) => {
        calls.push({ call: 'create', params });
        return { data: { id: 99 } };
      },
    },
  },
};
const context = { repo: { owner: 'acme', repo: 'dns' }, issue: { number: 7 } };
upsertPlanComment({ github, context, markdown: '## ctrld-sync plan\n' })
  .then((result) => console.log(JSON.stringify({ result, calls })))
  .catch((error) => { console.error(error); process.exit(1); });
"#;

fn upsert(viewer: &str, comments: Value) -> Option<Value> {
    if !script_support::have("node") {
        return None;
    }
    let output = Command::new("node")
        .args(["-e", HARNESS])
        .env("PATH", script_support::path_with(&[]))
        .env("COMMENT_JS", script_support::action_script("comment.js"))
        .env("VIEWER", viewer)
        .env("COMMENTS", comments.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        script_support::stderr(&output)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

fn comment(id: u64, login: &str, body: &str) -> Value {
    json!({ "id": id, "user": { "login": login }, "body": body })
}

fn plan_body() -> String {
    format!("{MARKER}\n## ctrld-sync plan\n")
}

#[test]
fn the_workflows_own_marked_comment_is_updated_not_one_someone_else_wrote() {
    let comments = json!([
        comment(
            1,
            "mallory",
            &format!("{MARKER}\nforged: nothing to change")
        ),
        comment(2, "github-actions[bot]", "a comment of another bot step"),
        comment(
            3,
            "github-actions[bot]",
            &format!("{MARKER}\nthe last plan")
        ),
    ]);
    let Some(outcome) = upsert("github-actions[bot]", comments) else {
        return;
    };

    assert_eq!(outcome["result"], "updated comment 3");
    assert_eq!(
        outcome["calls"][1],
        json!({ "call": "update", "params": {
            "owner": "acme", "repo": "dns", "comment_id": 3, "body": plan_body() } })
    );
    assert_eq!(outcome["calls"][0]["params"]["issue_number"], 7);
    assert_eq!(outcome["calls"].as_array().unwrap().len(), 2);
}

#[test]
fn a_marked_comment_by_another_author_is_left_alone_and_a_new_one_is_made() {
    let comments = json!([comment(1, "mallory", &format!("{MARKER}\nforged"))]);
    let Some(outcome) = upsert("github-actions[bot]", comments) else {
        return;
    };

    assert_eq!(outcome["result"], "created comment 99");
    assert_eq!(
        outcome["calls"][1],
        json!({ "call": "create", "params": {
            "owner": "acme", "repo": "dns", "issue_number": 7, "body": plan_body() } })
    );
}

#[test]
fn with_a_personal_token_the_comment_of_that_person_is_the_one_updated() {
    let comments = json!([
        comment(
            1,
            "github-actions[bot]",
            &format!("{MARKER}\nfrom the default token")
        ),
        comment(2, "alice", &format!("{MARKER}\nfrom alice's token")),
    ]);
    let Some(outcome) = upsert("alice", comments) else {
        return;
    };

    assert_eq!(outcome["result"], "updated comment 2");
}
