// Posts the plan (or why there is none) as one pull-request comment, updated in place on each run.
// The comment to update is found by its marker and by its author: only a comment written by the
// identity that this token posts as (github-actions[bot] for the default token) is ever edited, not
// one that anyone else wrote with the marker in it. Called from action.yml's github-script step.
const MARKER = '<!-- ctrld-sync-plan -->';

module.exports = async function upsertPlanComment({ github, context, markdown }) {
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const body = `${MARKER}\n${markdown}`;
  // GraphQL's viewer is the token's own identity; its login is the REST login, `[bot]` included.
  const { viewer } = await github.graphql('query { viewer { login } }');
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner,
    repo,
    issue_number,
    per_page: 100,
  });
  const mine = comments.find(
    (comment) =>
      comment.user &&
      comment.user.login === viewer.login &&
      typeof comment.body === 'string' &&
      comment.body.startsWith(MARKER),
  );
  if (mine) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    return `updated comment ${mine.id}`;
  }
  const { data } = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  return `created comment ${data.id}`;
};
