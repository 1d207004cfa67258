#!/usr/bin/env bash
# GraphQL benchmark (docs/BENCHMARKS.md, "GraphQL"): a fresh emulator and the release local runner on free ports;
# then bench/graphql.py seeds companies and contacts in the demo tenant through GraphQL mutations and times a simple
# query, a 3-level nested query (20 and 5 companies), the same record through the REST API and the emulator's own
# GetItem, each sequentially and from a few threads; then bench/graphql-ws/subscriptions.mjs holds 1,000
# subscriptions (100 WebSocket connections x 10) and times the delivery of 5 events to every one of them.
#
#   bench/graphql.sh          results in bench/results/graphql-<UTC timestamp>/ (git-ignored)
#
# Environment: BENCH_GRAPHQL_REQUESTS (300 per measurement), BENCH_GRAPHQL_CONCURRENCY (8),
# BENCH_GRAPHQL_COMPANIES (20), BENCH_GRAPHQL_CONTACTS (10 per company), BENCH_GRAPHQL_WS_CONNECTIONS (100),
# BENCH_GRAPHQL_WS_PER_CONNECTION (10), BENCH_GRAPHQL_WS_EVENTS (5), BENCH_GRAPHQL_WS_SETTLE_MS (15000: the wait after
# subscribing, since graphql-transport-ws acknowledges no subscription; each is checked and stored in DynamoDB),
# BENCH_GRAPHQL_PARTS ("queries subscriptions"; either one alone to measure only that).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/local/common.sh"
cd "$root"

results="$root/bench/results/graphql-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
emulator_port="$(free_port)"
runner_port="$(free_port)"
prefix="bg$(date +%s)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  local/emulator.sh stop "$emulator_port" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== release build (local runner)"
nice -n 10 cargo build --release --locked -p hubble-local 2>&1 | tail -n 2
echo "== emulator and local runner"
local/emulator.sh start "$emulator_port"
AWS_ENDPOINT_URL="http://127.0.0.1:$emulator_port" HUBBLE_PORT="$runner_port" HUBBLE_RESOURCE_PREFIX="$prefix" \
  HUBBLE_STATE_DIR="$results/state" RUST_LOG=warn "$CARGO_TARGET_DIR/release/hubble-local" > "$results/runner.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$runner_port/health" 120
python="$(local/test_venv.sh)"
parts="${BENCH_GRAPHQL_PARTS:-queries subscriptions}"
if [[ " $parts " == *" queries "* ]]; then
echo "== load"
if ! "$python" bench/graphql.py --demo "$results/state/demo.json" --emulator "http://127.0.0.1:$emulator_port" \
  --table "$prefix-data" --requests "${BENCH_GRAPHQL_REQUESTS:-300}" --concurrency "${BENCH_GRAPHQL_CONCURRENCY:-8}" \
  --companies "${BENCH_GRAPHQL_COMPANIES:-20}" --contacts "${BENCH_GRAPHQL_CONTACTS:-10}" > "$results/graphql.json"; then
  echo "error: bench/graphql.py failed (runner log: $results/runner.log)" >&2
  exit 1
fi
cat "$results/graphql.json"
fi
if [[ " $parts " == *" subscriptions "* ]]; then
echo "== subscriptions: ${BENCH_GRAPHQL_WS_CONNECTIONS:-100} connections x ${BENCH_GRAPHQL_WS_PER_CONNECTION:-10} (graphql-ws, npm ci in bench/graphql-ws)"
(cd bench/graphql-ws && npm ci --no-audit --no-fund --loglevel=error)
key="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$results/state/demo.json")"
HUBBLE_BASE="http://127.0.0.1:$runner_port" HUBBLE_KEY="$key" CONNECTIONS="${BENCH_GRAPHQL_WS_CONNECTIONS:-100}" \
  PER_CONNECTION="${BENCH_GRAPHQL_WS_PER_CONNECTION:-10}" EVENTS="${BENCH_GRAPHQL_WS_EVENTS:-5}" \
  SETTLE_MS="${BENCH_GRAPHQL_WS_SETTLE_MS:-15000}" \
  node bench/graphql-ws/subscriptions.mjs | tee "$results/subscriptions.json"
ps -o rss= -p "${pids[0]}" | awk '{print "runner RSS after the subscriptions: " $1 / 1024 " MiB"}' | tee -a "$results/subscriptions.json"
fi
echo "results in $results"
