"""The NCCL backend (CUDA, cupy arrays) through ``cupy.cuda.nccl``.

Every operation is queued on one communication stream per process, after an event that makes it
wait for the work already queued on the caller's current stream (so it sees finished data).
``Work.wait()`` polls the completion event until the group's timeout (then aborts the
communicator, so a dead peer cannot hang the job) and makes the current stream wait for it.

Rendezvous (sharing NCCL's unique id): through MPI when the job was started by mpirun, otherwise
through a file named by ``init_method='file:///path'`` with RANK and WORLD_SIZE in the
environment. The device is LOCAL_RANK (or the MPI rank on this host) modulo the device count.
"""
import os
import pickle
import time

import numpy as np

from .process_group import ProcessGroup, ReduceOp, Work


def is_available():
    try:
        import cupy
        from cupy.cuda import nccl
        return bool(nccl.available) and cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001  (no cupy, no driver, no device: all mean "not available")
        return False


# NCCL has no int16 or bool: int16 is reduced as int32; bool as uint8 with max ("or") for
# sum/max and min ("and") for product/min.
_NCCL_TYPES = {"int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32",
               "int64": "NCCL_INT64", "float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32",
               "float64": "NCCL_FLOAT64"}
_BOOL_OPS = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.MAX: ReduceOp.MAX,
             ReduceOp.PRODUCT: ReduceOp.MIN, ReduceOp.MIN: ReduceOp.MIN}


class _EventWork(Work):
    """Done when a CUDA event recorded after the operation on the comm stream has fired."""

    def __init__(self, event, group, what):
        super().__init__(what, group.rank, group.size, group.timeout)
        self._cuda_event, self._group = event, group

    def _poll(self):
        if not self._event.is_set() and self._cuda_event.done:
            self._finish()
        return self._event.is_set()

    def _block(self, limit):
        deadline, pause = time.monotonic() + limit, 1e-5
        while not self._poll():
            if time.monotonic() > deadline:
                self._group.abort()
                return False
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)
        self._group.cupy.cuda.get_current_stream().wait_event(self._cuda_event)
        return True


