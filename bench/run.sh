#!/usr/bin/env bash
# HubbleWave benchmarks: release binary sizes, Lambda cold-start init, records latency through the local runner, the
# REST API under load (50 clients next to the emulator's own latency; a paced 10,000 requests/min with rate limits),
# and webhook delivery on the local stack (event-to-first-attempt latency; retries against a receiver failing 30 %).
# Method and latest numbers: docs/BENCHMARKS.md. Not part of the test run (nothing here is a cargo target or a test).
#
#   bench/run.sh              full run (2-3 minutes on 2 cores with a warm build cache, plus ~8 for the REST
#                             benchmark; a cold cache adds the release builds, several minutes each)
#   bench/run.sh --quick      smoke run: few iterations, no cargo-lambda builds
#   bench/run.sh --skip-lambda
#   bench/run.sh --skip-rest  without the REST API load benchmark (bench/rest.py, ~8 minutes)
#   bench/run.sh --rest-only  build, sizes and the REST API benchmark only (no cargo-lambda, cold start or records)
#   bench/run.sh --skip-webhooks  without the webhook benchmark (bench/webhooks.py, ~3 minutes)
#   bench/run.sh --webhooks-only  build, sizes and the webhook benchmark only
#   bench/run.sh --skip-imports   without the import benchmark (bench/imports.py, ~15 minutes)
#   bench/run.sh --imports-only   build and the import benchmark only: 100,000-row CSV and XLSX imports on the stack
#                                 beside the emulator's raw BatchWriteItem rate, in-process throughput beside DuckDB,
#                                 the chunk processor's memory on a 100 MB CSV
#   (the in-process dispatcher benchmark is a cargo bench: `cargo bench -p hw-webhooks --bench dispatch`)
#
# Tunables (environment): BENCH_RUNS (cold-start runs per function, 30), BENCH_OPS (gets through the runner and
# puts/gets against the emulator, 2000), BENCH_CREATES (creates through the runner, 500), BENCH_CONCURRENCY (20),
# BENCH_SKIP_LAMBDA=1, BENCH_SKIP_REST=1, BENCH_REST_CLIENTS (50), BENCH_REST_OPS (requests per closed-loop REST phase,
# 1000), BENCH_REST_RPM (paced rate, 10000), BENCH_REST_SECONDS (paced length, 60), BENCH_REST_ARGS (more
# bench/rest.py options), BENCH_SKIP_WEBHOOKS=1, BENCH_WEBHOOK_EVENTS (latency: creates one after another, 200; 50
# more are sent in bursts of 5), BENCH_WEBHOOK_RECOVERY_EVENTS (events against the failing receiver, 300),
# BENCH_WEBHOOK_ARGS (more bench/webhooks.py options), BENCH_SKIP_IMPORTS=1, BENCH_IMPORT_ROWS (100000),
# BENCH_IMPORT_ARGS (more bench/imports.py options), BENCH_EMULATOR_MAX_RSS_MB (4096: the emulator is killed, and
# the run fails, beyond it),
# CARGO_TARGET_DIR (default: one per checkout under ~/.cache/hubblewave/targets, see local/common.sh).
#
# It starts its own emulator (moto, via local/emulator.sh) and its own local runner on free ports (never 4566/8080),
# with a unique resource prefix and a temporary state directory, and stops both on exit, failure or interrupt.
# Results: bench/results/<UTC timestamp>/ (git-ignored): JSON per benchmark, logs, summary.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"
# shellcheck source=../local/common.sh
source "$root/local/common.sh"

