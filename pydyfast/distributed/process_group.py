"""The small interface every backend implements, and the pieces they share.

A backend is a ``ProcessGroup``: collectives on contiguous arrays of its own device (numpy for
MPI, cupy for NCCL), done in place, each returning a ``Work`` handle. ``collectives.py`` turns
Tensors into such arrays and back; backends never see a Tensor.
"""
import enum
import pickle
import threading
from datetime import timedelta

import numpy as np


class ReduceOp(enum.Enum):
    """Reductions of ``all_reduce``, ``reduce`` and ``reduce_scatter`` (``torch.distributed``)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


class DistributedTimeoutError(RuntimeError):
    """A collective did not complete in time: another rank failed, exited or skipped it."""


def timeout_seconds(timeout):
    """``timedelta`` or seconds -> seconds (float)."""
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout)


class Work:
    """Handle on an operation that may still be running (``async_op=True``).

    ``wait()`` blocks until it has finished on this rank (raising its error, or a
    ``DistributedTimeoutError`` after ``timeout`` seconds, by default the group's), then runs the
    completion steps (copy back into a Tensor, divide for AVG) in the caller's thread.
    """

    def __init__(self, what, rank, size, timeout, done_steps=()):
        self.what = what  # e.g. "all_reduce of float32 (1000,)": named in errors
        self._rank, self._size, self._timeout = rank, size, timeout
        self._event = threading.Event()
        self._error = None
        self._result = None
        self._steps = list(done_steps)
        self._waited = False

    # Backend side ------------------------------------------------------------------
    def _finish(self, result=None, error=None):
        self._result, self._error = result, error
        self._event.set()

    def _poll(self):
        """Backends whose completion must be polled (CUDA events) override this."""
        return self._event.is_set()

    # Caller side -------------------------------------------------------------------
    def then(self, step):
        """Run ``step(result)`` when ``wait()`` completes (in the waiting thread)."""
        self._steps.append(step)
        return self

    def is_completed(self):
        return self._poll()

    def wait(self, timeout=None):
        if self._waited:
            return True
        limit = self._timeout if timeout is None else timeout_seconds(timeout)
        if not self._block(limit):
            raise DistributedTimeoutError(
                f"distributed: {self.what} did not complete within {limit:g} s on rank "
                f"{self._rank} of {self._size}; another rank probably failed, exited or did not "
                f"make the same call (set the limit with init_process_group(timeout=...))")
        if self._error is not None:
            raise RuntimeError(f"distributed: {self.what} failed on rank {self._rank} of "
                               f"{self._size}: {self._error}") from self._error
        self._waited = True
        for step in self._steps:
            step(self._result)
        return True

    def _block(self, limit):
        return self._event.wait(limit)

    def result(self):
        """What the operation returned (the source rank of a ``recv``), after ``wait()``."""
        self.wait()
        return self._result


class ProcessGroup:
    """What a backend provides. Arrays are contiguous and on the backend's device; every call
    is made by all ranks in the same order (point-to-point calls by the two ranks concerned).

    ``all_gather(out, x)``: out has shape (size, *x.shape). ``reduce_scatter(out, x, op)``: x has
    shape (size, *out.shape). ``gather(out, x, dst)`` / ``scatter(out, x, src)``: the (size, ...)
    array exists on the root only (None elsewhere). ``recv(x, src)`` with src None takes any
    sender; its Work's ``result()`` is the sender's rank.
    """

    name = "?"
    rank = 0
    size = 1
    timeout = 1800.0
    xp = np  # the array module of the backend's device

    def all_reduce(self, x, op):
        raise NotImplementedError

    def reduce(self, x, dst, op):
        raise NotImplementedError

    def broadcast(self, x, src):
        raise NotImplementedError

    def all_gather(self, out, x):
        raise NotImplementedError

    def reduce_scatter(self, out, x, op):
        raise NotImplementedError

    def gather(self, out, x, dst):
        raise NotImplementedError

    def scatter(self, out, x, src):
        raise NotImplementedError

    def send(self, x, dst, tag):
        raise NotImplementedError

    def recv(self, x, src, tag):
        raise NotImplementedError

    def barrier(self):
        raise NotImplementedError

    def all_gather_object(self, obj):
        """A list of every rank's picklable ``obj`` (metadata exchange, not for bulk data)."""
        payload = np.frombuffer(pickle.dumps(obj), np.uint8)
        lengths = self.xp.zeros((self.size, 1), np.int64)
        self.all_gather(lengths, self.xp.asarray([payload.size], np.int64)).wait()
        lengths = [int(n) for n in _to_numpy(lengths)[:, 0]]
        padded = self.xp.zeros(max(lengths), np.uint8)
        padded[:payload.size] = self.xp.asarray(payload)
        out = self.xp.empty((self.size, padded.size), np.uint8)
        self.all_gather(out, padded).wait()
        out = _to_numpy(out)
        return [pickle.loads(out[r, :n].tobytes()) for r, n in enumerate(lengths)]

    def close(self):
        pass


def _to_numpy(a):
    return a if isinstance(a, np.ndarray) else a.get()
