"""The contention run: the busy process really spins and is gone afterwards, rows past the
tolerance are flagged, and ``bench kernels --contend`` runs end to end (times not asserted)."""
import json
import os
import time

import pytest

from pydyfast.bench import contend, kernels


def _cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_busy_process_spins_during_the_block_and_is_gone_after():
    with contend.busy_process() as proc:
        assert proc.poll() is None
        start = _cpu_seconds(proc.pid)
        deadline = time.monotonic() + 10
        while _cpu_seconds(proc.pid) - start < 0.05 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _cpu_seconds(proc.pid) - start >= 0.05  # it burns CPU, not sleeps
    assert proc.poll() is not None


def test_busy_process_is_stopped_when_the_block_raises():
    with pytest.raises(RuntimeError, match="worker failed"), contend.busy_process() as proc:
        raise RuntimeError("worker failed")
    assert proc.poll() is not None


@pytest.mark.parametrize("quiet, busy, verdict", [
    (1.0, 1.1, "ok"), (1.0, 1.2, "WORSE"), (0.9, 0.5, "ok"), (None, 1.0, "-"), (1.0, None, "-")])
def test_rows_past_the_tolerance_are_flagged(quiet, busy, verdict):
    assert contend.verdict(contend.difference(quiet, busy)) == verdict


def test_table_prints_ratios_rise_slowdowns_and_a_summary():
    rows = [("mlp", 1.0, 1.3, {"pydyfast": 2.0, "torch": 1.5}),
            ("gru", 0.3, 0.35, {"pydyfast": 1.2, "torch": None})]
    lines = contend.table(rows, "model").splitlines()
    assert lines[1].split() == ["model", "quiet", "busy", "rise", "verdict", "pydyfast",
                                "slowdown", "torch", "slowdown"]
    assert lines[2].split() == ["mlp", "1.00", "1.30", "+0.30", "WORSE", "2.00x", "1.50x"]
    assert lines[3].split() == ["gru", "0.30", "0.35", "+0.05", "ok", "1.20x", "-"]
    assert lines[4] == (f"contention: 1 of 2 rows more than {contend.TOLERANCE} worse than "
                        "quiet, largest rise +0.30 (target: none)")


def test_kernel_rows_are_matched_by_kernel_and_pass():
    def row(kernel, pass_, pdf, torch):
        return {"kernel": kernel, "pass": pass_, "ms": {"pydyfast": pdf, "torch": torch},
                "pydyfast/torch": pdf / torch}
    quiet = [row("f/a", "forward", 1.0, 2.0), row("f/b", "forward", 3.0, 3.0)]
    busy = [row("f/b", "forward", 6.0, 4.0)]  # f/a missing: no contended figure
    table_rows = kernels.contention_rows(quiet, busy)
    assert table_rows == [("f/b forward", 1.0, 1.5, {"pydyfast": 2.0, "torch": 4.0 / 3.0})]
    assert quiet[1]["contended"]["pydyfast/torch"] == 1.5 and "contended" not in quiet[0]


def test_kernels_contend_on_one_family(tmp_path, capsys):
    path = tmp_path / "kernels.json"
    assert kernels.main(["--family", "pool", "--quick", "--repeat", "1", "--threads", "1",
                         "--contend", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pool/max_pool2d forward" in out and "contention: " in out
    for row in json.loads(path.read_text())["rows"]:
        busy = row["contended"]["ms"]
        assert busy["pydyfast"] > 0 and busy["torch"] > 0, row
        assert row["contended"]["pydyfast/torch"] == pytest.approx(busy["pydyfast"]
                                                                   / busy["torch"])
