"""Embedding lookup: rows of a weight matrix picked by integer indices. The public wrapper
(``F.embedding``) checks indices and padding_idx."""
from ..autograd import Function
from ..backend import array_module
from .gather import index_select_grad


class Embedding(Function):
    """Rows of ``weight`` picked by integer ``indices``; backward scatter-adds into the rows
    (repeated indices accumulate) and leaves the padding row without gradient."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.indices, ctx.padding_idx, ctx.weight_shape = indices, padding_idx, weight.shape
        return array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, gy):
        # index_select's compiled gradient: numpy's add.at was the slowest call after the GEMMs
        # in the Transformer benchmark's step (11,520 rows of 512 into 5,000)
        g = index_select_grad(gy.reshape(-1, ctx.weight_shape[1]), ctx.indices.reshape(-1),
                              ctx.weight_shape, 0)
        if ctx.padding_idx is not None:
            g[ctx.padding_idx] = 0
        return g