runs="${BENCH_RUNS:-30}"
ops="${BENCH_OPS:-2000}"
creates="${BENCH_CREATES:-500}"
concurrency="${BENCH_CONCURRENCY:-20}"
warmup=100
profile_ops=20
skip_lambda="${BENCH_SKIP_LAMBDA:-0}"
skip_rest="${BENCH_SKIP_REST:-0}"
rest_only=0
rest_clients="${BENCH_REST_CLIENTS:-50}"
rest_ops="${BENCH_REST_OPS:-1000}"
rest_rpm="${BENCH_REST_RPM:-10000}"
rest_seconds="${BENCH_REST_SECONDS:-60}"
read -r -a rest_extra <<< "${BENCH_REST_ARGS:-}"  # more bench/rest.py options, e.g. "--skip-closed --skip-sequential"
rest_records=300
rest_seq_ops=50
skip_webhooks="${BENCH_SKIP_WEBHOOKS:-0}"
webhooks_only=0
webhook_events="${BENCH_WEBHOOK_EVENTS:-200}"
webhook_recovery_events="${BENCH_WEBHOOK_RECOVERY_EVENTS:-300}"
webhook_bursts=10
read -r -a webhook_extra <<< "${BENCH_WEBHOOK_ARGS:-}"  # more bench/webhooks.py options
skip_imports="${BENCH_SKIP_IMPORTS:-0}"
imports_only=0
import_rows="${BENCH_IMPORT_ROWS:-100000}"
read -r -a import_extra <<< "${BENCH_IMPORT_ARGS:-}"  # more bench/imports.py options, e.g. "--formats csv"
max_rss_mb="${BENCH_EMULATOR_MAX_RSS_MB:-4096}"
for arg in "$@"; do
  case "$arg" in
    --quick) runs=5; ops=200; creates=50; warmup=10; profile_ops=5; skip_lambda=1
             rest_ops=200; rest_seconds=15; rest_records=100; rest_seq_ops=10
             webhook_events=40; webhook_bursts=2; webhook_recovery_events=60
             import_rows=2000; import_extra+=(--repeat 2 --memory-mb 5) ;;
    --skip-lambda) skip_lambda=1 ;;
    --skip-rest) skip_rest=1 ;;
    --rest-only) rest_only=1; skip_lambda=1; skip_rest=0; skip_webhooks=1; skip_imports=1 ;;
    --skip-webhooks) skip_webhooks=1 ;;
    --webhooks-only) webhooks_only=1; skip_lambda=1; skip_rest=1; skip_webhooks=0; skip_imports=1 ;;
    --skip-imports) skip_imports=1 ;;
    --imports-only) imports_only=1; skip_lambda=1; skip_rest=1; skip_webhooks=1; skip_imports=0 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$bench/results/$stamp"
mkdir -p "$results"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/hubble-bench.XXXXXX")"
prefix="bench$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
emu_port=""
runner_pid=""
watchdog_pid=""
started="$(date +%s)"
loadavg_start="$(cut -d' ' -f1-3 /proc/loadavg)"
rest_rc=0
webhooks_rc=0
imports_rc=0

log() { printf '\n[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "$watchdog_pid" ]; then kill "$watchdog_pid" 2>/dev/null || true; wait "$watchdog_pid" 2>/dev/null || true; fi
  if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -TERM "$runner_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$runner_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$runner_pid" 2>/dev/null || true
    wait "$runner_pid" 2>/dev/null || true
  fi
  if [ -n "$emu_port" ]; then
    local emu_pid
    emu_pid="$(cat "$root/local/.state/emulator-$emu_port.pid" 2>/dev/null || true)"
    cp "$root/local/.state/emulator-$emu_port.log" "$results/emulator.log" 2>/dev/null || true
    "$root/local/emulator.sh" stop "$emu_port" || true
    # moto can take a while to exit after SIGTERM with a large heap; make sure the one we started is gone.
    if [ -n "$emu_pid" ]; then
      for _ in $(seq 1 300); do kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$emu_pid" 2>/dev/null || true
    fi
    rm -f "$root/local/.state/emulator-$emu_port.log"
  fi
  rm -rf "$tmp"
  if [ "$code" -ne 0 ]; then echo "bench: failed (exit $code); logs in $results" >&2; fi
  exit "$code"
}
# Long steps run as background jobs that the script waits for: a trapped signal interrupts `wait` at once (it would
# otherwise be handled only after the foreground command ends), and the handler stops the step before cleaning up.
child=""
step() { "$@" & child=$!; local rc=0; wait "$child" || rc=$?; child=""; return "$rc"; }
on_signal() { if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi; exit "$1"; }
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

