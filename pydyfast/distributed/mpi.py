"""The MPI backend (CPU, numpy arrays) through mpi4py: MPICH or Open MPI do the transport.

Collectives run, in the order they were issued, on one communication thread per process (the
role a CUDA stream plays for NCCL): an ``async_op`` call returns at once and the thread carries
the transfer on while the caller computes, which is what lets DDP overlap gradient all-reduces
with the rest of backward (mpi4py releases the GIL inside MPI calls). Point-to-point calls are
posted non-blocking from the caller's thread, so a send and a receive in opposite directions
cannot deadlock each other.
"""
import queue
import sys
import threading
import time

import numpy as np

from .process_group import ProcessGroup, ReduceOp, Work


def is_available():
    try:
        import mpi4py  # noqa: F401  (the package alone: importing mpi4py.MPI starts MPI)
    except ImportError:
        return False
    return True


def _bytes(x):
    """Data movement needs no datatype: any dtype (float16, bool) travels as bytes."""
    return x.reshape(-1).view(np.uint8)


class _CommThread(threading.Thread):
    """Runs submitted MPI calls one after another (FIFO keeps every rank's order)."""

    def __init__(self):
        super().__init__(name="pydyfast-mpi", daemon=True)
        self.jobs = queue.SimpleQueue()

    def run(self):
        while True:
            job = self.jobs.get()
            if job is None:
                return
            fn, work = job
            try:
                result = fn()
            except BaseException as exc:  # noqa: BLE001  (handed to the waiter, which raises it)
                work._finish(error=exc)
            else:
                work._finish(result)


class _RequestWork(Work):
    """A point-to-point transfer: done when its MPI request tests complete."""

    def __init__(self, request, status, what, rank, size, timeout):
        super().__init__(what, rank, size, timeout)
        self._request, self._status = request, status

    def _poll(self):
        if not self._event.is_set() and self._request.Test(self._status):
            self._finish(self._status.Get_source())
        return self._event.is_set()

    def _block(self, limit):
        deadline, pause = time.monotonic() + limit, 1e-5
        while not self._poll():
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)
        return True


class MpiGroup(ProcessGroup):
    """All processes of ``MPI.COMM_WORLD`` (on a duplicate, so user MPI calls do not mix in)."""

    name = "mpi"

    def __init__(self, timeout):
        from mpi4py import MPI
        if MPI.Query_thread() < MPI.THREAD_MULTIPLE:
            # the communication thread and the caller (point-to-point posts) both call MPI
            raise RuntimeError("distributed: MPI was initialised without full thread support; "
                               "the mpi backend needs MPI_THREAD_MULTIPLE (mpi4py's default, "
                               "mpi4py.rc.thread_level = 'multiple')")
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank, self.size, self.timeout = self.comm.Get_rank(), self.comm.Get_size(), timeout
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                     ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN}
        # MPI reduces booleans only with logical operators: sum/max are "or", product/min "and"
        self._bool_ops = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR,
                          ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND}
        self._thread = _CommThread()
        self._thread.start()
        self._previous_excepthook = None
        if self.size > 1:
            self._previous_excepthook = sys.excepthook
            sys.excepthook = self._abort_on_uncaught_exception

    # ------------------------------------------------------------------ helpers
    def _submit(self, fn, what, timeout=None):
        work = Work(what, self.rank, self.size, self.timeout if timeout is None else timeout)
        self._thread.jobs.put((fn, work))
        return work

    def _reduction(self, x, op):
        """(buffer to reduce, MPI op, finish(buffer)): float16, which MPI cannot add, is
        reduced in float32; AVG is a sum divided by the number of ranks."""
        mpi_op = self._bool_ops[op] if x.dtype == np.bool_ else self._ops[op]
        wide = x.dtype == np.float16

        def finish(buf, out):
            if op is ReduceOp.AVG:
                buf /= self.size
            if buf is not out:
                out[...] = buf
        return (x.astype(np.float32) if wide else x), mpi_op, finish

    # --------------------------------------------------------------- collectives
    def all_reduce(self, x, op):
        buf, mpi_op, finish = self._reduction(x, op)

        def run():
            self.comm.Allreduce(self._MPI.IN_PLACE, buf, op=mpi_op)
            finish(buf, x)
        return self._submit(run, f"all_reduce({op.value}) of {x.dtype} {x.shape}")

    def reduce(self, x, dst, op):
        buf, mpi_op, finish = self._reduction(x, op)

        def run():
            if self.rank == dst:
                self.comm.Reduce(self._MPI.IN_PLACE, buf, op=mpi_op, root=dst)
                finish(buf, x)
            else:
                self.comm.Reduce(buf, None, op=mpi_op, root=dst)
        return self._submit(run, f"reduce({op.value}) to rank {dst} of {x.dtype} {x.shape}")

    def broadcast(self, x, src):
        return self._submit(lambda: self.comm.Bcast(_bytes(x), root=src),
                            f"broadcast from rank {src} of {x.dtype} {x.shape}")

    def all_gather(self, out, x):
        return self._submit(lambda: self.comm.Allgather(_bytes(x), _bytes(out)),
                            f"all_gather of {x.dtype} {x.shape}")

    def reduce_scatter(self, out, x, op):
        buf, mpi_op, finish = self._reduction(x, op)
        out_buf = out.astype(buf.dtype) if buf.dtype != out.dtype else out

        def run():
            self.comm.Reduce_scatter_block(buf, out_buf, op=mpi_op)
            finish(out_buf, out)
        return self._submit(run, f"reduce_scatter({op.value}) of {x.dtype} {x.shape}")

    def gather(self, out, x, dst):
        return self._submit(
            lambda: self.comm.Gather(_bytes(x), _bytes(out) if out is not None else None,
                                     root=dst),
            f"gather to rank {dst} of {x.dtype} {x.shape}")

    def scatter(self, out, x, src):
        return self._submit(
            lambda: self.comm.Scatter(_bytes(x) if x is not None else None, _bytes(out),
                                      root=src),
            f"scatter from rank {src} of {out.dtype} {out.shape}")

    def barrier(self):
        return self._submit(self.comm.Barrier, "barrier")

    # ------------------------------------------------------------ point to point
    def send(self, x, dst, tag):
        request = self.comm.Isend(_bytes(x), dest=dst, tag=tag)
        return _RequestWork(request, self._MPI.Status(), f"send to rank {dst} of {x.dtype} "
                            f"{x.shape}", self.rank, self.size, self.timeout)

    def recv(self, x, src, tag):
        source = self._MPI.ANY_SOURCE if src is None else src
        request = self.comm.Irecv(_bytes(x), source=source, tag=tag)
        what = f"recv from rank {'any' if src is None else src} of {x.dtype} {x.shape}"
        return _RequestWork(request, self._MPI.Status(), what, self.rank, self.size,
                            self.timeout)

    def close(self):
        done = self._submit(self.comm.Free, "destroy_process_group")
        self._thread.jobs.put(None)
        done.wait()
        self._thread.join()
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook

    def _abort_on_uncaught_exception(self, kind, value, traceback):
        """An uncaught exception on one rank aborts the whole job (as ``python -m mpi4py``
        does), so the other ranks stop instead of waiting forever in their next collective."""
        self._previous_excepthook(kind, value, traceback)
        sys.stderr.write(f"pydyfast.distributed: rank {self.rank} of {self.size} raised "
                         f"{kind.__name__}; aborting all ranks\n")
        sys.stderr.flush()
        self._MPI.COMM_WORLD.Abort(1)
