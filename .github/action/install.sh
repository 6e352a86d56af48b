#!/usr/bin/env bash
# Installs ctrld-sync for the action. The release binary for this runner is used only when it is tied
# to the action's own commit: its SHA-256 matches the release's, and `gh attestation verify` finds
# the build provenance attestation that the release workflow of the action's repository made for it,
# naming exactly this commit as its source. Otherwise (prebuilt=false) build.sh builds it from the
# action's checkout, cached per commit. The last line says which path was taken, and why.
set -euo pipefail

# Sets `commit` (empty when unknown) and `commit_from` (where it was found): github.action_ref when
# it is a full commit SHA; else the action's checkout when it is a git work tree (`uses: ./`); else
# the runner's download directory `_actions/<owner>/<repo>/<ref>`, whose last part is the ref as
# written in `uses:` (github.action_ref may be empty inside composite actions).
resolve_action_commit() {
  commit="" commit_from=""
  local from_path="${action_path##*/}"
  if is_commit "${ACTION_REF:-}"; then
    commit="$ACTION_REF" commit_from="github.action_ref"
  elif is_git_top_level "$action_path"; then
    commit=$(git -C "$action_path" rev-parse HEAD)
    commit_from="the action's git checkout (github.action_ref is '${ACTION_REF:-}')"
  elif is_commit "$from_path" && [ -n "$(action_repository_from_path)" ]; then
    commit="$from_path" commit_from="the action's path (github.action_ref is '${ACTION_REF:-}')"
  fi
}

# The top directory of a git work tree (not a directory somewhere inside one).
is_git_top_level() {
  local prefix
  prefix=$(git -C "$1" rev-parse --show-prefix 2> /dev/null) && [ -z "$prefix" ]
}

is_commit() {
  case "$1" in
    *[!0-9a-f]*) return 1 ;;
    *) [ "${#1}" -eq 40 ] ;;
  esac
}

