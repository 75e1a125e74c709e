"""One interface over pydyfast, PyTorch and PyDyNet, so that every model and training loop in
``examples`` is written once and runs on each framework unchanged.

The three share PyTorch's module API (``nn.Linear``, ``nn.Module``, ``optim.Adam``, ``backward``);
what differs is how a numpy array becomes a tensor, how a tensor becomes numpy again, and how
threads and seeds are set. :class:`Framework` hides exactly those differences.
"""
import functools
import importlib

import numpy as np

FRAMEWORKS = ("pydyfast", "torch", "pydynet")


class Framework:
    """The pieces of one deep-learning framework that the examples use.

    Attributes
    ----------
    name : str
        ``"pydyfast"``, ``"torch"`` or ``"pydynet"``.
    nn, F, optim : modules
        ``<framework>.nn``, its functional namespace and its optimizers.
    float_dtype : numpy dtype
        Float32 for pydyfast and PyTorch; float64 for PyDyNet, which computes only in float64.
    """

    def __init__(self, name: str, device: str = "cpu"):
        if name not in FRAMEWORKS:
            raise ValueError(f"unknown framework {name!r}, expected one of {FRAMEWORKS}")
        self.name = name
        self.device = device
        self.lib = importlib.import_module(name)
        self.float_dtype = np.float64 if name == "pydynet" else np.float32
        if device != "cpu":
            self._check_device(device)

    # imported on first use: the autodiff examples need only tensors and autograd
    @functools.cached_property
    def nn(self):
        return importlib.import_module(f"{self.name}.nn")

    @functools.cached_property
    def F(self):  # noqa: N802
        return importlib.import_module(f"{self.name}.nn.functional")

    @functools.cached_property
    def optim(self):
        return importlib.import_module(f"{self.name}.optim")

    def _check_device(self, device):
        if not importlib.import_module(f"{self.name}.cuda").is_available():
            raise SystemExit(f"{self.name}: --device {device} asked for, but no CUDA device "
                             f"is usable here (is cupy installed?)")

    def tensor(self, array: np.ndarray, requires_grad: bool = False):
        """A tensor on ``self.device`` holding ``array``; floats become ``float_dtype``."""
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(self.float_dtype, copy=False)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64, copy=False)
        if self.name == "torch":
            return self.lib.tensor(array, device=self.device, requires_grad=requires_grad)
        return self.lib.Tensor(array, device=self.device, requires_grad=requires_grad)

    def to_numpy(self, tensor) -> np.ndarray:
        """The values of ``tensor`` as a numpy array on the host."""
        if self.name == "torch":
            return tensor.detach().cpu().numpy()
        data = tensor.data
        return data if isinstance(data, np.ndarray) else data.get()

    def no_grad(self):
        return self.lib.no_grad()

    def to_device(self, module):
        """Move ``module``'s parameters to ``self.device`` (a no-op on the CPU)."""
        return module if self.device == "cpu" else module.to(self.device)

    def manual_seed(self, seed: int):
        """Seed the framework's initialisers (PyDyNet draws from numpy's global generator)."""
        if self.name == "pydynet":
            np.random.seed(seed)
        else:
            self.lib.manual_seed(seed)

    def set_num_threads(self, threads: int):
        """Thread count of the framework's own kernels (PyDyNet has none: its BLAS follows
        ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``, which the benchmark sets per process)."""
        if self.name != "pydynet":
            self.lib.set_num_threads(threads)
