# shellcheck shell=bash disable=SC2034 # `branch` is read by the scripts that source this file
# Sourced by commit-state.sh and sync-branch.sh: the branch to push to and the bot identity.
# Written for bash 3.2 too (macOS runners' /bin/bash).

remote="${COMMIT_STATE_REMOTE:-origin}"

# The bot identity, for the state commit and for the commits a rebase rewrites; set here so that a
# runner without user.name/user.email in its git config can commit ("Author identity unknown").
export GIT_AUTHOR_NAME="github-actions[bot]"
export GIT_AUTHOR_EMAIL="41898282+github-actions[bot]@users.noreply.github.com"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME"
export GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

# One `::error::` line for the job's annotations, then exit 1.
fail() {
  echo "::error::$*"
  exit 1
}

# Sets `branch` to the branch checked out; a detached HEAD (actions/checkout of a commit) falls back
# to the branch the workflow ran for (GITHUB_REF), since a state commit belongs at that branch's tip.
resolve_branch() {
  if branch=$(git symbolic-ref --quiet --short HEAD); then
    return
  fi
  case "${GITHUB_REF:-}" in
    refs/heads/?*) branch="${GITHUB_REF#refs/heads/}" ;;
    *) fail "not on a branch (detached HEAD, GITHUB_REF='${GITHUB_REF:-}'): nowhere to push the state files" ;;
  esac
}

# Fetches the branch's tip from the remote into FETCH_HEAD.
fetch_branch() {
  git fetch --quiet "$remote" "refs/heads/$1" \
    || fail "could not fetch $1 from $remote (see the git message above)"
}
