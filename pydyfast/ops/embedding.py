"""Embedding lookup: rows of a weight matrix picked by integer indices. The public wrapper
(``F.embedding``) checks indices and padding_idx."""
from ..autograd import Function
from ..backend import array_module


class Embedding(Function):
    """Rows of ``weight`` picked by integer ``indices``; backward scatter-adds into the rows
    (repeated indices accumulate) and leaves the padding row without gradient."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.indices, ctx.padding_idx, ctx.weight_shape = indices, padding_idx, weight.shape
        return weight[indices]

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        g = xp.zeros(ctx.weight_shape, gy.dtype)
        xp.add.at(g, ctx.indices.reshape(-1), gy.reshape(-1, ctx.weight_shape[1]))
        if ctx.padding_idx is not None:
            g[ctx.padding_idx] = 0
        return g
