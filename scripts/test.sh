#!/usr/bin/env bash
# Installs what is missing, then runs every check and test:
#   formatting, clippy (native and wasm32), the release web build, and `cargo test`:
#   unit, property, snapshot and CLI tests natively; the browser tests in headless
#   Chromium against the release build; and the bundle's files through the real tools
#   that read them (HAProxy, PostgreSQL, Patroni, PgBouncer, Prometheus, Synapse, …),
#   each inside a network namespace with only loopback (needs root); then the long
#   randomized run of the link decoder and the plan-file reader (examples/fuzz.rs).
# Exits non-zero on the first failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_browser
setup_validators
cd "$SP_ROOT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Snapshots are compared, never written, here.
export INSTA_UPDATE=no CI=true

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native, all targets)"
cargo clippy --locked --all-targets -- -D warnings
step "cargo clippy (wasm32 app)"
cargo clippy --locked --target wasm32-unknown-unknown -- -D warnings
step "trunk build --release"
trunk build --release
step "cargo test (unit, property, snapshot, CLI, browser)"
SYNAPSE_PLANNER_DIST="$SP_ROOT/dist" cargo test --locked
step "fuzz: 1,000,000 cases through the link decoder and the plan-file reader"
cargo run --locked --profile fuzz --example fuzz -- 1000000
step "all tests passed"
