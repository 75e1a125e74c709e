"""``python -m pydyfast.bench train`` with --contend and --breakdown on tiny batches: the modes
run end to end, print their tables and write their figures. Times are not asserted (the machine
is shared); only that every figure exists and the bookkeeping is consistent."""
import json

import pytest

from pydyfast.bench import breakdown, train

TINY = ["--framework", "pydyfast", "torch", "--steps", "1", "--warmup", "0", "--batch", "4",
        "--threads", "1"]


def test_contend_runs_pydyfast_and_torch_quiet_and_beside_a_busy_process(tmp_path, capsys):
    path = tmp_path / "train.json"
    assert train.main(["--model", "gru", "--contend", "--json", str(path), *TINY]) == 0
    out = capsys.readouterr().out
    assert "quiet;" in out and "beside one busy process" in out
    assert "contention: " in out and "slowdown" in out
    figures = json.loads(path.read_text())
    assert figures["batch"] == 4
    row = figures["results"]["gru"]
    for runs in (row["runs"], row["contended"]["runs"]):
        assert set(runs) == {"pydyfast", "torch"}
        assert all(r["seconds_per_step"] > 0 and r["steps"] == 1 for r in runs.values())
    assert row["ratio_rise_under_contention"] == pytest.approx(
        row["contended"]["ratio_pydyfast_torch"] - row["ratio_pydyfast_torch"])


def test_breakdown_attributes_each_framework_step_to_the_categories(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv("PYDYFAST_KERNELS", "native")  # the workers' pydyfast runs _C kernels
    path = tmp_path / "train.json"
    assert train.main(["--model", "lenet", "transformer", "--breakdown", "--json", str(path),
                       *TINY]) == 0
    out = capsys.readouterr().out
    for label in (*breakdown.CATEGORIES.values(), "minor page faults per step"):
        assert label in out
    results = json.loads(path.read_text())["results"]
    for model in ("lenet", "transformer"):
        figures = results[model]["breakdown"]
        for framework in ("pydyfast", "torch"):
            f = figures[framework]
            assert (f["framework"], f["model"], f["batch"]) == (framework, model, 4)
            assert set(f["ms"]) <= set(breakdown.CATEGORIES)
            assert sum(f["ms"].values()) == pytest.approx(f["profiled_step_ms"])
            for category in ("gemm", "kernels", "optimizer", "engine"):
                assert f["ms"][category] > 0, (model, framework, category)
            assert f["step_ms"] > 0 and f["minor_faults_per_step"] >= 0
        pdf, torch = figures["pydyfast"], figures["torch"]
        # the wrappers only run inside the step: their self times cannot exceed it
        assert pdf["ms"]["python"] >= 0
        assert all(name.startswith("_C.") for name in pdf["items"]["kernels"])
        assert "Tensor.backward" in pdf["items"]["engine"]
        assert set(pdf["items"]["optimizer"]) <= {"Adam.step", "Adam.zero_grad"}
        assert any(name.startswith("Optimizer.step#") for name in torch["items"]["optimizer"])
    assert any("conv" in name for name in results["lenet"]["breakdown"]["torch"]["items"]
               ["kernels"])


def test_batch_must_be_positive():
    with pytest.raises(SystemExit):
        train.main(["--model", "gru", "--batch", "0"])
