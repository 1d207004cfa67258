# Shared by local/run.sh and local/test.sh: toolchain checks and small helpers.
# shellcheck shell=bash

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds go to a target directory outside the clone, one per checkout path, so a later run of the same checkout (CI
# included) reuses its builds. One per path because cargo decides freshness of workspace crates by file times: a
# directory shared by two checkouts can hand one of them test binaries built from the other, with the other's
# CARGO_MANIFEST_DIR baked in.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hubblewave/targets/$(printf '%s' "$root" | sha256sum | cut -c1-16)}"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }
}

need cargo "install Rust from https://rustup.rs"
need python3 "the emulator (moto) runs on Python 3.9+"

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until GET $1 answers 200 (at most $2 seconds).
wait_http() {
  local url="$1" limit="${2:-60}"
  for _ in $(seq 1 $((limit * 5))); do
    if python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "error: $url did not answer within ${limit}s" >&2
  return 1
}
