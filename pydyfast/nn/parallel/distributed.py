"""DistributedDataParallel: one model replica per process, gradients averaged across them."""
import contextlib

from ... import autograd
from ...backend import array_module
from ...distributed.group import default_group
from ..modules.module import Module
from .reducer import Reducer


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``loss.backward()`` leaves every rank with the gradient averaged
    over all ranks (each rank runs its own share of the batch).

    At construction the parameter names and shapes are compared across ranks (a mismatch is an
    error naming the parameter) and rank 0's parameters and buffers are copied to every rank.
    During backward, gradients are all-reduced in buckets of ``bucket_cap_mb`` megabytes as they
    become ready, overlapping communication with the rest of backward.

    Parameters
    ----------
    module : Module
    device_ids, output_device : accepted for torch compatibility; the module's own device is used.
    broadcast_buffers : copy rank 0's buffers (BatchNorm statistics) to all ranks at each
        training forward, as torch does.
    bucket_cap_mb : the size of a gradient bucket.
    find_unused_parameters : find, after each forward, the parameters the output does not
        depend on, so that backward does not wait for their gradients.
    """

    def __init__(self, module, device_ids=None, output_device=None, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        group = default_group(process_group, "DistributedDataParallel")
        self.module = module
        object.__setattr__(self, "process_group", group)
        object.__setattr__(self, "broadcast_buffers", broadcast_buffers)
        object.__setattr__(self, "require_backward_grad_sync", True)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        _check_same_layout(group, module)
        _broadcast_from_rank0(group, [p for _, p in module.named_parameters()] +
                              [b for _, b in module.named_buffers()])
        object.__setattr__(self, "reducer", Reducer(named, group, bucket_cap_mb * 2 ** 20,
                                                    find_unused_parameters))

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training and self.process_group.size > 1:
            _broadcast_from_rank0(self.process_group, [b for _, b in self.module.named_buffers()])
        outputs = self.module(*inputs, **kwargs)
        if autograd.is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare(outputs)
        return outputs

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside keep their gradients local (accumulated in ``.grad``); the
        first synchronised backward after it averages the accumulated sum."""
        previous = self.require_backward_grad_sync
        object.__setattr__(self, "require_backward_grad_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "require_backward_grad_sync", previous)


def _check_same_layout(group, module):
    """Every rank must hold the same parameters (names, shapes, dtypes) and buffers."""
    mine = [(kind, n, tuple(t.shape), str(t.dtype))
            for kind, items in (("parameter", module.named_parameters()),
                                ("buffer", module.named_buffers()))
            for n, t in items]
    everyone = group.all_gather_object(mine)
    for rank, theirs in enumerate(everyone):
        if theirs == everyone[0]:
            continue
        for i in range(max(len(theirs), len(everyone[0]))):
            a = everyone[0][i] if i < len(everyone[0]) else None
            b = theirs[i] if i < len(theirs) else None
            if a != b:
                what = a or b
                raise RuntimeError(
                    f"DistributedDataParallel: the model differs across ranks at {what[0]} "
                    f"{what[1]!r}: rank 0 has {_describe(a)}, rank {rank} has {_describe(b)}")


def _describe(entry):
    if entry is None:
        return "nothing there"
    kind, name, shape, dtype = entry
    return f"{kind} {name!r} of shape {shape} and dtype {dtype}"


def _broadcast_from_rank0(group, tensors):
    """Rank 0's values into ``tensors`` on every rank, one broadcast per dtype and device."""
    if group.size == 1:
        return
    groups = {}
    for t in tensors:
        if t is not None:
            groups.setdefault((t.data.dtype, type(t.data)), []).append(t)
    for members in groups.values():
        xp = array_module(members[0].data)
        flat = xp.concatenate([t.data.reshape(-1) for t in members])
        group.broadcast(flat, 0).wait()
        offset = 0
        for t in members:
            n = t.data.size
            t.data[...] = flat[offset:offset + n].reshape(t.data.shape)
            offset += n