class NcclGroup(ProcessGroup):
    name = "nccl"

    def __init__(self, timeout, init_method=None, rank=-1, world_size=-1):
        import cupy
        from cupy.cuda import nccl
        self.cupy, self.xp, self._nccl, self.timeout = cupy, cupy, nccl, timeout
        mpi_comm = _mpi_comm_if_launched()
        if mpi_comm is not None:
            self.rank, self.size = mpi_comm.Get_rank(), mpi_comm.Get_size()
            local_rank = int(os.environ.get(
                "LOCAL_RANK", mpi_comm.Split_type(_mpi().COMM_TYPE_SHARED).Get_rank()))
        else:
            self.rank = rank if rank >= 0 else int(os.environ.get("RANK", "0"))
            self.size = world_size if world_size > 0 else int(os.environ.get("WORLD_SIZE", "1"))
            local_rank = int(os.environ.get("LOCAL_RANK", self.rank))
        self.device = cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount())
        self.device.use()
        if mpi_comm is not None:
            unique_id = mpi_comm.bcast(nccl.get_unique_id() if self.rank == 0 else None, root=0)
        else:
            unique_id = _file_rendezvous(init_method, self.rank, self.size, nccl, timeout)
        self.comm = nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self._avg = getattr(nccl, "NCCL_AVG", None)

    # ------------------------------------------------------------------ helpers
    def _launch(self, what, call):
        """Run ``call(stream_ptr)`` on the comm stream after the caller's queued work."""
        ready = self.cupy.cuda.Event(disable_timing=True)
        ready.record(self.cupy.cuda.get_current_stream())
        self.stream.wait_event(ready)
        with self.device:
            call(self.stream.ptr)
        done = self.cupy.cuda.Event(disable_timing=True)
        done.record(self.stream)
        return _EventWork(done, self, what)

    def _dtype(self, dtype):
        name = _NCCL_TYPES.get(np.dtype(dtype).name)
        if name is None:
            raise TypeError(f"distributed (nccl): dtype {dtype} is not supported by NCCL")
        return getattr(self._nccl, name)

    def _reduction(self, x, op):
        """(buffer, NCCL dtype, NCCL op, finish(buffer, out)) with bool/int16 widened and AVG
        done as a sum and a division where this NCCL lacks ncclAvg."""
        nccl = self._nccl
        if x.dtype == np.bool_:
            x, op = x.view(np.uint8), _BOOL_OPS[op]
        buf = x.astype(np.int32) if x.dtype == np.int16 else x
        codes = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
                 ReduceOp.MAX: nccl.NCCL_MAX, ReduceOp.MIN: nccl.NCCL_MIN,
                 ReduceOp.AVG: self._avg if self._avg is not None else nccl.NCCL_SUM}
        divide = op is ReduceOp.AVG and self._avg is None

        def finish(result, out):
            with self.stream:
                if divide:
                    result /= self.size
                if result is not out:
                    out[...] = result
        return buf, self._dtype(buf.dtype), codes[op], finish

    # --------------------------------------------------------------- collectives
    def all_reduce(self, x, op):
        buf, dtype, code, finish = self._reduction(x, op)

        def call(stream):
            self.comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, dtype, code, stream)
            finish(buf, x)
        return self._launch(f"all_reduce({op.value}) of {x.dtype} {x.shape}", call)

    def reduce(self, x, dst, op):
        buf, dtype, code, finish = self._reduction(x, op)

        def call(stream):
            self.comm.reduce(buf.data.ptr, buf.data.ptr, buf.size, dtype, code, dst, stream)
            if self.rank == dst:
                finish(buf, x)
        return self._launch(f"reduce({op.value}) to rank {dst} of {x.dtype} {x.shape}", call)

    def broadcast(self, x, src):
        raw = x.reshape(-1).view(np.uint8)
        return self._launch(f"broadcast from rank {src} of {x.dtype} {x.shape}",
                            lambda s: self.comm.broadcast(raw.data.ptr, raw.data.ptr, raw.size,
                                                          self._nccl.NCCL_UINT8, src, s))

    def all_gather(self, out, x):
        raw, raw_out = x.reshape(-1).view(np.uint8), out.reshape(-1).view(np.uint8)
        return self._launch(f"all_gather of {x.dtype} {x.shape}",
                            lambda s: self.comm.allGather(raw.data.ptr, raw_out.data.ptr,
                                                          raw.size, self._nccl.NCCL_UINT8, s))

    def reduce_scatter(self, out, x, op):
        buf, dtype, code, finish = self._reduction(x, op)
        out_buf = out.view(np.uint8) if out.dtype == np.bool_ else out
        out_buf = out_buf.astype(buf.dtype) if out_buf.dtype != buf.dtype else out_buf

        def call(stream):
            self.comm.reduceScatter(buf.data.ptr, out_buf.data.ptr, out_buf.size, dtype, code,
                                    stream)
            finish(out_buf, out.view(out_buf.dtype) if out.dtype == np.bool_ else out)
        return self._launch(f"reduce_scatter({op.value}) of {x.dtype} {x.shape}", call)

    def _grouped_p2p(self, what, exchanges):
        """gather/scatter as grouped sends and receives: ``exchanges`` yields
        (peer, raw byte array, is_send) for this rank."""
        def call(stream):
            self._nccl.groupStart()
            try:
                for peer, raw, is_send in exchanges:
                    op = self.comm.send if is_send else self.comm.recv
                    op(raw.data.ptr, raw.size, self._nccl.NCCL_UINT8, peer, stream)
            finally:
                self._nccl.groupEnd()
        return self._launch(what, call)

    def gather(self, out, x, dst):
        raw = x.reshape(-1).view(np.uint8)
        if self.rank != dst:
            return self._grouped_p2p(f"gather to rank {dst}", [(dst, raw, True)])
        rows = out.reshape(self.size, -1).view(np.uint8)
        rows[dst] = raw
        exchanges = [(r, rows[r], False) for r in range(self.size) if r != dst]
        return self._grouped_p2p(f"gather to rank {dst} of {x.dtype} {x.shape}", exchanges)

    def scatter(self, out, x, src):
        raw = out.reshape(-1).view(np.uint8)
        if self.rank != src:
            return self._grouped_p2p(f"scatter from rank {src}", [(src, raw, False)])
        rows = x.reshape(self.size, -1).view(np.uint8)
        raw[...] = rows[src]
        exchanges = [(r, rows[r], True) for r in range(self.size) if r != src]
        return self._grouped_p2p(f"scatter from rank {src} of {out.dtype} {out.shape}",
                                 exchanges)

    def send(self, x, dst, tag):
        raw = x.reshape(-1).view(np.uint8)
        return self._grouped_p2p(f"send to rank {dst} of {x.dtype} {x.shape}",
                                 [(dst, raw, True)])

    def recv(self, x, src, tag):
        if src is None:
            raise ValueError("distributed (nccl): recv needs src (NCCL has no any-source "
                             "receive)")
        raw = x.reshape(-1).view(np.uint8)
        return self._grouped_p2p(f"recv from rank {src} of {x.dtype} {x.shape}",
                                 [(src, raw, False)])

    def barrier(self):
        token = self.cupy.zeros(1, np.float32)
        return self.all_reduce(token, ReduceOp.SUM)

    def abort(self):
        self.comm.abort()

    def close(self):
        self.stream.synchronize()
        self.comm.destroy()


def _mpi():
    from mpi4py import MPI
    return MPI


def _mpi_comm_if_launched():
    """COMM_WORLD when mpirun/mpiexec started this process (and mpi4py is there), else None."""
    launched = any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"))
    if not launched:
        return None
    try:
        return _mpi().COMM_WORLD
    except ImportError:
        return None


def _file_rendezvous(init_method, rank, size, nccl, timeout):
    """Rank 0 writes NCCL's unique id to the file of ``init_method='file:///path'``; the
    others wait for it (renamed into place, so a reader never sees half of it)."""
    if size == 1:
        return nccl.get_unique_id()
    if not init_method or not init_method.startswith("file://"):
        raise ValueError("distributed (nccl): without mpirun, init_process_group needs "
                         "init_method='file:///shared/path' (and RANK, WORLD_SIZE set) to "
                         f"exchange NCCL's id; got init_method={init_method!r}")
    path = init_method[len("file://"):]
    if rank == 0:
        unique_id = nccl.get_unique_id()
        with open(path + ".tmp", "wb") as f:
            pickle.dump(unique_id, f)
        os.replace(path + ".tmp", path)
        return unique_id
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"distributed (nccl): rank {rank} waited {timeout:g} s for rank "
                               f"0 to write the rendezvous file {path}")
        time.sleep(0.05)
    with open(path, "rb") as f:
        return pickle.load(f)
