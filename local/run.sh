#!/usr/bin/env bash
# `make run`: the whole platform on this machine. Installs the emulator if missing, starts it on 127.0.0.1:4566
# (unless one already answers there), bootstraps the resources, hosts every function in the local runner on
# 127.0.0.1:${HUBBLE_PORT:-8080} and seeds the demo tenant (credentials in local/.state/demo.json).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$root"

emulator_port="${HUBBLE_EMULATOR_PORT:-4566}"
started_emulator=""
if ! local/emulator.sh status "$emulator_port"; then
  local/emulator.sh start "$emulator_port"
  started_emulator=1
fi
cleanup() { [ -n "$started_emulator" ] && local/emulator.sh stop "$emulator_port"; }
trap cleanup EXIT

cargo build -p hubble-local -p hubble-admin
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:$emulator_port}"
"$CARGO_TARGET_DIR/debug/hubble-local"