free_port() {
  python3 - <<'PY'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p not in (4566, 8080):
        print(p); break
PY
}

# --- tooling ------------------------------------------------------------------------------------------------------
log "bench venv (bench/.venv: boto3, aiohttp, cargo-lambda, ziglang)"
venv="$bench/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
want="$(sha256sum "$bench/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$bench/requirements.txt"
  echo "$want" > "$venv/.requirements.sha"
fi
py="$venv/bin/python"

# --- 1. build and sizes -------------------------------------------------------------------------------------------
cd "$root"
log "cargo build --release -p api -p outbox-relay"
t0=$(date +%s)
cargo build --release -p api -p outbox-relay 2>&1 | tail -n 3
build_s=$(( $(date +%s) - t0 ))
# The runner is built by its own command: building it together with the functions would unify features and change
# the function binaries being measured.
log "cargo build --release -p hubble-local"
cargo build --release -p hubble-local 2>&1 | tail -n 3
bins=(api outbox-relay hubble-local)
if [ "$skip_webhooks" != 1 ]; then
  # The webhook benchmark makes its tenants with the operator tool (a separate command for the same reason).
  log "cargo build --release -p hubble-admin"
  cargo build --release -p hubble-admin 2>&1 | tail -n 3
  bins+=(hubble-admin)
fi
if [ "$skip_imports" != 1 ]; then
  # Examples of the import crates: single-thread throughput on a file, and the chunk processor's memory.
  log "cargo build --release --example throughput / chunk_memory"
  cargo build --release -p hw-import --example throughput 2>&1 | tail -n 3
  cargo build --release -p import-chunk-processor --example chunk_memory 2>&1 | tail -n 3
fi
# Copies, so that a concurrent build in the shared target directory cannot swap a binary mid-run.
mkdir -p "$tmp/bin"
for b in "${bins[@]}"; do cp "$CARGO_TARGET_DIR/release/$b" "$tmp/bin/$b"; done
if [ "$skip_imports" != 1 ]; then
  for b in throughput chunk_memory; do cp "$CARGO_TARGET_DIR/release/examples/$b" "$tmp/bin/$b"; done
fi

sizes=(--artifact "cargo-release x86_64" api "$tmp/bin/api" --artifact "cargo-release x86_64" outbox-relay "$tmp/bin/outbox-relay")
lambda_status="skipped (--skip-lambda / --quick / BENCH_SKIP_LAMBDA=1)"
if [ "$skip_lambda" != 1 ]; then
  lambda_status=""
  # cargo-zigbuild's linker wrapper embeds the path of the cargo-lambda binary, and the build cache is keyed on the
  # linker: with a second copy of cargo-lambda, this and local/package.sh (which installs the same pinned version
  # into its build venv) would throw away each other's ARM64 builds. Use the project's copy when it is the same version.
  lambda_path="$venv/bin"
  want_version="$(PATH="$venv/bin:$PATH" cargo lambda --version 2>/dev/null || true)"
  build_venv="${HUBBLE_BUILD_VENV:-$HOME/.cache/hubblewave/build-venv}"
  if [ -x "$build_venv/bin/cargo-lambda" ] && [ -n "$want_version" ] \
     && [ "$(PATH="$build_venv/bin:$PATH" cargo lambda --version 2>/dev/null || true)" = "$want_version" ]; then
    lambda_path="$build_venv/bin"
  fi
  lambda_status="${want_version:-cargo-lambda ?} from ${lambda_path#$root/}; "
  for arch in x86-64 arm64; do
    dir="$CARGO_TARGET_DIR/bench-lambda-$arch"
    log "cargo lambda build --release --$arch -p api -p outbox-relay"
    if PATH="$lambda_path:$PATH" step cargo lambda build --release "--$arch" -p api -p outbox-relay --lambda-dir "$dir" \
         > "$results/cargo-lambda-$arch.log" 2>&1; then
      tail -n 2 "$results/cargo-lambda-$arch.log" >&2
      for f in api outbox-relay; do sizes+=(--artifact "cargo-lambda $arch" "$f" "$dir/$f/bootstrap"); done
      lambda_status+="$arch: ok; "
    else
      tail -n 20 "$results/cargo-lambda-$arch.log" >&2
      lambda_status+="$arch: FAILED (see cargo-lambda-$arch.log); "
    fi
  done
