"""Devices: ``'cpu'``, ``'cuda'``, ``'cuda:N'``. CuPy is imported lazily and silently."""
import numpy as np

_cupy = None
_cupy_checked = False


def cupy_module():
    """The cupy module, or an ImportError that says how to get it."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy
            _cupy = cupy
        except Exception:  # cupy missing or its CUDA libraries broken: CPU only
            _cupy = None
    if _cupy is None:
        raise ImportError("pydyfast: CUDA tensors need CuPy (pip install cupy-cuda12x or "
                          "cupy-cuda13x) and an NVIDIA GPU")
    return _cupy


def is_available():
    """True when CuPy imports and sees at least one GPU. Never raises."""
    try:
        cp = cupy_module()
        return bool(cp.cuda.is_available())
    except Exception:
        return False


def device_count():
    if not is_available():
        return 0
    return cupy_module().cuda.runtime.getDeviceCount()


class Device:
    """A device: ``Device('cpu')``, ``Device('cuda')``, ``Device('cuda:1')``, ``Device('cuda', 1)``,
    or PyDyNet's ``Device(0)`` / ``Device(-1)`` (an int: CUDA device N, negative for the CPU)."""

    __slots__ = ("type", "index", "_ctx")

    def __init__(self, device="cpu", index=None):
        if isinstance(device, Device):
            self.type, self.index = device.type, device.index
            return
        if isinstance(device, int) and not isinstance(device, bool):
            self.type, self.index = ("cpu", None) if device < 0 else ("cuda", device)
            return
        if not isinstance(device, str):
            raise TypeError(f"Device: expected 'cpu', 'cuda', 'cuda:N' or an int, got {device!r}")
        kind, _, num = device.strip().lower().partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"Device: unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")
        if num:
            if not num.isdigit():
                raise ValueError(f"Device: bad device index in {device!r}")
            index = int(num)
        if kind == "cpu":
            index = None
        elif index is None:
            index = 0
        self.type, self.index = kind, index

    def __eq__(self, other):
        if not isinstance(other, Device):
            try:
                other = Device(other)
            except (TypeError, ValueError):
                return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else
                                              f", index={self.index}") + ")"

    @property
    def xp(self):
        """The array module of this device (numpy or cupy)."""
        return np if self.type == "cpu" else cupy_module()

    def __enter__(self):
        if self.type == "cuda":
            self._ctx = cupy_module().cuda.Device(self.index)
            self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self.type == "cuda":
            self._ctx.__exit__(*exc)


CPU = Device("cpu")
device = Device  # torch.device spelling


def device_of(array):
    """The Device that holds ``array`` (a numpy or cupy array)."""
    if type(array) is np.ndarray:
        return CPU
    return Device("cuda", array.device.id)


def to_device(array, device):
    """``array`` moved (copied only when needed) to ``device``."""
    if device.type == "cpu":
        return array if type(array) is np.ndarray else array.get()
    cp = cupy_module()
    if not is_available():
        raise RuntimeError(f"to('{device}'): no CUDA GPU is available (cupy found none)")
    with cp.cuda.Device(device.index):
        return cp.asarray(array)


def current_device():
    """The index of the current CUDA device (``torch.cuda.current_device``)."""
    return cupy_module().cuda.runtime.getDevice()


def set_device(device):
    """Make ``device`` (an index, 'cuda:N' or a Device) the current CUDA device."""
    index = device if isinstance(device, int) else Device(device).index
    cupy_module().cuda.runtime.setDevice(index)
