"""Collectives on Tensors (and raw numpy/cupy arrays), with ``torch.distributed``'s signatures.

Each call checks its arguments, hands contiguous arrays to the group's backend, and on
completion copies results back into the caller's tensors (bumping their version, as any
in-place write does). ``async_op=True`` returns the ``Work`` handle; otherwise the call waits.
"""
import numpy as np

from ..backend import engine as _engine
from ..tensor import Tensor
from .group import default_group
from .process_group import ReduceOp


def _array(x, op):
    if isinstance(x, Tensor):
        return x.data
    if hasattr(x, "__array_interface__") or hasattr(x, "__cuda_array_interface__"):
        return x
    raise TypeError(f"{op}: expected a Tensor or an array, got {type(x).__name__}")


def _device_check(group, arrays, op):
    want_numpy = group.name == "mpi"
    for a in arrays:
        if (type(a) is np.ndarray) != want_numpy:
            where = "CPU" if want_numpy else "CUDA"
            raise ValueError(f"{op}: the {group.name} backend works on {where} tensors; got "
                             f"one of type {type(a).__module__}.{type(a).__name__}")


class _Slot:
    """A caller's tensor as the backend sees it: a contiguous array, written back on
    completion when the tensor's own array could not be used directly."""

    def __init__(self, x, op):
        self.target = x
        self.array = _array(x, op)
        self.buffer = self.array if self.array.flags.c_contiguous else self.array.copy()

    def write_back(self, _=None):
        if self.buffer is not self.array:
            self.array[...] = self.buffer
        if isinstance(self.target, Tensor):
            self.target._version += 1
            _engine.note_inplace()


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _reduce_op(op, dtype, what):
    try:
        op = ReduceOp(op.value if isinstance(op, ReduceOp) else str(op).lower())
    except ValueError:
        raise ValueError(f"{what}: unknown reduction {op!r}; expected one of "
                         f"{[o.name for o in ReduceOp]}") from None
    if op is ReduceOp.AVG and np.dtype(dtype).kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    return op


def _check_rank(group, r, name, what):
    if not isinstance(r, (int, np.integer)) or not 0 <= r < group.size:
        raise ValueError(f"{what}: {name}={r!r} is not a rank of this group (0..{group.size - 1})")


