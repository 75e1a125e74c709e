"""A stand-in for cupy and cupy.cuda.nccl, so the NCCL backend's logic runs without a GPU.

Arrays are numpy arrays whose ``.data.ptr`` is their address; a "rank" is a thread; the fake
communicator does NCCL's operations on raw addresses (so the backend's pointers, counts, NCCL
dtypes and reduction codes are what is checked), meeting the other ranks at a barrier. Events
are always done and streams do nothing: the CUDA ordering itself is not simulated.
"""
import ctypes
import threading
import types

import numpy as np

DTYPES = {0: np.int8, 1: np.uint8, 2: np.int32, 3: np.uint32, 4: np.int64, 5: np.uint64,
          6: np.float16, 7: np.float32, 8: np.float64}
SUM, PROD, MAX, MIN, AVG = range(5)


class FakeArray(np.ndarray):
    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.ctypes.data)


def _wrap(fn):
    return lambda *a, **k: np.asarray(fn(*a, **k)).view(FakeArray)


def _at(ptr, count, dtype):
    """The ``count`` elements of ``dtype`` at address ``ptr``, as a writable numpy view."""
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes == 0:
        return np.empty(0, dtype)
    return np.frombuffer((ctypes.c_char * nbytes).from_address(ptr), dtype)


class _World:
    def __init__(self, size):
        self.size, self.barrier = size, threading.Barrier(size, timeout=20)
        self.slots, self.mail = [None] * size, {}
        self.lock = threading.Lock()

    def exchange(self, rank, value):
        """Every rank's ``value``, in rank order (a collective meeting point)."""
        self.slots[rank] = value
        self.barrier.wait()
        values = list(self.slots)
        self.barrier.wait()
        return values


class _Nccl(types.ModuleType):
    def __init__(self, with_avg):
        super().__init__("cupy.cuda.nccl")
        self.available = True
        for code, dtype in DTYPES.items():
            setattr(self, f"NCCL_{np.dtype(dtype).name.upper()}", code)
        self.NCCL_SUM, self.NCCL_PROD, self.NCCL_MAX, self.NCCL_MIN = SUM, PROD, MAX, MIN
        if with_avg:
            self.NCCL_AVG = AVG
        self.worlds, self.ids, self.local = {}, 0, threading.local()
        self.lock = threading.Lock()
        self.NcclCommunicator = lambda size, uid, rank: _Communicator(self, size, uid, rank)

    def get_unique_id(self):
        with self.lock:
            self.ids += 1
            return (self.ids,) + (0,) * 127

    def groupStart(self):  # noqa: N802  (NCCL's names)
        self.local.deferred = []

    def groupEnd(self):  # noqa: N802
        deferred, self.local.deferred = self.local.deferred, None
        for fn in deferred:
            fn()


class _Communicator:
    def __init__(self, nccl, size, uid, rank):
        with nccl.lock:
            self.world = nccl.worlds.setdefault(uid, _World(size))
        self.nccl, self.rank = nccl, rank

    def _reduce(self, arrays, op, dtype):
        stack = np.stack(arrays)
        if op == SUM:
            return stack.sum(0, dtype=dtype)
        if op == PROD:
            return stack.prod(0, dtype=dtype)
        if op == AVG:
            return (stack.sum(0, dtype=dtype) / len(arrays)).astype(dtype)
        return stack.max(0) if op == MAX else stack.min(0)

    def allReduce(self, send, recv, count, dtype, op, stream):  # noqa: N802
        t = DTYPES[dtype]
        values = self.world.exchange(self.rank, _at(send, count, t).copy())
        _at(recv, count, t)[...] = self._reduce(values, op, t)

    def reduce(self, send, recv, count, dtype, op, root, stream):
        t = DTYPES[dtype]
        values = self.world.exchange(self.rank, _at(send, count, t).copy())
        if self.rank == root:
            _at(recv, count, t)[...] = self._reduce(values, op, t)

    def broadcast(self, send, recv, count, dtype, root, stream):
        t = DTYPES[dtype]
        values = self.world.exchange(self.rank, _at(send, count, t).copy())
        _at(recv, count, t)[...] = values[root]

    def allGather(self, send, recv, count, dtype, stream):  # noqa: N802
        t = DTYPES[dtype]
        values = self.world.exchange(self.rank, _at(send, count, t).copy())
        _at(recv, count * self.world.size, t)[...] = np.concatenate(values)

    def reduceScatter(self, send, recv, count, dtype, op, stream):  # noqa: N802
        t = DTYPES[dtype]
        values = self.world.exchange(self.rank, _at(send, count * self.world.size, t).copy())
        total = self._reduce(values, op, t)
        _at(recv, count, t)[...] = total[self.rank * count:(self.rank + 1) * count]

    def send(self, ptr, count, dtype, peer, stream):
        data = _at(ptr, count, DTYPES[dtype]).copy()
        with self.world.lock:
            self.world.mail.setdefault((self.rank, peer), []).append(data)

    def recv(self, ptr, count, dtype, peer, stream):
        def take():
            for _ in range(2000):
                with self.world.lock:
                    box = self.world.mail.get((peer, self.rank))
                    if box:
                        _at(ptr, count, DTYPES[dtype])[...] = box.pop(0)
                        return
                threading.Event().wait(0.005)
            raise TimeoutError(f"fake nccl: rank {self.rank} got nothing from {peer}")
        deferred = getattr(self.nccl.local, "deferred", None)
        deferred.append(take) if deferred is not None else take()

    def abort(self):
        pass

    def destroy(self):
        pass


class _Stream:
    ptr = 0

    def __init__(self, non_blocking=False):
        pass

    def wait_event(self, event):
        pass

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Event:
    done = True

    def __init__(self, disable_timing=False):
        pass

    def record(self, stream=None):
        pass


class _Device(_Stream):
    def __init__(self, index=0):
        self.index = index

    def use(self):
        pass


def fake_cupy(with_avg=True):
    """(cupy, cupy.cuda, cupy.cuda.nccl) modules to put into sys.modules."""
    cupy = types.ModuleType("cupy")
    for name in ("zeros", "empty", "asarray", "stack", "ones", "concatenate"):
        setattr(cupy, name, _wrap(getattr(np, name)))
    cuda = types.ModuleType("cupy.cuda")
    cuda.Stream, cuda.Event, cuda.Device = _Stream, _Event, _Device
    cuda.get_current_stream = _Stream
    cuda.runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)
    cuda.nccl = _Nccl(with_avg)
    cupy.cuda = cuda
    return cupy, cuda, cuda.nccl
