"""Random sampling from tensors: ``multinomial`` and ``bernoulli`` (torch's semantics).

Samples are drawn on the CPU from the ``generator`` given (else the global one, see
pydyfast/random.py) and moved to the input's device, so one seed gives one result everywhere.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..cuda import to_device
from ..random import numpy_generator
from ..tensor import Tensor

__all__ = ["multinomial", "bernoulli"]


def _cpu(x):
    return x.data if type(x.data) is np.ndarray else x.data.get()


def _check_distribution(op, probs):
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise RuntimeError(f"{op}: probability tensor contains either inf, nan or an element "
                           f"< 0")
    if (probs.sum(axis=-1) <= 0).any():
        raise RuntimeError(f"{op}: invalid distribution: a row of probabilities sums to 0 or "
                           f"less")


def _with_replacement(rng, weights, num_samples):
    """Inverse-CDF sampling: for each row, the category whose cumulative weight interval holds a
    uniform draw."""
    rows, n = weights.shape
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    out = np.empty((rows, num_samples), dtype=np.int64)
    for r in range(rows):
        picks = np.searchsorted(cdf[r], rng.random(num_samples), side="right")
        # rounding can leave the last cdf entry a hair under 1: fall back to the last category
        # with weight, never to one with weight 0
        out[r] = np.minimum(picks, np.flatnonzero(weights[r])[-1])
    return out


def _without_replacement(rng, weights, num_samples):
    """Gumbel top-k: log(w) plus Gumbel noise, largest first. This draws the categories in the
    same distribution as repeated sampling with each drawn category removed."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random(weights.shape)))
    return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """Indices sampled from the categorical distributions in the rows of ``input``.

    input: (n,) or (rows, n) non-negative weights (not necessarily normalised), rows with a
    positive sum. Returns int64 (num_samples,) or (rows, num_samples). Without ``replacement``
    each row yields distinct categories, so ``num_samples <= n``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: expected a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"multinomial: expected a floating tensor of probabilities, got dtype "
                        f"{input.dtype}")
    num_samples = int(num_samples)
    n = input.shape[-1]
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} > {n} "
                           f"categories without replacement")
    weights = _cpu(input).astype(np.float64).reshape(-1, n)
    _check_distribution("multinomial", weights)
    rng = numpy_generator(generator, "multinomial")
    sample = _with_replacement if replacement else _without_replacement
    out = sample(rng, weights, num_samples).reshape(input.shape[:-1] + (num_samples,))
    return Tensor._wrap(to_device(out, input.device))


class Bernoulli(Function):
    """1 with probability p, else 0. The samples do not move with p, so p's gradient is 0 (torch
    records it the same way)."""

    @staticmethod
    def forward(ctx, p, *, draws):
        return (array_module(p).asarray(draws) < p).astype(p.dtype)

    @staticmethod
    def backward(ctx, gy):
        return array_module(gy).zeros_like(gy)


def bernoulli(input, p=None, *, generator=None):  # noqa: A002
    """0/1 samples shaped like ``input`` in its dtype: 1 with probability ``input`` (elementwise,
    each in [0, 1]), or with probability ``p`` for every element when ``p`` is given."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"bernoulli: expected a floating tensor, got dtype {input.dtype}")
    if p is not None:
        if not 0 <= p <= 1:
            raise ValueError(f"bernoulli: expected 0 <= p <= 1, got p={p}")
        probs = Tensor._wrap(array_module(input.data).full(input.shape, p, dtype=input.dtype))
    else:
        cpu = _cpu(input)
        if not ((cpu >= 0) & (cpu <= 1)).all():
            raise ValueError(f"bernoulli: expected every probability in [0, 1] (tensor of shape "
                             f"{input.shape})")
        probs = input
    rng = numpy_generator(generator, "bernoulli")
    draws = to_device(rng.random(input.shape).astype(input.dtype), input.device)
    return Bernoulli.apply(probs, draws=draws)