fi
"$py" "$bench/sizes.py" "${sizes[@]}" --out "$results/sizes.json"

# --- emulator and runner ------------------------------------------------------------------------------------------
emu_port="$(free_port)"
log "emulator (moto) on 127.0.0.1:$emu_port"
# The request recorder (used by the records profile) writes here instead of the emulator's working directory.
MOTO_RECORDER_FILEPATH="$tmp/moto-recording" "$root/local/emulator.sh" start "$emu_port"
endpoint="http://127.0.0.1:$emu_port"
# Watchdog: moto keeps every model object it ever created (see docs/BENCHMARKS.md), so its memory grows with the
# square of the records created. Record the peak, and stop it before it can starve the machine.
emu_pid="$(cat "$root/local/.state/emulator-$emu_port.pid")"
echo 0 > "$tmp/emulator-peak-rss-kb"
(
  peak=0
  while kill -0 "$emu_pid" 2>/dev/null; do
    rss="$(ps -o rss= -p "$emu_pid" 2>/dev/null | tr -d ' ')"
    if [ -n "$rss" ] && [ "$rss" -gt "$peak" ]; then peak=$rss; echo "$peak" > "$tmp/emulator-peak-rss-kb"; fi
    if [ -n "$rss" ] && [ "$rss" -gt $(( max_rss_mb * 1024 )) ]; then
      echo "bench: emulator RSS ${rss} kB exceeds BENCH_EMULATOR_MAX_RSS_MB=$max_rss_mb; stopping it" >&2
      kill -KILL "$emu_pid" 2>/dev/null || true
      break
    fi
    sleep 1
  done
) &
watchdog_pid=$!

runner_port="$(free_port)"
log "local runner on 127.0.0.1:$runner_port, prefix $prefix"
mkdir -p "$tmp/state"
HUBBLE_PORT="$runner_port" AWS_ENDPOINT_URL="$endpoint" HUBBLE_RESOURCE_PREFIX="$prefix" HUBBLE_STATE_DIR="$tmp/state" \
  "$tmp/bin/hubble-local" > "$results/runner.log" 2>&1 &
runner_pid=$!
base_url="http://127.0.0.1:$runner_port"
ready=0
for _ in $(seq 1 300); do
  kill -0 "$runner_pid" 2>/dev/null || { tail -n 30 "$results/runner.log" >&2; echo "runner exited" >&2; exit 1; }
  if [ -f "$tmp/state/demo.json" ] && curl -s -o /dev/null "$base_url/health"; then ready=1; break; fi
  sleep 0.2
done
[ "$ready" = 1 ] || { tail -n 30 "$results/runner.log" >&2; echo "runner did not become ready" >&2; exit 1; }
api_key="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$tmp/state/demo.json")"

if [ "$rest_only" != 1 ] && [ "$webhooks_only" != 1 ] && [ "$imports_only" != 1 ]; then
# --- 2. cold start ------------------------------------------------------------------------------------------------
# The functions get their resource variables from shared/resources/resources.json, as CDK sets them, pointing at the
# runner's resources (so the first invocation finds real tables).
fn_env=(--manifest "$root/shared/resources/resources.json" --prefix "$prefix" --env "AWS_ENDPOINT_URL=$endpoint")
log "cold start: api ($runs runs init-only, $runs runs with events/api/health.json, 1 run under strace)"
step "$py" "$bench/coldstart.py" --bin "$tmp/bin/api" --function api --runs "$runs" --event "$root/events/api/health.json" \
  "${fn_env[@]}" --log "$results/coldstart-api.log" --out "$results/coldstart-api.json"
