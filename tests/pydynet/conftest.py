"""tests/pydynet cannot be a package named ``pydynet`` (that is the reference PyDyNet 1.1), so
its helper module ``reference`` is put on the path here."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from reference import reset_pydynet  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_pydynet():
    """Each test starts PyDyNet 1.1 from a clean global state (see reference.reset_pydynet)."""
    reset_pydynet()
