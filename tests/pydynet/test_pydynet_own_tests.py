"""PyDyNet 1.1's own pytest suite, with only its import lines changed, passes on pydyfast."""
import re
import subprocess
import sys

import pytest
from tools.pydynet_material import fetch_sdist, rewrite_folder, rewrite_imports

EXPECTED_TESTS = 77  # test_tensor_basic, test_backward and test_ops_extended of PyDyNet 1.1


def test_rewrite_changes_only_import_lines():
    source = ("import pydynet as pdn\nimport pydynet.nn as nn\nfrom pydynet import Tensor\n"
              "from pydynet.optim import Adam\nimport pydynet\nx = pydynet_value  # pydynet\n"
              "import pydynetx\n")
    assert rewrite_imports(source) == (
        "import pydyfast.pydynet as pdn\nimport pydyfast.pydynet.nn as nn\n"
        "from pydyfast.pydynet import Tensor\nfrom pydyfast.pydynet.optim import Adam\n"
        "import pydyfast.pydynet as pydynet\nx = pydynet_value  # pydynet\nimport pydynetx\n")


def test_pydynet_own_tests_pass(tmp_path):
    try:
        sdist = fetch_sdist()
    except RuntimeError as exc:
        pytest.skip(f"PyDyNet 1.1's sdist is not reachable: {exc}")
    tests = rewrite_folder(sdist / "tests", tmp_path / "tests")
    texts = "".join(p.read_text() for p in tests.glob("*.py"))
    assert "import pydyfast.pydynet as pdn" in texts and "import pydynet" not in texts
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", "--rootdir", str(tmp_path), str(tests)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    passed = re.search(r"(\d+) passed", summary)
    assert done.returncode == 0 and passed and int(passed.group(1)) == EXPECTED_TESTS, (
        f"PyDyNet's tests on pydyfast: {summary}\n{done.stdout[-4000:]}")
