#!/usr/bin/env bash
# Where a function binary's size goes: rebuilds it with the workspace release profile but without stripping symbols
# (a separate target directory, so the shared build cache is untouched), then sums symbol sizes per crate.
# One-off analysis, not part of bench/run.sh (a full release build: several minutes on 2 cores).
#
#   bench/size-breakdown.sh [api|outbox-relay]     (default api)
#   BENCH_BREAKDOWN_TARGET_DIR  where to build (default ~/.cache/hubblewave/target-size-breakdown)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-api}"
target="${BENCH_BREAKDOWN_TARGET_DIR:-$HOME/.cache/hubblewave/target-size-breakdown}"
cd "$root"
CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_STRIP=none cargo build --release -p "$bin" >&2
exe="$target/release/$bin"
python3 - "$exe" <<'PY'
import collections, re, subprocess, sys
exe = sys.argv[1]
out = subprocess.run(["nm", "--size-sort", "--print-size", "--demangle=rust", exe], capture_output=True, text=True, check=True).stdout
text = subprocess.run(["size", "-A", exe], capture_output=True, text=True, check=True).stdout
sections = {l.split()[0]: int(l.split()[1]) for l in text.splitlines() if l.startswith(".")}
by_crate = collections.Counter()
total = 0
for line in out.splitlines():
    parts = line.split(None, 3)
    if len(parts) < 4 or parts[2] not in "tTrRdDbBvVwW":
        continue
    size, name = int(parts[1], 16), parts[3]
    total += size
    # first path segment of the (possibly generic/trait-qualified) symbol: `<aws_sdk_dynamodb::...>` -> aws_sdk_dynamodb
    m = re.match(r"[<&\s]*(?:impl\s+)?([A-Za-z_][A-Za-z0-9_]*)::", name)
    if m:
        crate = m.group(1)
    elif "::" in name:
        crate = "(other Rust)"
    elif re.match(r"(aws_lc_|bssl|fiat_|curve25519|edwards25519|kObjects|k[A-Z]|p256|p384|EVP_|BN_|EC_|RSA_|OPENSSL|x25519|ecp_nistz|sha\d|aes_|gcm_|ChaCha|poly1305)", name):
        crate = "aws_lc_sys (C crypto behind rustls)"
    elif name.startswith("anon."):
        crate = "(anonymous constants)"
    else:
        crate = "(C / libc / other)"
    by_crate[crate] += size
print(f"binary {exe}: sections .text {sections.get('.text', 0):,} B, .rodata {sections.get('.rodata', 0):,} B, "
      f".data.rel.ro {sections.get('.data.rel.ro', 0):,} B, .eh_frame {sections.get('.eh_frame', 0):,} B")
print(f"symbols with a size: {total:,} B\n")
print("| crate (first path segment of the symbol) | bytes | share |")
print("|---|---:|---:|")
for crate, size in by_crate.most_common(25):
    print(f"| {crate} | {size:,} | {size / total:.1%} |")
PY
