#!/usr/bin/env bash
# `make test`: every test. Unit and handler tests (Rust), the end-to-end suite against a stack of its own (emulator
# and local runner on free ports with a unique resource prefix, so it never touches a running `make run`), the
# LocalStack bootstrap script against the same emulator, the CDK app's tests and synth, and the deployable
# packages (cargo-lambda, ARM64) of every function.
#
#   local/test.sh                        everything (what `make test` and CI run)
#   local/test.sh -p hubble-e2e query    only `cargo test <these arguments>` against a fresh stack (a quick loop)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$root"
need npm "the CDK app is TypeScript (Node.js 18+)"

selection=("$@")
[ "${#selection[@]}" -gt 0 ] || selection=(--workspace)

work="$(mktemp -d)"
emulator_port="$(free_port)"
runner_port="$(free_port)"
prefix="hwtest$(date +%s)"
runner_pid=""
receiver_pid=""
cleanup() {
  [ -n "$runner_pid" ] && kill "$runner_pid" 2>/dev/null || true
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
  local/emulator.sh stop "$emulator_port" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
cargo build --workspace --all-targets --locked

echo "== emulator on 127.0.0.1:$emulator_port"
local/emulator.sh start "$emulator_port"

echo "== webhook receiver (verifies with the standardwebhooks reference library)"
receiver_port="$(free_port)"
test_python="$(local/test_venv.sh)"
"$test_python" tests/webhooks/receiver.py --port "$receiver_port" > "$work/receiver.log" 2>&1 &
receiver_pid=$!
wait_http "http://127.0.0.1:$receiver_port/_health" 30

echo "== GraphQL clients from npm (the graphql-http audit)"
(cd tests/graphql && npm ci --no-audit --no-fund --loglevel=error)

echo "== local runner on 127.0.0.1:$runner_port (prefix $prefix)"
AWS_ENDPOINT_URL="http://127.0.0.1:$emulator_port" HUBBLE_PORT="$runner_port" HUBBLE_RESOURCE_PREFIX="$prefix" \
  HUBBLE_STATE_DIR="$work/state" RUST_LOG="${RUST_LOG:-warn}" \
  "$CARGO_TARGET_DIR/debug/hubble-local" > "$work/runner.log" 2>&1 &
runner_pid=$!
if ! wait_http "http://127.0.0.1:$runner_port/health" 120; then
  cat "$work/runner.log" >&2
  exit 1
fi

echo "== Rust: unit, handler and end-to-end tests"
status=0
HUBBLE_E2E_BASE_URL="http://127.0.0.1:$runner_port" HUBBLE_E2E_ENDPOINT="http://127.0.0.1:$emulator_port" \
  HUBBLE_E2E_PREFIX="$prefix" HUBBLE_E2E_STATE_DIR="$work/state" HUBBLE_E2E_ADMIN_BIN="$CARGO_TARGET_DIR/debug/hubble-admin" \
  HUBBLE_E2E_RECEIVER_URL="http://127.0.0.1:$receiver_port" HUBBLE_E2E_PYTHON="$test_python" \
  cargo test --locked "${selection[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- runner log (last 80 lines)" >&2
  tail -n 80 "$work/runner.log" >&2
  exit "$status"
fi

if [ "$#" -gt 0 ]; then
  echo "== selected tests passed"
  exit 0
fi

HUBBLE_CONFORMANCE_BASE_URL="http://127.0.0.1:$runner_port" HUBBLE_CONFORMANCE_ENDPOINT="http://127.0.0.1:$emulator_port" \
  HUBBLE_CONFORMANCE_PREFIX="$prefix" HUBBLE_CONFORMANCE_ADMIN_BIN="$CARGO_TARGET_DIR/debug/hubble-admin" \
  local/conformance.sh

echo "== LocalStack bootstrap script, checked against the emulator"
HUBBLE_RESOURCE_PREFIX="${prefix}ls" "$root/local/.venv/bin/python" local/localstack/check_bootstrap.py --endpoint "http://127.0.0.1:$emulator_port"

echo "== CDK: typecheck, jest, synth"
(
  cd infra/cdk
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
  npx jest --ci
  npx cdk synth -c skipBundling=true --quiet > /dev/null
)
echo "== Packaging: every function built as CDK deploys it (cargo-lambda, release, ARM64)"
local/package.sh

echo "== all tests passed"