# `<owner>/<repo>` from a path `.../_actions/<owner>/<repo>/<ref>` (`\` on Windows), else nothing.
action_repository_from_path() {
  local rest="${action_path#*/_actions/}"
  if [ "$rest" = "$action_path" ]; then return 0; fi
  local owner="${rest%%/*}"
  rest="${rest#*/}"
  local repo="${rest%%/*}"
  case "${rest#*/}" in
    "" | */* | "$rest") ;;
    *) echo "$owner/$repo" ;;
  esac
}

sha256() {
  if command -v sha256sum > /dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

# What the build reads, hashed: the cache key when the commit is unknown, so an unchanged source is
# not rebuilt on every run and a changed one is.
source_digest() {
  local parts=(Cargo.toml) part
  for part in Cargo.lock src emulator; do
    if [ -e "$action_path/$part" ]; then parts+=("$part"); fi
  done
  (cd "$action_path" && find "${parts[@]}" -type f -not -path '*/target/*' | LC_ALL=C sort \
    | while IFS= read -r file; do echo "$file $(sha256 "$file")"; done) | cksum | cut -d' ' -f1
}

# Checks the downloaded archive; on success returns 0, else prints why not and returns 1.
verify_archive() {
  local file="$1" expected actual attested
  expected=$(cut -d' ' -f1 < "$file.sha256")
  actual=$(sha256 "$file")
  if [ "$expected" != "$actual" ]; then
    echo "::warning::$name: SHA-256 $actual does not match the release's $expected; not using it"
    why="its SHA-256 does not match the release's"
    return 1
  fi
  if ! command -v gh > /dev/null 2>&1; then
    why="gh is not installed, so its build provenance attestation cannot be verified"
    return 1
  fi
  # The attestation must come from this repository's release workflow; its certificate names the
  # commit the workflow ran on.
  if ! attested=$(gh attestation verify "$file" --repo "$repository" \
    --signer-workflow "$repository/.github/workflows/release.yml" --format json \
    --jq '.[].verificationResult.signature.certificate.sourceRepositoryDigest' 2> "$download/gh.err"); then
    why="its attestation could not be verified: $(grep -v '^[[:space:]]*$' "$download/gh.err" | tail -n 1)"
    return 1
  fi
  if ! echo "$attested" | grep -qx "$commit"; then
    why="it is attested as built from $(echo "$attested" | tr '\n' ' ' | sed 's/ $//'), not from the action's commit $commit"
    return 1
  fi
}

unpack() {
  if [ "$archive" = zip ]; then
    unzip -o -q "$download/$name" -d "$bin_dir"
  else
    tar -xJf "$download/$name" -C "$download"
    cp "$download/ctrld-sync-$target/ctrld-sync" "$bin_dir/"
  fi
}

# Tries the release binary; sets `why` when it is not used.
install_release_binary() {
  why=""
  if [ -z "$commit" ]; then
    why="the action's commit is unknown (github.action_ref is '${ACTION_REF:-}', and $action_path is"
    why="$why neither a git checkout nor a download of a commit), so no release binary can be tied to it"
    return 1
  fi
  if [ -z "$repository" ]; then
    why="the action's repository is unknown (github.action_repository is empty), so no attestation can be checked"
    return 1
  fi
  if [ -z "$target" ]; then
    why="no release binary is built for $RUNNER_OS/$RUNNER_ARCH"
    return 1
  fi
  name="ctrld-sync-$target.$archive"
  local url="https://github.com/$repository/releases/download/v$version/$name"
  download=$(mktemp -d)
  if ! curl -fsSL --retry 3 -o "$download/$name" "$url" \
    || ! curl -fsSL --retry 3 -o "$download/$name.sha256" "$url.sha256"; then
    why="the release v$version has no $name (or it could not be downloaded)"
    return 1
  fi
  verify_archive "$download/$name" || return 1
  unpack
}

: "${ACTION_PATH:?}" "${RUNNER_OS:?}" "${RUNNER_ARCH:?}" "${GITHUB_PATH:?}" "${GITHUB_OUTPUT:?}"
action_path="${ACTION_PATH//\\//}"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1)
repository="${ACTION_REPOSITORY:-$(action_repository_from_path)}"
case "$RUNNER_OS/$RUNNER_ARCH" in
  Linux/X64) target=x86_64-unknown-linux-gnu archive=tar.xz ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu archive=tar.xz ;;
  macOS/ARM64) target=aarch64-apple-darwin archive=tar.xz ;;
  macOS/X64) target=x86_64-apple-darwin archive=tar.xz ;;
  Windows/X64) target=x86_64-pc-windows-msvc archive=zip ;;
  *) target="" archive="" ;;
esac

root="$HOME/.ctrld-sync"
bin_dir="$root/bin"
build_dir="$root/build"
mkdir -p "$bin_dir" "$build_dir"
echo "$bin_dir" >> "$GITHUB_PATH"
echo "$build_dir" >> "$GITHUB_PATH"
echo "build-dir=$build_dir" >> "$GITHUB_OUTPUT"

resolve_action_commit
if [ -n "$commit" ]; then
  echo "the action's commit: $commit (from $commit_from)"
  cache_key="ctrld-sync-$RUNNER_OS-$RUNNER_ARCH-$commit"
else
  digest=$(source_digest)
  echo "the action's commit is unknown: the build is cached on a digest of its source ($digest)"
  cache_key="ctrld-sync-$RUNNER_OS-$RUNNER_ARCH-source-$digest"
fi
echo "cache-key=$cache_key" >> "$GITHUB_OUTPUT"

if install_release_binary; then
  echo "prebuilt=true" >> "$GITHUB_OUTPUT"
  echo "ctrld-sync: using the v$version release binary for $target: SHA-256 checked, attested as built" \
    "from $commit by the release workflow of $repository"
else
  echo "prebuilt=false" >> "$GITHUB_OUTPUT"
  echo "ctrld-sync: building from the action's checkout, because $why"
fi
