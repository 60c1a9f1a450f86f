#!/usr/bin/env bash
# Takes the README's screenshots: every view of the default plan (each tab in the light
# theme, and the budgets in the dark theme) at 1280×900 in headless Chromium, into
# docs/screenshots/<view>.png. Deterministic: a fresh browser profile, a fixed viewport
# and clock; the same build gives the same bytes.
#
#   scripts/screenshots.sh [DIST]
#
# DIST is a built site (default: build one with `trunk build --release` into dist/).
# The capture is the test binary tests/browser_screenshots.rs, over the same harness as
# the browser tests (chromium + chromedriver, no network).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=scripts/setup.sh
. "$root/scripts/setup.sh"
setup_browser

dist="${1:-}"
if [ -z "$dist" ]; then
  log "trunk build --release"
  trunk build --release
  dist="$root/dist"
fi
dist="$(cd "$dist" && pwd)"
[ -f "$dist/index.html" ] || { log "$dist has no index.html"; exit 1; }

out="$root/docs/screenshots"
mkdir -p "$out"
log "screenshots of $dist into $out"
SYNAPSE_PLANNER_DIST="$dist" SCREENSHOT_DIR="$out" \
  cargo test --test browser_screenshots -- --nocapture
ls -l "$out"/*.png
