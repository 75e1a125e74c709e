"""Dropout as a Function: multiply by a precomputed mask and reuse it in backward (one array kept,
not the input). The public wrapper (``F.dropout``) draws the mask."""
from ..autograd import Function


class Dropout(Function):
    """y = x * mask, with mask in {0, 1/(1-p)}; backward reuses the mask."""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.mask
