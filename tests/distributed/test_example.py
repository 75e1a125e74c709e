"""examples/distributed.py through the launcher: 2 ranks reach the accuracy of 1 process."""
import re
import subprocess
import sys

from distributed.launch import ROOT, mpiexec


def final_accuracy(n, tmp_path):
    mpiexec()  # fails clearly when the MPI of the test extra is missing
    cmd = [sys.executable, "-m", "pydyfast.distributed.run", "-n", str(n), "-m",
           "examples.distributed", "--epochs", "1", "--limit", "256", "--batch-size", "64",
           "--quiet", "--checkpoint", str(tmp_path / f"ck{n}.pdf")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.search(r"mlp: final test accuracy ([0-9.]+)", proc.stdout)
    assert found, proc.stdout
    assert (tmp_path / f"ck{n}.pdf").exists()
    return float(found.group(1))


def test_two_ranks_reach_the_accuracy_of_one_process(tmp_path):
    one, two = final_accuracy(1, tmp_path), final_accuracy(2, tmp_path)
    assert one > 0.5, one  # it learned something in one epoch on 512 images
    assert abs(one - two) <= 2e-3, (one, two)  # same trajectory up to float rounding