def _check_list(group, tensors, like, name, what):
    if tensors is None or len(tensors) != group.size:
        got = "None" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"{what}: {name} must hold one tensor per rank ({group.size}), got "
                         f"{got}")
    arrays = [_array(t, what) for t in tensors]
    for i, a in enumerate(arrays):
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f"{what}: {name}[{i}] has shape {a.shape} and dtype {a.dtype}; "
                             f"expected {like.shape} {like.dtype} like the tensor")
    return arrays


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks (sum, avg, product, max, min); every rank gets the
    result in place. Booleans reduce as "or" (sum, max) and "and" (product, min)."""
    g = default_group(group, "all_reduce")
    slot = _Slot(tensor, "all_reduce")
    _device_check(g, [slot.array], "all_reduce")
    op = _reduce_op(op, slot.array.dtype, "all_reduce")
    return _finish(g.all_reduce(slot.buffer, op).then(slot.write_back), async_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Like ``all_reduce`` but only rank ``dst`` receives the result."""
    g = default_group(group, "reduce")
    _check_rank(g, dst, "dst", "reduce")
    slot = _Slot(tensor, "reduce")
    _device_check(g, [slot.array], "reduce")
    op = _reduce_op(op, slot.array.dtype, "reduce")
    work = g.reduce(slot.buffer, dst, op)
    return _finish(work.then(slot.write_back) if g.rank == dst else work, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank."""
    g = default_group(group, "broadcast")
    _check_rank(g, src, "src", "broadcast")
    slot = _Slot(tensor, "broadcast")
    _device_check(g, [slot.array], "broadcast")
    return _finish(g.broadcast(slot.buffer, src).then(slot.write_back), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``output_tensor`` (world_size * n, ...) or (world_size, n, ...) receives every rank's
    ``input_tensor`` (n, ...) in rank order."""
    g = default_group(group, "all_gather_into_tensor")
    x, out = _Slot(input_tensor, "all_gather"), _Slot(output_tensor, "all_gather")
    _device_check(g, [x.array, out.array], "all_gather_into_tensor")
    if out.array.size != g.size * x.array.size or out.array.dtype != x.array.dtype:
        raise ValueError(f"all_gather_into_tensor: output of shape {out.array.shape} and dtype "
                         f"{out.array.dtype} cannot hold {g.size} inputs of shape "
                         f"{x.array.shape} and dtype {x.array.dtype}")
    rows = out.buffer.reshape((g.size,) + x.array.shape)
    return _finish(g.all_gather(rows, x.buffer).then(out.write_back), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` receives rank r's ``tensor``, on every rank."""
    g = default_group(group, "all_gather")
    x = _Slot(tensor, "all_gather")
    _device_check(g, [x.array], "all_gather")
    targets = _check_list(g, tensor_list, x.array, "tensor_list", "all_gather")
    rows = g.xp.empty((g.size,) + x.array.shape, x.array.dtype)
    return _finish(g.all_gather(rows, x.buffer).then(_scatter_rows(rows, tensor_list, targets)),
                   async_op)


def _scatter_rows(rows, tensors, arrays):
    """A completion step copying ``rows[i]`` into the i-th caller tensor."""
    def step(_):
        for t, a, row in zip(tensors, arrays, rows):
            if a is not None:
                a[...] = row
                if isinstance(t, Tensor):
                    t._version += 1
        _engine.note_inplace()
    return step


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op=False):
    """Reduce ``input`` (world_size * n, ...) over ranks; rank r keeps block r in ``output``."""
    g = default_group(group, "reduce_scatter_tensor")
    x, out = _Slot(input, "reduce_scatter"), _Slot(output, "reduce_scatter")
    _device_check(g, [x.array, out.array], "reduce_scatter_tensor")
    if x.array.size != g.size * out.array.size or out.array.dtype != x.array.dtype:
        raise ValueError(f"reduce_scatter_tensor: input of shape {x.array.shape} and dtype "
                         f"{x.array.dtype} is not {g.size} blocks of the output's shape "
                         f"{out.array.shape} and dtype {out.array.dtype}")
    op = _reduce_op(op, x.array.dtype, "reduce_scatter_tensor")
    blocks = x.buffer.reshape((g.size,) + out.array.shape)
    return _finish(g.reduce_scatter(out.buffer, blocks, op).then(out.write_back), async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[r]`` over ranks into ``output`` on rank r."""
    g = default_group(group, "reduce_scatter")
    out = _Slot(output, "reduce_scatter")
    arrays = _check_list(g, input_list, out.array, "input_list", "reduce_scatter")
    _device_check(g, [out.array] + arrays, "reduce_scatter")
    op = _reduce_op(op, out.array.dtype, "reduce_scatter")
    blocks = g.xp.stack(arrays) if arrays else g.xp.empty((0,), out.array.dtype)
    return _finish(g.reduce_scatter(out.buffer, blocks, op).then(out.write_back), async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Rank ``dst`` receives every rank's ``tensor`` in ``gather_list`` (None elsewhere)."""
    g = default_group(group, "gather")
    _check_rank(g, dst, "dst", "gather")
    x = _Slot(tensor, "gather")
    _device_check(g, [x.array], "gather")
    if g.rank != dst:
        if gather_list:
            raise ValueError(f"gather: gather_list must be None on ranks other than dst={dst}")
        return _finish(g.gather(None, x.buffer, dst), async_op)
    targets = _check_list(g, gather_list, x.array, "gather_list", "gather")
    rows = g.xp.empty((g.size,) + x.array.shape, x.array.dtype)
    work = g.gather(rows, x.buffer, dst)
    return _finish(work.then(_scatter_rows(rows, gather_list, targets)), async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Rank r receives ``scatter_list[r]`` of rank ``src`` in ``tensor``."""
    g = default_group(group, "scatter")
    _check_rank(g, src, "src", "scatter")
    out = _Slot(tensor, "scatter")
    _device_check(g, [out.array], "scatter")
    rows = None
    if g.rank == src:
        rows = g.xp.stack(_check_list(g, scatter_list, out.array, "scatter_list", "scatter"))
    elif scatter_list:
        raise ValueError(f"scatter: scatter_list must be None on ranks other than src={src}")
    return _finish(g.scatter(out.buffer, rows, src).then(out.write_back), async_op)


def isend(tensor, dst, group=None, tag=0):
    """Start sending ``tensor`` to rank ``dst``; returns a Work handle."""
    g = default_group(group, "send")
    _check_rank(g, dst, "dst", "send")
    x = _Slot(tensor, "send")
    _device_check(g, [x.array], "send")
    return g.send(x.buffer, dst, tag)


def irecv(tensor, src=None, group=None, tag=0):
    """Start receiving into ``tensor`` from rank ``src`` (None: any); returns a Work handle
    whose ``result()`` is the sender's rank."""
    g = default_group(group, "recv")
    if src is not None:
        _check_rank(g, src, "src", "recv")
    out = _Slot(tensor, "recv")
    _device_check(g, [out.array], "recv")
    return g.recv(out.buffer, src, tag).then(out.write_back)


def send(tensor, dst, group=None, tag=0):
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor``; returns the sender's rank."""
    work = irecv(tensor, src, group, tag)
    sender = work.result()
    return src if sender is None else sender


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` receives rank r's picklable ``obj``."""
    g = default_group(group, "all_gather_object")
    if len(object_list) != g.size:
        raise ValueError(f"all_gather_object: object_list must have world_size={g.size} "
                         f"entries, got {len(object_list)}")
    object_list[:] = g.all_gather_object(obj)
