#!/usr/bin/env bash
# Installs the ctrld-sync release binary for this runner when the action's version has one, after
# checking it against the release's SHA-256; otherwise leaves it to build.sh (prebuilt=false).
set -euo pipefail

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ACTION_PATH/Cargo.toml" | head -n 1)
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
# The build cache is keyed on the action's commit (or, used from a local path, on its files).
commit="${ACTION_REF:-}"
if [ -z "$commit" ]; then
  commit=$(cat "$ACTION_PATH/Cargo.lock" "$ACTION_PATH/Cargo.toml" | cksum | cut -d' ' -f1)
fi
echo "cache-key=ctrld-sync-$RUNNER_OS-$RUNNER_ARCH-$commit" >> "$GITHUB_OUTPUT"

sha256() {
  if command -v sha256sum > /dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

prebuilt=false
if [ -n "$target" ] && [ -n "${ACTION_REPOSITORY:-}" ]; then
  name="ctrld-sync-$target.$archive"
  url="https://github.com/$ACTION_REPOSITORY/releases/download/v$version/$name"
  download=$(mktemp -d)
  if curl -fsSL --retry 3 -o "$download/$name" "$url" \
    && curl -fsSL --retry 3 -o "$download/$name.sha256" "$url.sha256"; then
    expected=$(cut -d' ' -f1 < "$download/$name.sha256")
    actual=$(sha256 "$download/$name")
    if [ "$expected" != "$actual" ]; then
      echo "::error::$name: SHA-256 $actual does not match the release's $expected; not installing it"
      exit 1
    fi
    if [ "$archive" = zip ]; then
      unzip -o -q "$download/$name" -d "$bin_dir"
    else
      tar -xJf "$download/$name" -C "$download"
      cp "$download/ctrld-sync-$target/ctrld-sync" "$bin_dir/"
    fi
    prebuilt=true
    echo "installed the ctrld-sync v$version release binary for $target (SHA-256 checked)"
  else
    echo "no ctrld-sync v$version release binary for ${target}; building it from the action's source"
  fi
fi
echo "prebuilt=$prebuilt" >> "$GITHUB_OUTPUT"
