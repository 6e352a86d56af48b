#!/usr/bin/env bash
# Brings the checkout to the tip of its branch just before `apply` (with `commit-state: true`), so the
# run plans from the newest state files (a state commit pushed while this job was starting) rather
# than from the commit that triggered it. Fails when the checkout cannot simply move forward.
set -euo pipefail

# shellcheck source=.github/action/git-common.sh
source "$(dirname "$0")/git-common.sh"

resolve_branch
fetch_branch "$branch"
if ! git merge --ff-only --quiet FETCH_HEAD; then
  fail "the checkout cannot move forward to the tip of $branch on $remote (local changes or commits?)"
fi
echo "at the tip of $branch: $(git log -1 --format='%h %s')"
