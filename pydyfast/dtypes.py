"""dtypes: names, the default floating dtype (float32 as in PyTorch) and array conversion."""
import numpy as np

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
bool_ = np.bool_
half, float, double, long = np.float16, np.float32, np.float64, np.int64  # PyTorch aliases

_default_float = np.dtype(np.float32)


def set_default_dtype(dtype):
    """Set the dtype that Python floats and new floating tensors get (float32 or float64)."""
    global _default_float
    d = np.dtype(resolve(dtype))
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_float = d


def get_default_dtype():
    return _default_float.type


def resolve(dtype):
    """A numpy dtype from a numpy dtype, a type or a name ('float32', 'float')."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "double", "long", "half"):
        dtype = {"float": np.float32, "double": np.float64, "long": np.int64,
                 "half": np.float16}[dtype]
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"unknown dtype {dtype!r}") from exc


def category(dtype):
    """0 bool, 1 integer, 2 floating, 3 complex: the order torch's promotion ranks them in."""
    return {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}[np.dtype(dtype).kind]


def promote_types(d1, d2):
    """torch's promote_types: across categories the higher one's dtype wins at its own width
    (int64 with float32 is float32, where numpy says float64); within one, numpy's rule."""
    c1, c2 = category(d1), category(d2)
    if c1 == c2 or {c1, c2} == {2, 3}:
        return np.promote_types(d1, d2)
    return np.dtype(d1) if c1 > c2 else np.dtype(d2)


def combine_categories(higher, lower):
    """torch's rule between promotion groups: the higher-priority group's dtype stands unless
    the lower group is of a higher category (an int tensor times a float scalar is float)."""
    if higher is None:
        return lower
    if lower is None or category(higher) >= category(lower):
        return higher
    return promote_types(higher, lower)


def as_array(data, dtype=None, requires_grad=False, device=None):
    """A fresh array for Tensor(...): copied, on ``device``, with PyTorch's dtype rules."""
    from .cuda import CPU, Device, to_device
    from .tensor import Tensor
    dtype = resolve(dtype)
    if isinstance(data, Tensor):
        data = data.data
    is_array = hasattr(data, "__array_interface__") or hasattr(data, "__cuda_array_interface__")
    on_gpu = is_array and hasattr(data, "__cuda_array_interface__")
    target = Device(device) if device is not None else (
        Device("cuda", data.device.id) if on_gpu else CPU)
    if target.type == "cpu" and not (type(data) is np.ndarray):
        if hasattr(data, "__cuda_array_interface__"):
            data = data.get()
    if target.type == "cpu":
        arr = np.array(data, dtype=dtype, copy=True)
    else:
        arr = to_device(np.asarray(data) if not is_array else data, target)
        arr = arr.astype(dtype, copy=True) if dtype is not None else arr.copy()
    if dtype is None:
        if arr.dtype == np.float64 and not is_array:
            arr = arr.astype(_default_float)  # Python floats follow the default dtype
        elif arr.dtype.kind in "iub" and requires_grad:
            arr = arr.astype(_default_float)  # Tensor([1, 2, 3], requires_grad=True)
    if requires_grad and arr.dtype.kind not in "fc":
        raise TypeError(f"Tensor: only floating-point tensors can require gradients, got dtype "
                        f"{arr.dtype}; pass dtype=float32 or float64")
    if arr.dtype == object:
        raise TypeError("Tensor: data must be numeric (nested lists of equal length, numbers, "
                        "or arrays), not Python objects")
    return arr
