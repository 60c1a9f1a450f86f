#!/usr/bin/env bash
# Installs what is missing, then serves the app at http://127.0.0.1:8080 (release
# build, rebuilt on change). Extra arguments go to `trunk serve`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build
cd "$SP_ROOT"
exec trunk serve --release --address 127.0.0.1 --port 8080 "$@"
