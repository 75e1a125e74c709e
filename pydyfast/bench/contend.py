"""The contention run of ``bench train --contend`` and ``bench kernels --contend``: the same
measurement once on a quiet machine and once while one busy process shares it.

The busy process is a pure-Python spin loop in its own interpreter (one core's worth of work,
holding no lock any framework waits on), started before each worker and stopped after it, with
no CPU affinity: the scheduler places it as it would any other job. The issue's target is that
no pydyfast/torch ratio gets more than ``TOLERANCE`` worse under that load than on the quiet
machine; rows past it are flagged.
"""
import contextlib
import subprocess
import sys

TOLERANCE = 0.15  # largest allowed rise of a pydyfast/torch time ratio under contention

# Says "ready" once the interpreter is up, so the worker starts against a spinning process, not
# one still loading; then spins until killed.
_SPIN = "import sys\nsys.stdout.write('ready\\n')\nsys.stdout.flush()\nwhile True:\n    pass\n"


@contextlib.contextmanager
def busy_process():
    """Run one spinning Python process for the duration of the ``with`` block."""
    proc = subprocess.Popen([sys.executable, "-c", _SPIN], stdout=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"pydyfast.bench: the busy process exited with {proc.wait()} "
                               "before it started spinning")
        yield proc
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def maybe_busy(contended):
    """``busy_process()`` when ``contended``, else a context that does nothing."""
    return busy_process() if contended else contextlib.nullcontext()


def difference(quiet, busy):
    """busy - quiet of two ratios, None when either is missing."""
    return busy - quiet if quiet is not None and busy is not None else None


def verdict(diff):
    """The flag of a row: "ok", "WORSE" (past TOLERANCE) or "-" (a ratio is missing)."""
    if diff is None:
        return "-"
    return "WORSE" if diff > TOLERANCE else "ok"


def summary(diffs):
    """The closing line of a contention table over the differences of its rows."""
    known = [d for d in diffs if d is not None]
    worse = sum(d > TOLERANCE for d in known)
    largest = f", largest rise {max(known):+.2f}" if known else ""
    return (f"contention: {worse} of {len(known)} rows more than {TOLERANCE} worse than "
            f"quiet{largest} (target: none)")


def table(rows, label):
    """The contention table. rows: (label, quiet ratio, contended ratio, {framework:
    contended/quiet time}) with pydyfast/torch time ratios; None where a figure is missing."""
    def cell(value, fmt, suffix=""):
        return "-" if value is None else format(value, fmt) + suffix

    head = (label, "quiet", "busy", "rise", "verdict", "pydyfast slowdown", "torch slowdown")
    body, diffs = [], []
    for name, quiet, busy, slowdown in rows:
        diff = difference(quiet, busy)
        diffs.append(diff)
        body.append((name, cell(quiet, ".2f"), cell(busy, ".2f"), cell(diff, "+.2f"),
                     verdict(diff), cell(slowdown.get("pydyfast"), ".2f", "x"),
                     cell(slowdown.get("torch"), ".2f", "x")))
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in
                       enumerate(zip(line, widths))) for line in [head, *body]]
    title = ("pydyfast/torch time ratio, quiet and beside one busy Python process; slowdown: "
             "busy/quiet time of each framework")
    return "\n".join([title, *lines, summary(diffs)])
