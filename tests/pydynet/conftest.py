"""tests/pydynet cannot be a package named ``pydynet`` (that is the reference PyDyNet 1.1), so
this folder goes at the end of the path for its helper module ``pydynet_reference`` (at the end:
``import conftest`` elsewhere must keep finding tests/conftest.py)."""
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))
from pydynet_reference import reset_pydynet  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_pydynet():
    """Each test starts PyDyNet 1.1 from a clean global state (see reference.reset_pydynet)."""
    reset_pydynet()
