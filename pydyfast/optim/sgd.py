"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""SGD as in ``torch.optim.SGD``.

    With :math:`g = \nabla_\theta + \lambda\theta` (weight decay :math:`\lambda`) and momentum
    :math:`\mu`: :math:`b \leftarrow \mu b + (1 - \tau) g` (the first step sets :math:`b = g`),
    then :math:`g \leftarrow g + \mu b` (Nesterov) or :math:`g \leftarrow b`, and
    :math:`\theta \leftarrow \theta - \eta g`. ``maximize`` ascends instead.

    ``fused`` (default: when the compiled kernels are loaded) updates every parameter of a group
    in one compiled pass, ``_C.sgd_step``; ``fused=False`` or a ``foreach`` choice takes the
    NumPy reference. With momentum, ``state[p]["momentum_buffer"]`` is a Tensor from the first
    step on.
    """

    _fused_kernel_name = "sgd_step"

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach, fused=fused))

    def _check_options(self, group):
        super()._check_options(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum {group['momentum']} (expected >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening 0")

    def _fused_update(self, kernel, group, batch):
        params, grads, states = zip(*batch)
        buffers, fresh = [], []
        if group["momentum"] != 0:
            for param, state in zip(params, states):
                # torch's first step copies the gradient into a new buffer: the kernel writes it
                fresh.append(state.get("momentum_buffer") is None)
                if fresh[-1]:
                    state["momentum_buffer"] = Tensor._wrap(np.empty_like(param))
                buffers.append(state["momentum_buffer"].data)
        kernel(list(params), list(grads), buffers, fresh, group["lr"], group["momentum"],
               group["dampening"], group["weight_decay"], group["nesterov"], group["maximize"])

    def _update(self, param, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = grad.copy()
                state["momentum_buffer"] = Tensor._wrap(buf)
            else:
                buf = buf.data
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * grad
