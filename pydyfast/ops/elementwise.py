"""Elementwise operations: arithmetic with broadcasting, unary math and activations.

Broadcast gradients are reduced to each input's shape by the engine (``unbroadcast``), so the
backward functions here return gradients of the broadcast shape.
"""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .promotion import Scalar, constant, is_scalar, operands, real_number, result_dtype


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
        need_a, need_b = ctx.needs_input_grad  # save only what backward reads, as torch does
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gy / b if need_a else None
        gb = -gy * a / (b * b) if need_b else None
        return ga, gb


class Pow(Function):
    """a ** b for two tensors; d/da = b a^(b-1) (0 where b == 0, as torch), d/db = a^b log a
    (0 where a == 0 and b >= 0; nan for a negative base, as torch)."""

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        xp = array_module(a)
        zero = gy.dtype.type(0)
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                ga = xp.where(b == 0, zero, gy * b * a ** (b - 1))
            if need_b:
                gb = xp.where((a == 0) & (b >= 0), zero, gy * y * xp.log(a))
        return ga, gb


class PowScalar(Function):
    """a ** p for a Python number p; the gradient p a^(p-1) is 0 for p == 0 (also at a == 0)
    and -inf for 0 ** negative p, as torch."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        with np.errstate(divide="ignore", invalid="ignore"):
            return a ** exponent

    @staticmethod
    def backward(ctx, gy):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return array_module(gy).zeros_like(gy)
        if p == 2:
            return gy * (2 * a)
        with np.errstate(divide="ignore", invalid="ignore"):
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
    if any(isinstance(x, Tensor) and x.data.dtype == np.bool_ for x in (a, b)):
        raise TypeError("sub: subtraction with a bool tensor is not supported (as in torch); "
                        "use ~ or logical_not() to invert a mask")
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
    """a ** b elementwise, with torch's dtypes and edge values (0 ** -1 is inf, a negative base
    to a fractional power nan, the gradient of x ** 0 is 0)."""
    exponent, base = real_number(b), real_number(a)
    if isinstance(a, Tensor) and exponent is not None:
        if a.data.dtype.kind in "iub" and (exponent < 0 or type(exponent) is float):
            a = a.to(dtype=dtypes.get_default_dtype())
        return PowScalar.apply(a, exponent=exponent)
    if isinstance(b, Tensor) and base is not None and base > 0:
        if b.data.dtype.kind in "iub":
            b = b.to(dtype=dtypes.get_default_dtype() if type(base) is float else b.dtype)
        return RPowScalar.apply(b, base=base)
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
    """Clamp to [min, max]; either bound may be None. Gradient 1 inside, 0 outside. As in
    torch, ``min > max`` sets every element to ``max``."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    low, high = (None if v is None else real_number(v) for v in (min, max))
    if (min is not None and low is None) or (max is not None and high is None):
        raise TypeError(f"clip: min and max must be numbers or None, got {type(min).__name__} "
                        f"and {type(max).__name__}")
    return Clip.apply(x, low=low, high=high)  # min > max gives max everywhere, as torch


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
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # torch.where(c, 1.0, 0.0)
        if not (is_scalar(a) and is_scalar(b)):
            raise TypeError(f"where: expected Tensors or scalars, got {type(a).__name__} and "
                            f"{type(b).__name__}")
        dtype = result_dtype(Scalar(a), Scalar(b))
        xp = array_module(cond)
        a, b = Tensor._wrap(xp.asarray(a, dtype)), Tensor._wrap(xp.asarray(b, dtype))
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
