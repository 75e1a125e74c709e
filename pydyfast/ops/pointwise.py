"""Pointwise arithmetic beyond + - * /: rounding, division with rounding modes, remainders,
logarithms and exponentials, tolerance comparisons, nan handling, clamp_min/clamp_max and lerp.

Integer tensors keep torch's dtypes: rounding an integer tensor returns its values, ``//`` and
``%`` on integers stay integer (division by zero raises, as torch's does), and the float-valued
functions (log2, rsqrt, ...) compute in the default floating dtype.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import _unary, _unary_api, add, clip, mul, operands, sub, where

__all__ = ["floor", "ceil", "round", "trunc", "fix", "frac", "sign", "reciprocal", "rsqrt",
           "log2", "log10", "log1p", "expm1", "exp2", "remainder", "fmod", "floor_divide",
           "true_divide", "divide", "lerp", "isclose", "allclose", "isnan", "isinf", "isfinite",
           "isposinf", "isneginf", "nan_to_num", "clamp_min", "clamp_max"]


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


class PiecewiseConstant(Function):
    """``fn(xp, *arrays)`` for a function that is constant almost everywhere (floor, sign,
    floor division): its gradient is zero for every input, as torch defines it."""

    @staticmethod
    def forward(ctx, *arrays, fn):
        return fn(array_module(arrays[0]), *arrays)

    @staticmethod
    def backward(ctx, gy):
        zeros = array_module(gy).zeros_like(gy)
        return tuple(zeros if need else None for need in ctx.needs_input_grad)


def _rounding(name, fn, doc):
    """floor/ceil/trunc/sign: an integer or bool tensor keeps its dtype (floor/ceil/trunc give
    a copy, as torch); a floating one gets ``fn`` with a zero gradient."""

    def f(x):
        _check_tensor(name, x)
        if x.data.dtype.kind not in "fc":
            integer_sign = name == "sign" and x.data.dtype.kind != "b"  # sign(bool) is itself
            return Tensor._wrap(fn(array_module(x.data), x.data) if integer_sign
                                else x.data.copy())
        return PiecewiseConstant.apply(x, fn=fn)
    f.__name__ = name
    f.__doc__ = f"{name}(x): {doc}, elementwise; gradient 0 (torch's convention)."
    return f


floor = _rounding("floor", lambda xp, x: xp.floor(x), "largest integer <= x")
ceil = _rounding("ceil", lambda xp, x: xp.ceil(x), "smallest integer >= x")
trunc = _rounding("trunc", lambda xp, x: xp.trunc(x), "x rounded toward zero")
fix = trunc
sign = _rounding("sign", lambda xp, x: xp.sign(x), "-1, 0 or 1 by the sign of x")


def round(x, decimals=0):  # noqa: A001  (torch's name)
    """Round half to even (as torch and numpy), to ``decimals`` places; gradient 0."""
    _check_tensor("round", x)
    if x.data.dtype.kind not in "fc":
        if decimals:
            raise TypeError(f"round: decimals= needs a floating tensor, got dtype {x.dtype}")
        return Tensor._wrap(x.data.copy())
    return PiecewiseConstant.apply(x, fn=lambda xp, a: xp.round(a, int(decimals)))


Frac = _unary("Frac", lambda x: x - np.trunc(x), lambda x, gy: gy, "y",
              "x - trunc(x) (gradient 1)")


def frac(x):
    """The fractional part ``x - trunc(x)``, sign of x kept; floating tensors only (as torch)."""
    _check_tensor("frac", x)
    if x.data.dtype.kind not in "fc":
        raise TypeError(f"frac: expected a floating tensor, got dtype {x.dtype}")
    return Frac.apply(x)


_LN2, _LN10 = math.log(2.0), math.log(10.0)
Reciprocal = _unary("Reciprocal", np.reciprocal, lambda y, gy: -gy * y * y, "y", "1/x")
Rsqrt = _unary("Rsqrt", lambda x: np.reciprocal(np.sqrt(x)),
               lambda y, gy: gy * y * y * y * y.dtype.type(-0.5), "y", "1/sqrt(x)")
Log2 = _unary("Log2", np.log2, lambda x, gy: gy / (x * x.dtype.type(_LN2)), "x", "log base 2")
Log10 = _unary("Log10", np.log10, lambda x, gy: gy / (x * x.dtype.type(_LN10)), "x",
               "log base 10")
Log1p = _unary("Log1p", np.log1p, lambda x, gy: gy / (x + x.dtype.type(1)), "x",
               "log(1 + x), accurate near 0")
Expm1 = _unary("Expm1", np.expm1, lambda y, gy: gy * (y + y.dtype.type(1)), "y",
               "e^x - 1, accurate near 0")
Exp2 = _unary("Exp2", np.exp2, lambda y, gy: gy * y * y.dtype.type(_LN2), "y", "2^x")

reciprocal = _unary_api(Reciprocal, "reciprocal", float_only=True)
rsqrt = _unary_api(Rsqrt, "rsqrt", float_only=True)
log2 = _unary_api(Log2, "log2", float_only=True)
log10 = _unary_api(Log10, "log10", float_only=True)
log1p = _unary_api(Log1p, "log1p", float_only=True)
expm1 = _unary_api(Expm1, "expm1", float_only=True)
exp2 = _unary_api(Exp2, "exp2", float_only=True)


class Remainder(Function):
    """a - b * q for the quotient ``q`` rounded by ``ctx``'s rule (floor for remainder, toward
    zero for fmod); d/da = 1, d/db = -q."""

    @staticmethod
    def forward(ctx, a, b, floored):
        xp = array_module(a)
        ctx.save_for_backward(a, b)
        ctx.floored = floored
        return xp.remainder(a, b) if floored else xp.fmod(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        gb = None
        if need_b:
            xp = array_module(a)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = xp.floor(a / b) if ctx.floored else xp.trunc(a / b)
            gb = -gy * q
        return (gy if need_a else None), gb


def _integer_operands(op, a, b):
    """Both operands, and whether both are integer; integer division by zero raises."""
    a, b = operands(a, b, op)
    integer = a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub"
    if integer and bool((b.data == 0).any()):
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor of shape {b.shape}, "
                                f"dtype {b.dtype})")
    return a, b, integer


def _remainder(op, floored):
    def f(input, other):  # noqa: A002  (torch's argument names)
        a, b, integer = _integer_operands(op, input, other)
        if integer:
            xp = array_module(a.data)
            return Tensor._wrap(xp.remainder(a.data, b.data) if floored
                                else xp.fmod(a.data, b.data))
        with np.errstate(divide="ignore", invalid="ignore"):
            return Remainder.apply(a, b, floored=floored)
    f.__name__ = op
    f.__doc__ = (f"{op}(input, other): the remainder of input / other with the sign of "
                 f"{'other (Python %)' if floored else 'input (C fmod)'}, broadcasting.")
    return f


remainder = _remainder("remainder", floored=True)
fmod = _remainder("fmod", floored=False)


def _floor_quotient(xp, a, b):
    return xp.floor_divide(a, b)


def _trunc_quotient(xp, a, b):
    if a.dtype.kind in "fc":
        return xp.trunc(a / b)
    q = xp.floor_divide(a, b)
    # floor and truncation differ by one where the division is inexact and the signs differ
    return xp.where((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)), q + 1, q)


def floor_divide(input, other):  # noqa: A002
    """``input // other`` rounded toward -inf (Python's //); integer stays integer;
    gradient 0."""
    return divide(input, other, rounding_mode="floor")


def divide(input, other, *, rounding_mode=None):  # noqa: A002
    """True division, or with ``rounding_mode='trunc'``/``'floor'`` the rounded quotient
    (integer inputs then stay integer, and the gradient is 0, as torch's)."""
    from .elementwise import div
    if rounding_mode is None:
        return div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b, _ = _integer_operands("div", input, other)
    fn = _floor_quotient if rounding_mode == "floor" else _trunc_quotient
    with np.errstate(divide="ignore", invalid="ignore"):
        return PiecewiseConstant.apply(a, b, fn=fn)


true_divide = divide


def lerp(input, end, weight):  # noqa: A002
    """``input + weight * (end - input)``; ``weight`` a number or a broadcastable tensor."""
    _check_tensor("lerp", input)
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: end must be a Tensor, got {type(end).__name__}")
    if input.dtype != end.dtype:
        raise TypeError(f"lerp: expected input and end of one dtype, got {input.dtype} and "
                        f"{end.dtype}")
    return add(input, mul(weight, sub(end, input)))


def _float_arrays(op, input, other):
    a, b = operands(input, other, op)
    return a.data, b.data


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol * |other|, elementwise; a bool tensor (no grad)."""
    a, b = _float_arrays("isclose", input, other)
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol ({rtol}) and atol ({atol}) must be non-negative")
    return Tensor._wrap(array_module(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Whether every element is ``isclose``; a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def _classify(name, fn, doc):
    def f(input):  # noqa: A002
        _check_tensor(name, input)
        return Tensor._wrap(fn(array_module(input.data), input.data))
    f.__name__ = name
    f.__doc__ = f"{name}(x): a bool tensor, True where x {doc}."
    return f


isnan = _classify("isnan", lambda xp, x: xp.isnan(x), "is nan")
isinf = _classify("isinf", lambda xp, x: xp.isinf(x), "is +inf or -inf")
isfinite = _classify("isfinite", lambda xp, x: xp.isfinite(x), "is neither inf nor nan")
isposinf = _classify("isposinf", lambda xp, x: xp.isposinf(x) if x.dtype.kind in "fc"
                     else xp.zeros(x.shape, bool), "is +inf")
isneginf = _classify("isneginf", lambda xp, x: xp.isneginf(x) if x.dtype.kind in "fc"
                     else xp.zeros(x.shape, bool), "is -inf")


class NanToNum(Function):
    """nan, +inf, -inf replaced by numbers; gradient passes where x was finite, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = array_module(x)
        ctx.save_for_backward(x)
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * array_module(x).isfinite(x)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """nan -> ``nan``, +inf -> ``posinf`` (the dtype's largest value by default), -inf ->
    ``neginf`` (its lowest)."""
    _check_tensor("nan_to_num", input)
    if input.data.dtype.kind not in "fc":
        return Tensor._wrap(input.data.copy())
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def clamp_min(input, min):  # noqa: A002  (torch's argument names)
    """max(input, min); ``min`` a number or a broadcastable tensor. The gradient goes to input
    where input >= min and to a tensor ``min`` elsewhere, as torch's clamp."""
    if isinstance(min, Tensor):
        return where(input >= min, input, min)
    return clip(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """min(input, max); ``max`` a number or a broadcastable tensor (see clamp_min)."""
    if isinstance(max, Tensor):
        return where(input <= max, input, max)
    return clip(input, max=max)
