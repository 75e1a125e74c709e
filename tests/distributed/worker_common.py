"""Shared by the worker scripts: the case registry and the per-rank report."""
import json
import sys
import traceback
from pathlib import Path

import pydyfast.distributed as dist

CASES = {}
# Mismatches found inside a case: recorded, not raised, so that the case still makes all of
# its collectives (a rank leaving early would leave the others waiting).
MISMATCHES = []


def expect(condition_fn, what):
    """Run the assertion ``condition_fn()``; a failure is recorded under ``what``."""
    try:
        condition_fn()
    except AssertionError as exc:
        MISMATCHES.append(f"{what}: {exc}")


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def main(timeout=30):
    """Run every registered case on every rank (in the same order, so collectives match) and
    write this rank's report. A failing case records its error and the next one runs."""
    out = Path(sys.argv[1])
    dist.init_process_group("mpi", timeout=timeout)
    report = {}
    for name, fn in CASES.items():
        sys.stderr.write(f"rank {dist.get_rank()}: {name}\n")  # shown when a launch fails
        try:
            MISMATCHES.clear()
            fn()
            report[name] = "\n".join(MISMATCHES) if MISMATCHES else "ok"
        except Exception:  # noqa: BLE001  (reported to pytest)
            report[name] = traceback.format_exc()
        dist.barrier()
    (out / f"rank{dist.get_rank()}.json").write_text(json.dumps(report))
    dist.destroy_process_group()
