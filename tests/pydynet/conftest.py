"""tests/pydynet cannot be a package named ``pydynet`` (that is the reference PyDyNet 1.1), so
its helper module ``reference`` is put on the path here."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
