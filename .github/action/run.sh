#!/usr/bin/env bash
# Runs `ctrld-sync plan` (Markdown, detailed exit code) and, for `apply`, then `ctrld-sync apply`;
# writes the plan to the job summary and the step outputs. Always exits 0: the action's last step
# fails the job on an error, after the comment step has run.
set -uo pipefail

plan_markdown="$RUNNER_TEMP/ctrld-sync-plan.md"
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

ctrld-sync plan --format markdown --detailed-exitcode ${refresh[@]+"${refresh[@]}"} \
  ${plan_args[@]+"${plan_args[@]}"} > "$plan_markdown"
code=$?
has_changes=false
if [ "$code" -eq 2 ]; then has_changes=true; fi
if [ -s "$plan_markdown" ]; then
  cat "$plan_markdown" >> "$GITHUB_STEP_SUMMARY"
  echo "plan-markdown=$plan_markdown" >> "$GITHUB_OUTPUT"
fi
if [ "$COMMAND" = apply ] && { [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; }; then
  ctrld-sync apply ${args[@]+"${args[@]}"}
  code=$?
fi
echo "exitcode=$code" >> "$GITHUB_OUTPUT"
echo "has-changes=$has_changes" >> "$GITHUB_OUTPUT"
