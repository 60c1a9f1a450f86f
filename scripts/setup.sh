#!/usr/bin/env bash
# Installs what building and testing synapse-planner needs, and nothing twice.
#
#   scripts/setup.sh [build|browser|validators|all]
#     build       Rust wasm target, trunk, wasm-bindgen-cli, wasm-opt (npm binaryen)
#     browser     build + Debian chromium and chromium-driver (the default)
#     validators  the real tools the bundle is checked with (Debian packages, and a
#                 Python venv with Synapse, Patroni, ansible-core, yamllint)
#     all         browser + validators
#
# Every step checks the installed version first, so a second run takes seconds.
# Nothing is downloaded from outside the package registries (crates.io, npm, Debian):
# trunk runs offline and finds wasm-bindgen and wasm-opt on PATH (Trunk.toml).
#
# Source it (`. scripts/setup.sh`) to get PATH set for trunk; run it to just install.
set -euo pipefail

SP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SP_TOOLS="${SYNAPSE_PLANNER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/synapse-planner}"
TRUNK_VERSION="0.21.14"     # the last trunk whose rust-version is ≤ 1.95 (shared/TOOLCHAIN.md)
BINARYEN_VERSION="132.0.0"  # npm binaryen: its wasm-opt runs on Node; Debian's 108 breaks Leptos
export PATH="$SP_TOOLS/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_need PKG...: installs the packages that are not installed, in one apt-get call.
apt_need() {
  local missing=()
  for p in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

wasm_bindgen_version() {
  # The exact version in Cargo.lock (pinned with "=" in Cargo.toml).
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$SP_ROOT/Cargo.lock"
}

setup_build() {
  command -v cargo >/dev/null || { log "cargo not found: install Rust with rustup first"; exit 1; }
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    log "cargo install trunk $TRUNK_VERSION (about 10-15 minutes, once)"
    cargo install trunk --locked --version "$TRUNK_VERSION"
  fi
  local wbg
  wbg="$(wasm_bindgen_version)"
  [ -n "$wbg" ] || { log "no wasm-bindgen in Cargo.lock"; exit 1; }
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
    log "cargo install wasm-bindgen-cli $wbg (about 4 minutes, once)"
    # Not --locked: one of its locked dependencies is missing from the index.
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
  command -v npm >/dev/null || apt_need nodejs npm
  local opt
  opt="$("$SP_TOOLS/binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null || true)"
  if [[ "$opt" != *"(version_${BINARYEN_VERSION%%.*})"* ]]; then
    log "npm install binaryen@$BINARYEN_VERSION"
    mkdir -p "$SP_TOOLS/binaryen"
    npm install --prefix "$SP_TOOLS/binaryen" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  fi
  (cd "$SP_ROOT" && cargo fetch --quiet)
}

setup_browser() {
  setup_build
  apt_need chromium chromium-driver
}

# The real programs the bundle's files are checked with (shared/VALIDATORS.md). The
# Debian packages' services are never started by the install (policy-rc.d): the tests
# start what they need inside network namespaces.
VALIDATOR_APT=(
  haproxy keepalived pgbouncer postgresql-15 etcd-server pgbackrest coturn redis-server
  prometheus prometheus-alertmanager prometheus-redis-exporter prometheus-blackbox-exporter
  prometheus-postgres-exporter prometheus-pgbouncer-exporter etcd-client patroni rclone rsync
  prometheus-node-exporter chrony pamtester shellcheck jq nftables openssh-server openssh-client
  libjemalloc2
  iproute2 util-linux procps curl openssl systemd libpq-dev gcc python3-dev python3-venv
)

setup_validators() {
  local created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt_need "${VALIDATOR_APT[@]}"
  if [ -n "$created_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
  local venv="$SP_TOOLS/venv" req="$SP_ROOT/scripts/validators-requirements.txt" stamp
  stamp="$venv/.installed-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "pip install the validators into $venv (about 2 minutes, once)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    touch "$stamp"
  fi
  export SYNAPSE_PLANNER_VENV="$venv"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-browser}" in
    build) setup_build ;;
    browser) setup_browser ;;
    validators) setup_validators ;;
    all) setup_browser; setup_validators ;;
    *) echo "usage: $0 [build|browser|validators|all]" >&2; exit 2 ;;
  esac
  log "ready"
fi
