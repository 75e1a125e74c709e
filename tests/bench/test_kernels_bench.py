"""Smoke test of ``python -m pydyfast.bench kernels``: runs, prints the table, writes JSON.
Times are not asserted (the machine is shared); only that every framework produced figures."""
import json

import pytest

from pydyfast.bench import kernels
from pydyfast.bench.kernel_case import KernelCase


def test_quick_run_on_one_family(tmp_path, capsys):
    path = tmp_path / "kernels.json"
    assert kernels.main(["--family", "pool", "--quick", "--repeat", "1", "--threads", "1",
                         "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pool/max_pool2d" in out and "pyd/torch" in out
    rows = json.loads(path.read_text())["rows"]
    names = {r["kernel"] for r in rows}
    assert {"pool/max_pool2d", "pool/avg_pool2d", "pool/adaptive_avg_pool2d"} <= names
    for row in rows:
        assert row["pass"] in ("forward", "backward", "fwd+bwd")
        assert all(row["ms"][fw] > 0 for fw in kernels.FRAMEWORKS), row
        assert row["pydyfast/numpy"] == pytest.approx(row["ms"]["pydyfast"] / row["ms"]["numpy"])


def test_missing_framework_shows_a_dash():
    case = KernelCase("k", "shape", lambda framework, device: None)
    timings = {"pydyfast": {"f/k": {"forward": 2.0}}, "numpy": {"f/k": {"forward": 4.0}},
               "torch": {"f/k": {}}}
    rows = kernels.collect([("f/k", case)], timings)
    assert len(rows) == 1 and rows[0]["pydyfast/numpy"] == 0.5
    assert rows[0]["ms"]["torch"] is None and rows[0]["pydyfast/torch"] is None
    line = kernels.table(rows).splitlines()[-1].split()
    assert line[-1] == "-" and line[-3] == "-" and line[-2] == "0.50"


def test_unknown_family_is_an_error():
    with pytest.raises(SystemExit, match="unknown families"):
        kernels.main(["--family", "no_such_family", "--quick"])
