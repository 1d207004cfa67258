#!/usr/bin/env bash
# Builds every function of resources.json the way `cdk deploy` does (cargo-lambda, release, ARM64) and checks that
# each one produced an ARM64 `bootstrap`. Installs cargo-lambda and zig from PyPI when missing, into a venv outside
# the clone (HUBBLE_BUILD_VENV, default ~/.cache/hubblewave/build-venv): cargo-zigbuild keys cargo's build cache on
# the path of its linker wrapper, so a venv inside each fresh clone would rebuild every crate every time.
#   local/package.sh [OUTPUT_DIR]     default: $CARGO_TARGET_DIR/lambda
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$root"

venv="${HUBBLE_BUILD_VENV:-$HOME/.cache/hubblewave/build-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.requirements-build.sha"
want="$(sha256sum local/requirements-build.txt | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r local/requirements-build.txt
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

out="${1:-$CARGO_TARGET_DIR/lambda}"
mapfile -t functions < <(python3 -c 'import json; print("\n".join(json.load(open("shared/resources/resources.json"))["functions"]))')
packages=()
for f in "${functions[@]}"; do packages+=(-p "$f"); done
cargo lambda build --release --arm64 --locked "${packages[@]}" --lambda-dir "$out"

for f in "${functions[@]}"; do
  bin="$out/$f/bootstrap"
  [ -f "$bin" ] || { echo "error: $bin was not built" >&2; exit 1; }
  # ELF header: e_machine (offset 18, little endian) is 0xB7 for AArch64.
  machine="$(od -An -tx1 -j18 -N2 "$bin" | tr -d ' \n')"
  [ "$machine" = "b700" ] || { echo "error: $bin is not an ARM64 executable (e_machine $machine)" >&2; exit 1; }
  printf '%-16s %s  %s bytes\n' "$f" "$bin" "$(stat -c %s "$bin")"
done
