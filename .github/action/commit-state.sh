#!/usr/bin/env bash
# Usage: commit-state.sh [STATE_DIR]   (default `state`, relative to the current directory)
#
# Commits the changed files of the state directory, and nothing else, under the github-actions[bot]
# identity, and pushes the commit to the branch checked out. A push rejected because the branch moved
# on (another run's state commit, a merge) is retried on the new tip: fetch, rebase, push, up to
# COMMIT_STATE_ATTEMPTS times (default 5), pausing longer before each retry (COMMIT_STATE_PAUSE_SECONDS,
# default 2, more each time, plus up to that much at random). Whatever else stops the push fails
# the step with an `::error::` line saying why: a state commit is never dropped silently.
#
# A rebase conflict means a commit on the branch changed the same state file since this checkout:
# something else (another run, a person) also wrote that profile's state. Neither file is known to
# describe the live profile: each run knows what it applied itself, and the order of the pushes is not
# the order of the applies; both files may carry the same lineage and serial. Like Terraform, which refuses
# to replace a state by a different one of the same serial, this script does not choose: it aborts the
# rebase, pushes this run's commit to a branch of its own (nothing is lost) and fails, naming the files
# and the commits that changed them. Running apply again with `--refresh full` reads every managed
# folder, so the state it writes describes the live profile whichever file it starts from.
set -euo pipefail

# shellcheck source=.github/action/git-common.sh
source "$(dirname "$0")/git-common.sh"

state_dir="${1:-state}"
attempts="${COMMIT_STATE_ATTEMPTS:-5}"
pause_seconds="${COMMIT_STATE_PAUSE_SECONDS:-2}"

# The profile ids of the staged state files, for the commit message: "abcdefgh1234 ijklmnop5678".
# The remembered API rates (`.pacing/`) are not state and name no profile here.
staged_profiles() {
  git diff --cached --name-only -- "$state_dir" \
    | sed -n -e '/^\.pacing\//d' -e '/\/\.pacing\//d' -e 's#^.*/\([^/]*\)\.json$#\1#p' | tr '\n' ' ' | sed 's/ $//'
}

# Stages the state directory; returns 1 when nothing in it changed.
stage_state_files() {
  git add --all -- "$state_dir"
  ! git diff --cached --quiet -- "$state_dir"
}

commit_state_files() {
  local subject="ctrld-sync: update state"
  local profiles
  profiles=$(staged_profiles)
  if [ -n "$profiles" ]; then subject="$subject of $profiles"; fi
  local body="Written by ctrld-sync apply."
  if [ -n "${GITHUB_RUN_ID:-}" ]; then
    body="Written by ctrld-sync apply in ${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID"
  fi
  # Only the state directory, whatever else is staged.
  git commit --quiet -m "$subject" -m "$body" -- "$state_dir"
  echo "committed $(git log -1 --format='%h %s')"
}

# The rebase stopped: on a conflict, says which files and which commits, keeps this run's commit on a
# branch of its own, and fails.
fail_rebase() {
  local base="$1" files=() file
  while IFS= read -r file; do files+=("$file"); done < <(git diff --name-only --diff-filter=U)
  if [ "${#files[@]}" -eq 0 ]; then
    git rebase --abort > /dev/null 2>&1 || true
    fail "could not put the state commit on the new tip of $branch (see the git message above); it is not pushed"
  fi
  local theirs
  theirs=$(git log --format='%h "%s" by %an' "$base..FETCH_HEAD" -- "${files[@]}" | tr '\n' ';' \
    | sed 's/;$//; s/;/; /g')
  git rebase --abort
  local saved
  saved="ctrld-sync-state-conflict-$(git rev-parse --short=12 HEAD)"
  local where="This run's state commit is on branch $saved."
  if ! git push --quiet "$remote" "HEAD:refs/heads/$saved"; then
    where="This run's state commit could not be saved on a branch either (see the git message above)."
  fi
  fail "${files[*]} also changed on $branch since this run checked out ($theirs): the state is not" \
    "pushed, since neither file is known to describe the live profile. $where Run apply again with" \
    "--refresh full: it reads every managed folder and writes the state from what it finds."
}

# Puts the local commits on the fetched tip of the branch.
rebase_onto_fetched() {
  local base
  base=$(git merge-base HEAD FETCH_HEAD) \
    || fail "$branch on $remote shares no history with this checkout (force-pushed?); the state commit is not pushed"
  git -c advice.mergeConflict=false rebase --quiet --autostash FETCH_HEAD && return 0
  while only_pacing_conflicts; do
    keep_this_runs_pacing || return 0
  done
  fail_rebase "$base"
}

# Whether the rebase stopped on conflicts in remembered API rates (`.pacing/`) only.
only_pacing_conflicts() {
  local files file
  files=$(git diff --name-only --diff-filter=U)
  [ -n "$files" ] || return 1
  while IFS= read -r file; do
    case "$file" in .pacing/* | */.pacing/*) ;; *) return 1 ;; esac
  done <<< "$files"
}

# A remembered rate is a hint for the next run's pacing, not state: two runs that both measured
# one are no conflict, and this run's (the newer) measurement is kept. Returns 1 once the rebase
# is done, 0 when it stopped again.
keep_this_runs_pacing() {
  local files=() file
  while IFS= read -r file; do files+=("$file"); done < <(git diff --name-only --diff-filter=U)
  # In a rebase, "theirs" is the commit being replayed: this run's.
  git checkout --theirs -- "${files[@]}"
  git add -- "${files[@]}"
  GIT_EDITOR=true git -c advice.mergeConflict=false rebase --continue > /dev/null 2>&1 || return 0
  return 1
}

# The lines of a failed push's output that say why: the server's (`remote: ...`) and the refused ref.
push_refusal() {
  local why
  why=$(echo "$1" | grep -E '^remote: |^ ?! ' | sed 's/[[:space:]]*$//' | tr '\n' ' ' | sed 's/ $//')
  if [ -z "$why" ]; then why=$(echo "$1" | grep -v '^[[:space:]]*$' | tail -n 1); fi
  echo "$why"
}

push_with_retries() {
  local attempt=1 output
  while :; do
    if output=$(git -c advice.pushUpdateRejected=false push "$remote" "HEAD:refs/heads/$branch" 2>&1); then
      echo "pushed the state commit $(git rev-parse --short HEAD) to $branch"
      return 0
    fi
    echo "$output"
    # A growing pause, with jitter so that matrix jobs that pushed together retry apart.
    sleep $((pause_seconds * (attempt - 1) + RANDOM % (pause_seconds + 1)))
    fetch_branch "$branch"
    if git merge-base --is-ancestor FETCH_HEAD HEAD; then
      fail "the push to $branch was refused, and not because the branch moved on: $(push_refusal "$output")"
    fi
    if [ "$attempt" -ge "$attempts" ]; then
      fail "$branch moved on before each of $attempts pushes; the state commit is not pushed"
    fi
    attempt=$((attempt + 1))
    echo "$branch moved on; putting the state commit on its new tip (attempt $attempt of $attempts)"
    rebase_onto_fetched
  done
}

git rev-parse --is-inside-work-tree > /dev/null 2>&1 \
  || fail "$(pwd) is not inside a git checkout: cannot commit the state files"
[ -d "$state_dir" ] || fail "no state directory $state_dir in $(pwd) (is the state-dir input right?)"
resolve_branch
if ! stage_state_files; then
  echo "state files in $state_dir unchanged: nothing to commit"
  exit 0
fi
commit_state_files
push_with_retries
