"""Fuzz every pydyfast._C entry point in a memory-capped child (fuzz_kernels.py): random shapes,
strides, dtypes and extreme sizes must give a Python exception or a result, never a signal."""
import json
import os

from robustness.capped import assert_no_signal, run_capped
from robustness.fuzz_kernels import SIGNATURES, entry_points

FUZZ_SECONDS = float(os.environ.get("PYDYFAST_FUZZ_SECONDS", "45"))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_kernels.py")


def test_every_entry_point_has_a_fuzz_signature():
    assert set(entry_points()) <= set(SIGNATURES), "a new _C function needs a fuzz signature"


def test_fuzzed_kernels_raise_or_return_never_crash(tmp_path):
    log = tmp_path / "cases.log"
    code = f"import runpy, sys; sys.argv = ['fuzz'] + sys.argv[1:]; " \
           f"runpy.run_path({WORKER!r}, run_name='__main__')"
    proc = run_capped(code, FUZZ_SECONDS, log, timeout=FUZZ_SECONDS * 6 + 120)
    last = log.read_text().splitlines()[-1:] if log.exists() else []
    assert proc.returncode >= 0, f"signal {-proc.returncode} on the case {last}"
    assert_no_signal(proc)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(report["calls_and_results"]) == set(entry_points())
    assert report["results"] > 0  # some calls reached the kernels and returned
    print(f"fuzzed {report['cases']} cases ({report['results']} results) in "
          f"{report['seconds']:.1f} s")
