"""Elementwise operations: arithmetic with broadcasting, unary math and activations.

Broadcast gradients are reduced to each input's shape by the engine (``unbroadcast``), so the
backward functions here return gradients of the broadcast shape.
"""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor


def operands(a, b, op):
    """Two Tensors for a binary op, with PyTorch's promotion: Python scalars and arrays become
    constants that follow the tensor's dtype (float32 * 2.0 stays float32), and an integer or
    bool operand meeting a floating one takes the floating dtype. Devices must agree."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a.data, b.data
            if type(da) is not type(db) or (type(da) is not np.ndarray and da.device != db.device):
                raise RuntimeError(f"{op}: expected both tensors on the same device, got "
                                   f"{a.device} and {b.device}")
        else:
            b = constant(b, a, op)
    elif isinstance(b, Tensor):
        a = constant(a, b, op)
    else:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    ta, tb = a.data.dtype, b.data.dtype
    if ta is not tb and ta.kind != tb.kind:
        if tb.kind == "f" and ta.kind in "iub":
            a = a.to(dtype=tb)
        elif ta.kind == "f" and tb.kind in "iub":
            b = b.to(dtype=ta)
    return a, b


_scalar_constants = {}  # (value, dtype) -> Tensor: x * 2.0 in a loop allocates nothing new


def constant(value, like, op):
    """``value`` as a Tensor that needs no grad, on the device of ``like``."""
    data = like.data
    kind_of_value = type(value)
    if kind_of_value is float or kind_of_value is int or kind_of_value is bool:
        kind = data.dtype.kind
        if kind in "fc" or (kind in "iu" and kind_of_value is not float) or kind_of_value is bool:
            dtype = data.dtype
        elif kind_of_value is float:
            dtype = np.dtype(dtypes.get_default_dtype())
        else:
            dtype = np.dtype(np.int64)
        if type(data) is np.ndarray:
            key = (value, dtype)
            t = _scalar_constants.get(key)
            if t is None:
                if len(_scalar_constants) > 512:
                    _scalar_constants.clear()
                t = _scalar_constants[key] = Tensor._wrap(np.array(value, dtype))
            return t
        return Tensor._wrap(array_module(data).asarray(value, dtype))
    if hasattr(value, "__cuda_array_interface__") and type(data) is np.ndarray:
        raise RuntimeError(f"{op}: expected both operands on the same device, got cpu and a "
                           f"cuda array")
    arr = np.asarray(value) if type(data) is np.ndarray else value
    if arr.dtype == np.float64 and not hasattr(value, "dtype"):
        arr = arr.astype(dtypes.get_default_dtype())  # a list of Python floats
    if type(data) is not np.ndarray:
        arr = array_module(data).asarray(arr)
    return Tensor._wrap(arr)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return gy, gy


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, gy):
        return gy, (-gy if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gy / b if need_a else None
        gb = -gy * a / (b * b) if need_b else None
        return ga, gb


class Pow(Function):
    """a ** b for two tensors; d/da = b a^(b-1), d/db = a^b log a."""

    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gy * b * a ** (b - 1) if need_a else None
        gb = None
        if need_b:
            xp = array_module(a)
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = gy * y * xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0)
        return ga, gb


class PowScalar(Function):
    """a ** p for a Python number p."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a ** exponent

    @staticmethod
    def backward(ctx, gy):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 2:
            return gy * (2 * a)
        return gy * (p * a ** (p - 1))


class RPowScalar(Function):
    """c ** a for a Python number c > 0."""

    @staticmethod
    def forward(ctx, a, base):
        y = base ** a
        ctx.save_for_backward(y)
        ctx.log_base = float(np.log(base))
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y * y.dtype.type(ctx.log_base)


def add(a, b):
    a, b = operands(a, b, "add")
    return Add.apply(a, b)


def sub(a, b):
    a, b = operands(a, b, "sub")
    return Sub.apply(a, b)


def mul(a, b):
    a, b = operands(a, b, "mul")
    return Mul.apply(a, b)


def div(a, b):
    a, b = operands(a, b, "div")
    if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub":  # true division is float
        a, b = a.to(dtype=dtypes.get_default_dtype()), b.to(dtype=dtypes.get_default_dtype())
    return Div.apply(a, b)


def pow(a, b):  # noqa: A001  (the operator's name)
    if isinstance(a, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if a.data.dtype.kind in "iu" and (b < 0 or type(b) is float):
            a = a.to(dtype=dtypes.get_default_dtype())
        return PowScalar.apply(a, exponent=b)
    if isinstance(b, Tensor) and isinstance(a, (int, float)) and not isinstance(a, bool) and a > 0:
        return RPowScalar.apply(b, base=a)
    a, b = operands(a, b, "pow")
    return Pow.apply(a, b)


def _unary(name, forward, derivative, saves, doc):
    """A Function class for y = f(x) whose gradient is ``derivative(saved, gy)``.

    ``saves`` is "x" or "y": which array backward needs (the output saves memory when the
    derivative can be written with it, as for exp, tanh, sigmoid, relu)."""

    def fwd(ctx, x):
        y = forward(x)
        ctx.save_for_backward(x if saves == "x" else y)
        return y

    def bwd(ctx, gy):
        return derivative(ctx.saved_tensors[0], gy)

    return type(name, (Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd),
                                    "__doc__": doc})


