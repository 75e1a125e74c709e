"""Identity ops whose backward calls back into the caller: where module backward hooks and
differentiable collectives attach to the graph.

``Passthrough.apply(*tensors, on_backward=f)`` returns the tensors unchanged (as new graph
nodes); backward returns ``f(grads)``, one array (or None) per input. ``Reduced.apply(x,
reduce=f)`` is ``f`` applied to a copy of x, and backward applies the same ``f`` to a copy of the
gradient: right for a sum over processes (the adjoint of an all-reduce sum is an all-reduce
sum), which is what ``distributed.nn.all_reduce`` passes.
"""
from ..autograd import Function


class Passthrough(Function):
    @staticmethod
    def forward(ctx, *tensors, on_backward):
        ctx.on_backward = on_backward
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return ctx.on_backward(grads)


class Reduced(Function):
    @staticmethod
    def forward(ctx, x, reduce):
        ctx.reduce = reduce
        out = x.copy()
        reduce(out)
        return out

    @staticmethod
    def backward(ctx, gy):
        g = gy.copy()
        ctx.reduce(g)
        return g
