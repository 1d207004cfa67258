"""What every benchmark script does with its result: pretty JSON to `--out`, or to stdout without one; and how a
run ends: its problems (if any) fail it."""

from __future__ import annotations

import json
import sys
import time


def emit(result: dict, out: str | None) -> None:
    text = json.dumps(result, indent=2)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


def conclude(result: dict, started: float, problems: list, out: str | None, log, ok: str) -> None:
    """Records the run's length and problems, writes the result, and exits 1 when there are problems."""
    result["total_s"] = time.time() - started
    result["problems"] = problems
    emit(result, out)
    if problems:
        log("FAILED: " + "; ".join(problems))
        sys.exit(1)
    log("ok: " + ok)
