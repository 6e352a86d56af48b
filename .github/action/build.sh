#!/usr/bin/env bash
# Builds ctrld-sync from the action's own checkout into BUILD_DIR, unless the cache restored it.
set -euo pipefail

exe=""
if [ "$RUNNER_OS" = Windows ]; then exe=".exe"; fi
if [ -x "$BUILD_DIR/ctrld-sync$exe" ]; then
  echo "ctrld-sync restored from the build cache"
  exit 0
fi
target_dir="$RUNNER_TEMP/ctrld-sync-target"
cargo build --release --locked --bin ctrld-sync \
  --manifest-path "$ACTION_PATH/Cargo.toml" --target-dir "$target_dir"
mkdir -p "$BUILD_DIR"
cp "$target_dir/release/ctrld-sync$exe" "$BUILD_DIR/"
