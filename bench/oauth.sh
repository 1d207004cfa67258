#!/usr/bin/env bash
# OAuth benchmark (docs/BENCHMARKS.md, "OAuth"): a fresh emulator and the release local runner on free ports, and
# node-oidc-provider (bench/oidc-provider, npm) on the same machine; then bench/oauth.py (token endpoint load for
# both, full authorization-code flows, REST calls with a token and with a key) and the in-process cost of checking
# an access token (shared/oauth-store/examples/verify_cost.rs).
#
#   bench/oauth.sh            results in bench/results/oauth-<UTC timestamp>/ (git-ignored)
#
# Environment: BENCH_OAUTH_REQUESTS (2000), BENCH_OAUTH_CONCURRENCY (8), BENCH_OAUTH_FLOWS (20).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/local/common.sh"
cd "$root"

results="$root/bench/results/oauth-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
emulator_port="$(free_port)"
runner_port="$(free_port)"
provider_port="$(free_port)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  local/emulator.sh stop "$emulator_port" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== release builds (local runner, token-check example)"
cargo build --release --locked -p hubble-local -p hw-oauth-store --example verify_cost 2>&1 | tail -n 2
echo "== node-oidc-provider (npm ci in bench/oidc-provider)"
(cd bench/oidc-provider && npm install --no-audit --no-fund --loglevel=error)
node bench/oidc-provider/server.mjs "$provider_port" > "$results/oidc-provider.log" 2>&1 &
pids+=($!)
echo "== emulator and local runner"
local/emulator.sh start "$emulator_port"
AWS_ENDPOINT_URL="http://127.0.0.1:$emulator_port" HUBBLE_PORT="$runner_port" HUBBLE_RESOURCE_PREFIX="bo$(date +%s)" \
  HUBBLE_STATE_DIR="$results/state" RUST_LOG=warn "$CARGO_TARGET_DIR/release/hubble-local" > "$results/runner.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$runner_port/health" 120
wait_http "http://127.0.0.1:$provider_port/.well-known/openid-configuration" 30
python="$(local/test_venv.sh)"
echo "== load"
"$python" bench/oauth.py --demo "$results/state/demo.json" --oidc-provider "http://127.0.0.1:$provider_port" \
  --requests "${BENCH_OAUTH_REQUESTS:-2000}" --concurrency "${BENCH_OAUTH_CONCURRENCY:-8}" --flows "${BENCH_OAUTH_FLOWS:-20}" \
  | tee "$results/oauth.json"
echo "== access-token check, in process"
"$CARGO_TARGET_DIR/release/examples/verify_cost" 20000 | tee "$results/verify_cost.txt"
echo "results in $results"
