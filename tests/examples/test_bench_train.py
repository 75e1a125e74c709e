"""``python -m pydyfast.bench train``: the worker protocol, the JSON and the ratio table."""
import json

import pytest

from pydyfast.bench import train


def test_torch_worker_writes_json(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert train.main(["--model", "gru", "--framework", "torch", "--steps", "2", "--warmup", "1",
                       "--threads", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    run = figures["results"]["gru"]["runs"]["torch"]
    assert run["steps"] == 2 and run["seconds_per_step"] > 0
    assert run["peak_rss_mib"] >= run["import_rss_mib"] > 0
    assert run["dtype"] == "float32"
    assert "gru" in capsys.readouterr().out


def test_time_budget_stops_after_one_timed_step(capsys):
    train.main(["--model", "gru", "--framework", "torch", "--steps", "50", "--warmup", "0",
                "--threads", "1", "--budget", "0"])
    row = capsys.readouterr().out.splitlines()[2]
    assert row.split()[-1] == "-/1/-"


def _run(seconds, rss, steps=3):
    return {"seconds_per_step": seconds, "peak_rss_mib": rss, "steps": steps}


def test_report_ratios():
    results = {"mlp": {"runs": {"pydyfast": _run(0.03, 150), "torch": _run(0.02, 300),
                                "pydynet": _run(0.12, 200, steps=1)}},
               "gru": {"runs": {"pydyfast": _run(0.01, 100), "torch": None, "pydynet": None}}}
    table = train.report(results, threads=2, steps=3)
    assert results["mlp"]["ratio_pydyfast_torch"] == pytest.approx(1.5)
    assert results["mlp"]["ratio_pydyfast_pydynet"] == pytest.approx(0.25)
    assert results["mlp"]["memory_ratio_pydyfast_torch"] == pytest.approx(0.5)
    assert results["gru"]["ratio_pydyfast_torch"] is None
    mlp_row = table.splitlines()[2].split()
    assert mlp_row[:4] == ["mlp", "0.0300", "0.0200", "0.1200"] and mlp_row[-1] == "3/3/1"
    assert table.splitlines()[3].split()[2] == "-"


def test_bad_arguments():
    with pytest.raises(SystemExit):
        train.main(["--steps", "0"])
    with pytest.raises(SystemExit):
        train.main(["--model", "resnet"])
