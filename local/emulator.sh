#!/usr/bin/env bash
# The local AWS emulator: moto (pinned in local/requirements.txt, in a project venv), served by local/emulator_server.py.
#   local/emulator.sh install          create local/.venv and install moto (idempotent)
#   local/emulator.sh start [PORT]     start it in the background on 127.0.0.1:PORT (default 4566), wait until it answers
#   local/emulator.sh stop [PORT]      stop the one this script started on PORT
#   local/emulator.sh status [PORT]    exit 0 when an emulator answers on PORT
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
state="$here/.state"
cmd="${1:-}"
port="${2:-${HUBBLE_EMULATOR_PORT:-4566}}"
mkdir -p "$state"

install() {
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  local stamp="$venv/.requirements.sha"
  local want
  want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
  fi
}

answers() {
  # moto answers GET /moto-api/ ; any HTTP answer means it is up.
  python3 - "$port" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
except Exception as e:
    sys.exit(0 if hasattr(e, "code") else 1)
PY
}

case "$cmd" in
  install) install ;;
  start)
    install
    if answers; then echo "emulator already answers on 127.0.0.1:$port"; exit 0; fi
    nohup "$venv/bin/python" "$here/emulator_server.py" -H 127.0.0.1 -p "$port" > "$state/emulator-$port.log" 2>&1 &
    echo $! > "$state/emulator-$port.pid"
    for _ in $(seq 1 100); do
      if answers; then echo "emulator (moto) answers on 127.0.0.1:$port"; exit 0; fi
      sleep 0.2
    done
    echo "emulator did not start; see $state/emulator-$port.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$state/emulator-$port.pid" ]; then
      kill "$(cat "$state/emulator-$port.pid")" 2>/dev/null || true
      rm -f "$state/emulator-$port.pid"
    fi
    ;;
  status) answers ;;
  *) echo "usage: $0 install|start|stop|status [PORT]" >&2; exit 2 ;;
esac
