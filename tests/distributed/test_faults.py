"""A failing or missing rank makes the job stop with a clear error instead of hanging."""
import time

from distributed.launch import run_mpi


def test_a_rank_that_raises_aborts_the_others():
    start = time.monotonic()
    proc = run_mpi(2, "worker_faults.py", "raise", timeout=60)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "ValueError: rank 1 failed while preparing its batch" in out, out
    assert "rank 1 of 2 raised ValueError; aborting all ranks" in out, out
    assert time.monotonic() - start < 30  # not rank 0's 3 s timeout, let alone forever


def test_a_rank_that_skips_a_collective_times_out_with_a_clear_error():
    proc = run_mpi(2, "worker_faults.py", "skip", timeout=60)  # rank 1 sleeps 60 s otherwise
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert ("DistributedTimeoutError: distributed: all_reduce(sum) of float64 (4,) did not "
            "complete within 3 s on rank 0 of 2") in out, out
