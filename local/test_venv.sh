#!/usr/bin/env bash
# Creates or refreshes local/.venv-test from local/requirements-test.txt (pinned: the conformance tools and the
# `standardwebhooks` reference library the webhook receiver verifies with) and prints its python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-test"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
want="$(sha256sum "$here/requirements-test.txt" | cut -d' ' -f1)"
if [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-test.txt" >&2
  echo "$want" > "$venv/.requirements.sha"
fi
echo "$venv/bin/python"