log "cold start: outbox-relay (events/outbox-relay/sweep.json)"
step "$py" "$bench/coldstart.py" --bin "$tmp/bin/outbox-relay" --function outbox-relay --runs "$runs" \
  --event "$root/events/outbox-relay/sweep.json" "${fn_env[@]}" \
  --log "$results/coldstart-outbox-relay.log" --out "$results/coldstart-outbox-relay.json"
# Where init time goes: rustls-native-certs reads every file of the certificate directory (SSL_CERT_DIR, by default
# /etc/ssl/certs: ~300 files on Debian/Ubuntu, usually only bundles on Amazon Linux). The same api binary with an empty one:
log "cold start: api with an empty SSL_CERT_DIR (init only)"
mkdir -p "$tmp/empty-cert-dir"
step "$py" "$bench/coldstart.py" --bin "$tmp/bin/api" --function api --runs "$runs" "${fn_env[@]}" \
  --env "SSL_CERT_DIR=$tmp/empty-cert-dir" --no-strace --log "$results/coldstart-api.log" --out "$results/coldstart-api-empty-cert-dir.json"

# --- 3. records latency -------------------------------------------------------------------------------------------
log "records: $creates creates + $ops gets through the runner, $ops PutItem + GetItem against the emulator, $concurrency clients"
step "$py" "$bench/records.py" --base-url "$base_url" --api-key "$api_key" --endpoint "$endpoint" \
  --scratch-table "$prefix-bench-scratch" --ops "$ops" --creates "$creates" --concurrency "$concurrency" \
  --warmup "$warmup" --profile --profile-ops "$profile_ops" --out "$results/records.json"
fi

# --- 4. REST API under load --------------------------------------------------------------------------------------
# Closed loop at $rest_clients clients (GET by id, list of 25) next to the emulator's GetItem/Query at the same
# concurrency; a paced open loop at $rest_rpm requests/min with a per-key limit just above it; an over-limit burst.
# Its exit status (1 on any 5xx) is the run's, after the summary is written.
if [ "$skip_rest" != 1 ]; then
  log "REST API: $rest_clients clients x $rest_ops requests per phase; paced $rest_rpm/min for $rest_seconds s"
  step "$py" "$bench/rest.py" --base-url "$base_url" --endpoint "$endpoint" --demo "$tmp/state/demo.json" \
    --prefix "$prefix" --clients "$rest_clients" --ops "$rest_ops" --rpm "$rest_rpm" --seconds "$rest_seconds" \
    --records "$rest_records" --seq-ops "$rest_seq_ops" --runner-pid "$runner_pid" --emulator-pid "$emu_pid" \
    "${rest_extra[@]}" --out "$results/rest.json" || rest_rc=$?
fi

# --- 5. webhooks on the local stack ------------------------------------------------------------------------------
# Event-to-first-attempt latency (a receiver that answers at once) and the recovery of retries against a receiver
# that fails 30 % of requests at random, each on a fresh tenant made with hubble-admin. Exit 1 on a correctness
# failure (a lost event, an unsettled delivery, a bad signature, a request after a 2xx); 2 without a webhooks API.
if [ "$skip_webhooks" != 1 ]; then
  log "webhooks: $webhook_events + $((webhook_bursts * 5)) events for latency; $webhook_recovery_events against a receiver failing 30 %"
  step "$py" "$bench/webhooks.py" --base-url "$base_url" --endpoint "$endpoint" --prefix "$prefix" \
    --admin-bin "$tmp/bin/hubble-admin" --sequential "$webhook_events" --bursts "$webhook_bursts" \
    --recovery-events "$webhook_recovery_events" --runner-pid "$runner_pid" --emulator-pid "$emu_pid" \
    "${webhook_extra[@]}" --out "$results/webhooks.json" || webhooks_rc=$?
  # No webhooks API in this build: reported in the summary; a failure only when the webhooks were all that was asked.
  if [ "$webhooks_rc" -eq 2 ] && [ "$webhooks_only" != 1 ]; then
    echo "bench: the stack has no webhooks API; the webhook benchmark was not run" >&2
    webhooks_rc=0
  fi
