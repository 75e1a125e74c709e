"""Every public name of PyDyNet 1.1, listed from its own modules, exists in ``pydyfast.pydynet``
under the same module path; the names of PyDyNet's public packages exist in ``pydyfast`` too."""
import importlib
import pkgutil
import types
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # PyDyNet 1.1 warns on import when cupy is missing
    import pydynet

# The one PyDyNet name pydyfast does not provide, on purpose.
ABSENT = {("pydynet.core.tensor", "Graph"): "PyDyNet's global list of every graph node "
          "(DESIGN.md, mistake 1); pydyfast keeps no global graph"}

# PyDyNet's public packages: what its scripts import from (pydyfast has its own module layout
# below them, PyTorch's; the implementation modules are mirrored in pydyfast.pydynet).
PACKAGES = ["pydynet", "pydynet.autograd", "pydynet.cuda", "pydynet.data", "pydynet.nn",
            "pydynet.nn.functional", "pydynet.nn.init", "pydynet.optim",
            "pydynet.optim.lr_scheduler", "pydynet.special"]


def _public_names(module):
    """A module's ``__all__`` where it has one, otherwise the names it binds to PyDyNet's own
    classes and functions (its definitions and what it re-exports)."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n, v in vars(module).items() if not n.startswith("_")
            and not isinstance(v, types.ModuleType)
            and getattr(v, "__module__", "").startswith("pydynet")]


def pydynet_names():
    modules = ["pydynet"] + [m.name for m in pkgutil.walk_packages(pydynet.__path__, "pydynet.")]
    return [(m, n) for m in modules for n in _public_names(importlib.import_module(m))]


NAMES = pydynet_names()


def test_the_list_is_pydynet_1_1():
    from importlib.metadata import version
    assert version("pydynet") == "1.1"
    assert len({m for m, _ in NAMES}) == 25 and len(NAMES) == 316


def _defined_in_package(module, name):
    """A name of PyDyNet's public package ``module`` that is its own: in its ``__all__``, or
    defined in it or below it (not a helper it happens to import, like nn.init's no_grad)."""
    m = importlib.import_module(module)
    home = getattr(getattr(m, name), "__module__", "")
    return name in getattr(m, "__all__", ()) or home == module or home.startswith(module + ".")


@pytest.mark.parametrize("module,name", [p for p in NAMES if p not in ABSENT],
                         ids=lambda v: v)
def test_name_in_compat_namespace(module, name):
    path = "pydyfast." + module
    assert hasattr(importlib.import_module(path), name), f"{path}.{name} is missing"


@pytest.mark.parametrize("module,name", [p for p in NAMES if p[0] in PACKAGES
                                         and _defined_in_package(*p)], ids=lambda v: v)
def test_package_name_in_pydyfast(module, name):
    path = "pydyfast" + module[len("pydynet"):]
    assert hasattr(importlib.import_module(path), name), f"{path}.{name} is missing"


def test_absent_names_are_really_absent():
    for (module, name), reason in ABSENT.items():
        assert hasattr(importlib.import_module(module), name)
        assert not hasattr(importlib.import_module("pydyfast." + module), name), reason


@pytest.mark.parametrize("name", sorted(n for n in dir(pydynet.Tensor)
                                        if not n.startswith("_")))
def test_tensor_attribute(name):
    import pydyfast
    assert hasattr(pydyfast.Tensor, name), f"pydyfast.Tensor.{name} is missing"


def test_one_tensor_class():
    import numpy as np

    import pydyfast
    import pydyfast.pydynet as pdn
    t = pdn.Tensor([1.0, 2.0])
    assert type(t) is pydyfast.Tensor and isinstance(pydyfast.zeros(2), pdn.Tensor)
    assert issubclass(pydyfast.nn.Parameter, pdn.Tensor) and pdn.Tensor.T is pydyfast.Tensor.T
    assert isinstance(t, pdn.core.tensor.Tensor) and t.dtype == np.float64


@pytest.mark.parametrize("statement", [
    "import pydyfast.pydynet as pdn", "from pydyfast.pydynet import nn",
    "import pydyfast.pydynet.nn.functional as F", "from pydyfast.pydynet.optim import Adam",
    "from pydyfast.pydynet.data import data_loader", "from pydyfast.pydynet.cuda import Device",
    "from pydyfast.pydynet.special import zeros", "from pydyfast.pydynet.autograd import no_grad",
    "from pydyfast.pydynet.core.tensor import Tensor",
    "from pydyfast.pydynet.nn.modules.rnn import GRU",
    "from pydyfast.pydynet.optim.lr_scheduler import StepLR",
    "import pydyfast.pydynet.nn.init as init"])
def test_pydynet_import_spellings(statement):
    exec(statement, {})


def test_view_module_reports_missing_names():
    import pydyfast.pydynet.nn.modules.rnn as rnn
    with pytest.raises(AttributeError, match="nn.modules.rnn has no attribute 'Nope'"):
        rnn.Nope  # noqa: B018
