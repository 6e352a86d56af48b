#!/usr/bin/env bash
# Runs `ctrld-sync plan` (Markdown, detailed exit code) and, for `apply`, then `ctrld-sync apply`;
# writes the plan to the job summary and the step outputs. When the plan fails, the summary and the
# pull-request comment say so and why (instead of a stale plan). Always exits 0: the action's last
# step fails the job on an error, after the comment step has run.
set -uo pipefail

plan_markdown="$RUNNER_TEMP/ctrld-sync-plan.md"
plan_log="$RUNNER_TEMP/ctrld-sync-plan.log"
failure_markdown="$RUNNER_TEMP/ctrld-sync-plan-failed.md"

# A code fence longer than any run of backticks in the file, so the text shows as it is.
fence_for() {
  local longest
  longest=$( (grep -o '``*' "$1" || true) | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')
  local fence='```'
  while [ "${#fence}" -le "$longest" ]; do fence="$fence\`"; done
  echo "$fence"
}

# The comment and summary for a plan that failed: the exit code and the last lines it printed.
write_failure_markdown() {
  local code="$1" excerpt="$RUNNER_TEMP/ctrld-sync-plan-error.txt"
  # Without colour codes; the tool never prints the token.
  tail -n 20 "$plan_log" | sed "s/$(printf '\033')\[[0-9;]*m//g" > "$excerpt"
  local fence
  fence=$(fence_for "$excerpt")
  {
    echo "## ctrld-sync plan failed"
    echo
    echo "\`ctrld-sync plan\` stopped with exit code $code, so there is no plan for this change. It said:"
    echo
    echo "${fence}text"
    cat "$excerpt"
    echo "$fence"
    if [ -n "${GITHUB_RUN_ID:-}" ]; then
      echo
      echo "[The run's log](${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID)"
    fi
  } > "$failure_markdown"
}

read -r -a args <<< "${ARGS:-}"
read -r -a plan_args <<< "${PLAN_ARGS:-}"
case "$COMMAND" in
  plan) plan_args=(${args[@]+"${args[@]}"}) ;;
  apply) ;;
  *)
    echo "::error::the command input must be plan or apply, not \`$COMMAND\`"
    echo "exitcode=1" >> "$GITHUB_OUTPUT"
    exit 0
    ;;
esac

refresh=()
# Pull requests from forks get no secrets: plan from the committed state files alone.
if [ -z "${CTRLD_API_TOKEN:-}" ] && [ "$COMMAND" = plan ]; then refresh=(--refresh none); fi

# The plan to its file; what it says on stderr to the log as it comes and to plan_log (pipefail:
# the status is the plan's).
{
  ctrld-sync plan --format markdown --detailed-exitcode ${refresh[@]+"${refresh[@]}"} \
    ${plan_args[@]+"${plan_args[@]}"} 2>&1 1>&3 3>&- | tee "$plan_log" >&2
} 3> "$plan_markdown"
code=$?
has_changes=false
if [ "$code" -eq 2 ]; then has_changes=true; fi
if [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; then
  if [ -s "$plan_markdown" ]; then
    cat "$plan_markdown" >> "$GITHUB_STEP_SUMMARY"
    echo "plan-markdown=$plan_markdown" >> "$GITHUB_OUTPUT"
    echo "comment-markdown=$plan_markdown" >> "$GITHUB_OUTPUT"
  fi
else
  write_failure_markdown "$code"
  cat "$failure_markdown" >> "$GITHUB_STEP_SUMMARY"
  echo "comment-markdown=$failure_markdown" >> "$GITHUB_OUTPUT"
fi
if [ "$COMMAND" = apply ] && { [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; }; then
  ctrld-sync apply ${args[@]+"${args[@]}"}
  code=$?
fi
echo "exitcode=$code" >> "$GITHUB_OUTPUT"
echo "has-changes=$has_changes" >> "$GITHUB_OUTPUT"