fi

# --- 6. imports ----------------------------------------------------------------------------------------------------
# In process (throughput beside DuckDB, memory on a 100 MB CSV), then $import_rows-row CSV and XLSX imports on the
# stack and the emulator's raw BatchWriteItem rate for the same rows. Exit 1 when an import does not complete.
if [ "$skip_imports" != 1 ]; then
  log "imports: $import_rows rows (CSV, XLSX) end to end; in-process throughput vs DuckDB; memory on 100 MB"
  step "$py" "$bench/imports.py" --workdir "$tmp/imports" --throughput-bin "$tmp/bin/throughput" \
    --memory-bin "$tmp/bin/chunk_memory" --rows "$import_rows" --base-url "$base_url" --api-key "$api_key" \
    --endpoint "$endpoint" --prefix "$prefix" "${import_extra[@]}" --out "$results/imports.json" || imports_rc=$?
fi

# --- summary ------------------------------------------------------------------------------------------------------
emu_log="$root/local/.state/emulator-$emu_port.log"
rss_now="$(ps -o rss= -p "$emu_pid" 2>/dev/null | tr -d ' ' || true)"
count() { local n; n="$(grep -c "$1" "$emu_log" 2>/dev/null || true)"; echo "${n:-0}"; }
cat > "$results/meta.json" <<EOF
{
  "date_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)",
  "dirty": $( [ -z "$(git -C "$root" status --porcelain 2>/dev/null)" ] && echo false || echo true ),
  "cpus": $(nproc),
  "cpu_model": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//;s/"//g')",
  "rustc": "$(rustc --version)",
  "python": "$("$py" --version 2>&1)",
  "moto": "$("$root/local/.venv/bin/python" -c 'import moto; print(moto.__version__)')",
  "prefix": "$prefix",
  "runs": $runs, "ops": $ops, "creates": $creates, "concurrency": $concurrency,
  "rest": {"skipped": $( [ "$skip_rest" = 1 ] && echo true || echo false ), "clients": $rest_clients, "ops": $rest_ops, "rpm": $rest_rpm, "seconds": $rest_seconds, "exit": $rest_rc},
  "webhooks": {"skipped": $( [ "$skip_webhooks" = 1 ] && echo true || echo false ), "events": $webhook_events, "bursts": $webhook_bursts, "recovery_events": $webhook_recovery_events, "exit": $webhooks_rc},
  "imports": {"skipped": $( [ "$skip_imports" = 1 ] && echo true || echo false ), "rows": $import_rows, "exit": $imports_rc},
  "loadavg_start": "$loadavg_start",
  "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "release_build_s": $build_s,
  "cargo_lambda": "${lambda_status%; }",
  "emulator_http_500": $(count '" 500 -'),
  "emulator_dict_changed_errors": $(count 'dictionary changed size during iteration'),
  "emulator_rss_mb_now": $(( ${rss_now:-0} / 1024 )),
  "emulator_peak_rss_mb": $(( $(cat "$tmp/emulator-peak-rss-kb") / 1024 )),
  "total_s": $(( $(date +%s) - started ))
}
EOF
"$py" "$bench/summarize.py" "$results" | tee "$results/summary.md"
echo "results: $results" >&2
if [ "$rest_rc" -ne 0 ]; then echo "bench: the REST benchmark failed its checks (see rest.json \"problems\")" >&2; exit "$rest_rc"; fi
if [ "$webhooks_rc" -ne 0 ]; then echo "bench: the webhook benchmark failed (see webhooks.json \"problems\")" >&2; exit "$webhooks_rc"; fi
if [ "$imports_rc" -ne 0 ]; then echo "bench: the import benchmark failed (see imports.json \"problems\")" >&2; exit "$imports_rc"; fi
