"""Smoke test of ``python -m pydyfast.bench distributed``: 2 processes under mpiexec produce
every figure and the table. Times are not asserted (the machine is shared)."""
import json

from pydyfast.bench import distributed


def test_two_process_run_prints_the_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "distributed.json"
    assert distributed.main(["--nproc", "2", "--sizes-mb", "0.25", "--steps", "1",
                             "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "all-reduce of float32 buffers" in out and "overlap" in out
    figures = json.loads(path.read_text())["2"]
    assert figures["allreduce"]["0.25"]["bytes_per_s"] > 0
    for key in ("step_plain", "step_ddp", "backward_plain", "backward_ddp",
                "backward_then_allreduce"):
        assert figures[key] > 0, key


def test_report_computes_the_overlap_from_the_backward_times():
    figures = {"allreduce": {"1": {"seconds": 0.5, "bytes_per_s": 2e6}}, "step_plain": 0.1,
               "step_ddp": 0.12, "backward_plain": 0.05, "backward_ddp": 0.06,
               "backward_then_allreduce": 0.09}
    table = distributed.report({2: figures}, [1])
    # communication 40 ms when blocking, 10 ms left visible under DDP: 75% hidden
    assert "75%" in table and "20.0" in table  # DDP's cost per step: 120 - 100 ms
