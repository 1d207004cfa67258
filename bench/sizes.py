#!/usr/bin/env python3
"""Sizes of built function binaries: bytes on disk and bytes once zipped the way a Lambda deployment package is
(one `bootstrap` entry, deflate), plus the ELF architecture and the glibc version the binary needs.

  sizes.py --artifact BUILD NAME PATH [--artifact ...] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import struct
import zipfile

MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}


def elf_machine(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return "not ELF"
    endian = "<" if head[5] == 1 else ">"
    (machine,) = struct.unpack(endian + "H", head[18:20])
    return MACHINES.get(machine, hex(machine))


def max_glibc(path: str) -> str | None:
    """Highest GLIBC_x.y symbol version referenced (what the binary needs from the Lambda OS image)."""
    data = open(path, "rb").read()
    versions = {tuple(int(x) for x in m.split(b".")) for m in re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)", data)}
    return "GLIBC_" + ".".join(map(str, max(versions))) if versions else None


def zipped(path: str) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "bootstrap")
    return buf.tell()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifact", nargs=3, action="append", default=[], metavar=("BUILD", "NAME", "PATH"))
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = []
    for build, name, path in args.artifact:
        rows.append(
            {
                "build": build,
                "function": name,
                "path": path,
                "bytes": os.path.getsize(path),
                "zip_bytes": zipped(path),
                "arch": elf_machine(path),
                "needs": max_glibc(path),
            }
        )
    text = json.dumps(rows, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
