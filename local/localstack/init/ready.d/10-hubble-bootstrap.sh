#!/bin/bash
# LocalStack READY hook: create every resource of resources.json (see ../../bootstrap.py).
# docker-compose.yml mounts bootstrap.py and resources.json under /etc/localstack/hubble/ (outside init/, so
# LocalStack does not run the .py file itself as a hook).
set -euo pipefail

HUBBLE_DIR="${HUBBLE_DIR:-/etc/localstack/hubble}"
export HUBBLE_RESOURCES_FILE="${HUBBLE_RESOURCES_FILE:-$HUBBLE_DIR/resources.json}"
export HUBBLE_RESOURCE_PREFIX="${HUBBLE_RESOURCE_PREFIX:-hubble}"
# inside the container LocalStack listens on localhost:4566
export AWS_ENDPOINT_URL="${HUBBLE_BOOTSTRAP_ENDPOINT:-http://localhost:4566}"

# a Python with boto3: LocalStack's own virtualenv first, then whatever python3 is on PATH
for py in /opt/code/localstack/.venv/bin/python python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import boto3' >/dev/null 2>&1; then
    exec "$py" "$HUBBLE_DIR/bootstrap.py"
  fi
done
echo "[hubble-bootstrap] ERROR: no python3 with boto3 found in the container" >&2
exit 1
