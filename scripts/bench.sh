#!/usr/bin/env bash
# Benchmarks (not tests): the native report, the browser's input-to-figures time, and
# the release build's transferred size. Figures are recorded in docs/benchmarks.md.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_browser
apt_need gzip brotli
cd "$SP_ROOT"
trunk build --release
cargo bench --locked --bench report -- --noplot
cargo bench --locked --bench browser
