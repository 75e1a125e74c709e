"""Gradient buckets of DistributedDataParallel, all-reduced from gradient hooks in backward.

Parameters are packed, in reverse registration order (roughly the order backward produces
their gradients), into flat buckets of at most ``bucket_cap_mb`` per dtype (the first one at
most 1 MiB, as in torch, so that communication starts early in backward). A post-accumulate
hook copies each gradient into its bucket as soon as it is ready; a full bucket starts its
asynchronous all-reduce (average) at once, in bucket order on every rank, so communication runs
while backward computes the earlier layers. When the last bucket has started, the reducer waits
for all of them and writes the averaged gradients back into ``.grad``.
"""
import weakref

import numpy as np

from ...backend import array_module
from ...distributed.process_group import ReduceOp
from ...tensor import Tensor

FIRST_BUCKET_BYTES = 2 ** 20


class _Bucket:
    def __init__(self, params):
        self.params = params
        self.offsets = np.cumsum([0] + [p.data.size for p in params]).tolist()
        first = params[0].data
        self.flat = array_module(first).zeros(self.offsets[-1], first.dtype)
        self.pending, self.work = len(params), None

    def view(self, k):
        return self.flat[self.offsets[k]:self.offsets[k + 1]]


class Reducer:
    """The per-iteration protocol: ``prepare(outputs)`` after each forward that will be
    followed by a synchronised backward; the hooks do the rest."""

    def __init__(self, named_params, group, bucket_cap_bytes, find_unused_parameters):
        self.group, self.find_unused = group, find_unused_parameters
        self.names = {id(p): name for name, p in named_params}
        self.buckets, self.slot = [], {}  # slot: id(param) -> (bucket, position in bucket)
        current, size = [], 0
        for _, p in reversed(named_params):
            cap = min(FIRST_BUCKET_BYTES, bucket_cap_bytes) if not self.buckets else bucket_cap_bytes
            fits = current and p.data.dtype == current[0].data.dtype and \
                type(p.data) is type(current[0].data) and size + p.data.nbytes <= cap
            if current and not fits:
                self._add_bucket(current)
                current, size = [], 0
            current.append(p)
            size += p.data.nbytes
        if current:
            self._add_bucket(current)
        # The hooks hold the reducer weakly: a discarded DDP wrapper must not keep its gradient
        # buckets alive through the parameters it wrapped (nor react to their gradients).
        ready = weakref.WeakMethod(self._grad_ready)

        def hook(param):
            method = ready()
            if method is not None:
                method(param)
        handles = [p.register_post_accumulate_grad_hook(hook) for _, p in named_params]
        weakref.finalize(self, _remove_all, handles)
        self.expecting = False  # a synchronised backward is due
        self.ready, self.locally_used, self.next_bucket, self.unused = set(), set(), 0, []

    def _add_bucket(self, params):
        bucket = _Bucket(params)
        for k, p in enumerate(params):
            self.slot[id(p)] = (bucket, k)
        self.buckets.append(bucket)

    # ------------------------------------------------------------------- protocol
    def prepare(self, outputs):
        if self.expecting and self.ready:
            missing = [name for key, name in self.names.items() if key not in self.ready]
            raise RuntimeError(
                "DistributedDataParallel: the previous iteration's gradient reduction did not "
                f"finish: parameters {missing} received no gradient in backward. Pass "
                "find_unused_parameters=True if some parameters are not used in every "
                "iteration (or make sure every output takes part in the loss).")
        self.expecting, self.ready, self.locally_used, self.next_bucket = True, set(), set(), 0
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.params), None
        self.unused = []
        if self.find_unused:
            used = _params_reached(outputs, self.slot)
            self.unused = [key for key in self.slot if key not in used]

    def _grad_ready(self, param):
        if not self.expecting:
            return  # under no_sync(), or a backward outside DDP: gradients stay local
        key = id(param)
        if key in self.ready:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[key]} received its gradient "
                f"twice in one iteration (two backward passes through one forward need no_sync "
                f"for all but the last)")
        if self.unused:
            # Unused parameters count as ready (with zeros) from the first hook on, not at
            # forward: every rank must start its buckets in the same order relative to other
            # collectives, and forward may hold some (SyncBatchNorm).
            unused, self.unused = self.unused, []
            for other in unused:
                other_bucket, j = self.slot[other]
                other_bucket.view(j)[...] = 0
                self._mark_ready(other, other_bucket)
        bucket, k = self.slot[key]
        bucket.view(k)[...] = param.grad.data.reshape(-1)
        self.locally_used.add(key)
        self._mark_ready(key, bucket)

    def _mark_ready(self, key, bucket):
        self.ready.add(key)
        bucket.pending -= 1
        # Launch in bucket order on every rank, whatever order the hooks fired in here.
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            b.work = self.group.all_reduce(b.flat, ReduceOp.AVG)
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets) and len(self.ready) == len(self.slot):
            self._finish()

    def _finish(self):
        used_anywhere = None
        if self.find_unused:
            # Parameters no rank used keep .grad as it was (None), as in torch.
            order = list(self.slot)
            used = self.group.xp.asarray([key in self.locally_used for key in order], np.int32)
            self.group.all_reduce(used, ReduceOp.MAX).wait()
            used = used if isinstance(used, np.ndarray) else used.get()  # NCCL: from the GPU
            used_anywhere = {key for key, u in zip(order, used) if u}
        for bucket in self.buckets:
            bucket.work.wait()
            for k, p in enumerate(bucket.params):
                if used_anywhere is not None and id(p) not in used_anywhere:
                    continue
                averaged = bucket.view(k).reshape(p.data.shape)
                if p.grad is None:
                    p.grad = Tensor._wrap(averaged.copy())
                else:
                    p.grad.data[...] = averaged
        self.expecting = False


def _remove_all(handles):
    for handle in handles:
        handle.remove()


def _params_reached(outputs, slot):
    """ids of the parameters (keys of ``slot``) that backward from ``outputs`` can reach."""
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    reached = {id(t) for t in _tensors_in(outputs) if id(t) in slot}
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen or node.inputs is None:
            continue
        seen.add(node)
        for t in node.inputs:
            if t.grad_fn is not None:
                stack.append(t.grad_fn)
            elif id(t) in slot:
                reached.add(id(t))
    return reached


def _tensors_in(obj):
    """Every Tensor in a nest of tuples, lists and dicts (a module's output)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors_in(item)]
    return []
