"""tools/run_pydynet_examples.py: its script rewriting and its stand-in data (the runs themselves
need PyDyNet's example scripts, which CI cannot download)."""
import gzip

import numpy as np
import pytest

from tools.run_pydynet_examples import make_cola, make_mnist, make_olivetti, prepare_script

SCRIPT = """import numpy as np
import matplotlib.pyplot as plt
import pydynet as pdn
from pydynet import nn
EPOCHES = 50
    EPOCHES = 100
"""


def test_prepare_script_rewrites_imports_plot_and_epochs():
    out = prepare_script(SCRIPT.replace("    EPOCHES = 100\n", ""), "pydyfast.pydynet",
                         "EPOCHES", 3)
    assert out == ("import numpy as np\nimport _no_plot as plt\n"
                   "import pydyfast.pydynet as pdn\nfrom pydyfast.pydynet import nn\n"
                   "EPOCHES = 3\n")
    assert "import pydynet as pdn" in prepare_script(SCRIPT, "pydynet", None, 3)


def test_prepare_script_wants_exactly_one_epoch_line():
    with pytest.raises(ValueError, match="expected one 'EPOCHES = N' line, found 2"):
        prepare_script(SCRIPT, "pydyfast.pydynet", "EPOCHES", 3)


def test_stand_in_data_has_the_real_formats(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    make_mnist(tmp_path / "mnist", rng, 7, 3)
    with gzip.open(tmp_path / "mnist/train-images-idx3-ubyte.gz") as f:
        header, pixels = f.read(16), f.read()
    assert np.frombuffer(header, ">i4").tolist() == [2051, 7, 28, 28] and len(pixels) == 7 * 784
    with gzip.open(tmp_path / "mnist/t10k-labels-idx1-ubyte.gz") as f:
        assert np.frombuffer(f.read()[8:], np.uint8).max() < 10
    make_cola(tmp_path / "cola", rng, 5)
    lines = (tmp_path / "cola/in_domain_train.tsv").read_text().splitlines()
    assert len(lines) == 5 and all(len(line.split("\t")) == 4 for line in lines)
    assert all(line.split("\t")[1] in "01" and len(line.split("\t")[3].split()) <= 44
               for line in lines)
    make_olivetti(tmp_path / "sklearn", rng)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    from sklearn.datasets import fetch_olivetti_faces
    X, y = fetch_olivetti_faces(return_X_y=True, download_if_missing=False)
    assert X.shape == (400, 4096) and y.shape == (400,)