def _sigmoid(x):
    # 0.5 (1 + tanh(x/2)) never overflows, unlike 1 / (1 + exp(-x)) at x = -1000
    return x.dtype.type(0.5) * (np.tanh(x.dtype.type(0.5) * x) + 1)


def _one(a):
    return a.dtype.type(1)


Neg = _unary("Neg", np.negative, lambda x, gy: -gy, "x", "-x")
Abs = _unary("Abs", np.abs, lambda x, gy: gy * np.sign(x), "x", "|x| (gradient 0 at 0)")
Exp = _unary("Exp", np.exp, lambda y, gy: gy * y, "y", "e^x")
Log = _unary("Log", np.log, lambda x, gy: gy / x, "x", "natural logarithm")
Sqrt = _unary("Sqrt", np.sqrt, lambda y, gy: gy / (2 * y), "y", "square root")
Square = _unary("Square", np.square, lambda x, gy: gy * (2 * x), "x", "x^2")
Sin = _unary("Sin", np.sin, lambda x, gy: gy * np.cos(x), "x", "sine")
Cos = _unary("Cos", np.cos, lambda x, gy: -gy * np.sin(x), "x", "cosine")
Tanh = _unary("Tanh", np.tanh, lambda y, gy: gy * (_one(y) - y * y), "y", "hyperbolic tangent")
Sigmoid = _unary("Sigmoid", _sigmoid, lambda y, gy: gy * y * (_one(y) - y), "y", "1/(1+e^-x)")
Sign = _unary("Sign", np.sign, lambda x, gy: gy * 0, "x", "-1, 0 or 1 (gradient 0)")
Relu = _unary("Relu", lambda x: np.maximum(x, 0), lambda y, gy: gy * (y > 0), "y",
              "max(x, 0) (gradient 0 at 0, as in PyTorch)")


def _unary_api(op, name, float_only=False):
    def f(x):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        if float_only and x.data.dtype.kind not in "fc":
            x = x.to(dtype=dtypes.get_default_dtype())  # torch.exp(int tensor) is float too
        return op.apply(x)
    f.__name__ = name
    f.__doc__ = f"{name}(x): {op.__doc__}, elementwise."
    return f


neg = _unary_api(Neg, "neg")
abs = _unary_api(Abs, "abs")  # noqa: A001
exp = _unary_api(Exp, "exp", float_only=True)
log = _unary_api(Log, "log", float_only=True)
sqrt = _unary_api(Sqrt, "sqrt", float_only=True)
square = _unary_api(Square, "square")
sin = _unary_api(Sin, "sin", float_only=True)
cos = _unary_api(Cos, "cos", float_only=True)
tanh = _unary_api(Tanh, "tanh", float_only=True)
sigmoid = _unary_api(Sigmoid, "sigmoid", float_only=True)
relu = _unary_api(Relu, "relu")
sign = _unary_api(Sign, "sign")


class Clip(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        inside = True
        if ctx.low is not None:
            inside = x >= ctx.low
        if ctx.high is not None:
            inside = inside & (x <= ctx.high)
        return gy * inside


def clip(x, min=None, max=None):  # noqa: A002  (PyTorch's argument names)
    """Clamp to [min, max]; either bound may be None. Gradient 1 inside, 0 outside."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min ({min}) is greater than max ({max})")
    return Clip.apply(x, low=min, high=max)


class Maximum(Function):
    """max(a, b); where equal, the gradient is split evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _select_grads(gy, a > b, a == b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _select_grads(gy, a < b, a == b)


def _select_grads(gy, a_wins, tie):
    half = gy * gy.dtype.type(0.5) * tie
    return gy * a_wins + half, gy * ~(a_wins | tie) + half


def maximum(a, b):
    a, b = operands(a, b, "maximum")
    return Maximum.apply(a, b)


def minimum(a, b):
    a, b = operands(a, b, "minimum")
    return Minimum.apply(a, b)


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return array_module(a).where(condition, a, b)

    @staticmethod
    def backward(ctx, gy):
        c = ctx.condition
        zero = gy.dtype.type(0)
        xp = array_module(gy)
        need_a, need_b = ctx.needs_input_grad
        return (xp.where(c, gy, zero) if need_a else None), (xp.where(c, zero, gy) if need_b else None)


def _mask_array(mask):
    """A Tensor's array, a numpy or cupy array as it is (np.asarray refuses cupy), or else the
    value through numpy."""
    if isinstance(mask, Tensor):
        return mask.data
    return mask if hasattr(mask, "__cuda_array_interface__") else np.asarray(mask)


def where(condition, a, b):
    """Elementwise ``a if condition else b``, broadcasting all three."""
    cond = _mask_array(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    a, b = operands(a, b, "where")
    if type(cond) is not type(a.data):
        cond = array_module(a.data).asarray(cond)
    return Where.apply(a, b, condition=cond)


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever the (broadcastable) boolean ``mask`` is True."""
    m = _mask_array(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the "
                         f"tensor's shape {x.shape}") from None
    fill = constant(value, x, "masked_fill")
    return Where.apply(fill, x, condition=m if type(m) is type(x.data)
                       else array_module(x.data).asarray(m))
