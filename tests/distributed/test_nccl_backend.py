"""The NCCL backend's logic without a GPU: ranks are threads, cupy and NCCL are stand-ins
(``fake_nccl.py``) working on the addresses, counts, dtypes and reduction codes the backend
passes. What a GPU adds (streams, events, the transport) runs when a GPU is lent."""
import sys
import threading

import numpy as np
import pytest

from distributed.fake_nccl import fake_cupy
from pydyfast.distributed.process_group import ReduceOp

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.bool_]
OPS = [ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT, ReduceOp.MAX, ReduceOp.MIN]


def data(rank, dtype, shape):
    rng = np.random.default_rng(17 * rank + int(np.prod(shape)))
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(1, 3, shape).astype(dtype)


def expected(arrays, op):
    stack = np.stack(arrays)
    if stack.dtype == np.bool_:
        return stack.any(0) if op in (ReduceOp.SUM, ReduceOp.MAX) else stack.all(0)
    return {ReduceOp.SUM: lambda: stack.sum(0, dtype=stack.dtype),
            ReduceOp.AVG: lambda: (stack.sum(0, dtype=stack.dtype) / len(arrays)),
            ReduceOp.PRODUCT: lambda: stack.prod(0, dtype=stack.dtype),
            ReduceOp.MAX: lambda: stack.max(0), ReduceOp.MIN: lambda: stack.min(0)}[op]() \
        .astype(stack.dtype)


def run_ranks(size, tmp_path, monkeypatch, body, with_avg=True):
    """Run ``body(group, cupy)`` on ``size`` thread-ranks, each with its own NcclGroup."""
    cupy, cuda, nccl = fake_cupy(with_avg)
    for name, module in (("cupy", cupy), ("cupy.cuda", cuda), ("cupy.cuda.nccl", nccl)):
        monkeypatch.setitem(sys.modules, name, module)
    for var in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    from pydyfast.distributed.nccl import NcclGroup
    errors = [None] * size

    def rank_main(rank):
        try:
            group = NcclGroup(10.0, f"file://{tmp_path}/nccl_id", rank, size)
            assert (group.rank, group.size) == (rank, size)
            body(group, cupy)
            group.close()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors[rank] = exc
    threads = [threading.Thread(target=rank_main, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r, exc in enumerate(errors):
        if exc is not None:
            raise AssertionError(f"rank {r}: {exc!r}") from exc


def close(actual, want):
    actual = np.asarray(actual)
    assert actual.dtype == want.dtype and actual.shape == want.shape
    tol = 1e-2 if want.dtype == np.float16 else 1e-6
    np.testing.assert_allclose(actual.astype(np.float64), want.astype(np.float64), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("with_avg", [True, False], ids=["ncclAvg", "sum-then-divide"])
@pytest.mark.parametrize("size", [2, 3])
def test_all_reduce_every_dtype_and_op(size, with_avg, tmp_path, monkeypatch):
    def body(group, cupy):
        for dtype in DTYPES:
            for op in OPS:
                if op is ReduceOp.AVG and np.dtype(dtype).kind != "f":
                    continue
                for shape in [(), (0,), (7,), (2, 3)]:
                    x = cupy.asarray(data(group.rank, dtype, shape))
                    assert group.all_reduce(x, op).wait()
                    close(x, expected([data(r, dtype, shape) for r in range(size)], op))
    run_ranks(size, tmp_path, monkeypatch, body, with_avg)


def test_data_movement_collectives(tmp_path, monkeypatch):
    size = 3

    def body(group, cupy):
        r = group.rank
        for dtype in (np.float16, np.float64, np.int16, np.bool_):
            for shape in [(0,), (5,), (2, 3)]:
                x = cupy.asarray(data(r, dtype, shape))
                group.broadcast(x, 2).wait()
                close(x, data(2, dtype, shape))
                out = cupy.empty((size,) + shape, dtype)
                group.all_gather(out, cupy.asarray(data(r, dtype, shape))).wait()
                close(out, np.stack([data(k, dtype, shape) for k in range(size)]))
                big = [data(10 + k, dtype, (size,) + shape) for k in range(size)]
                got = cupy.empty(shape, dtype)
                group.reduce_scatter(got, cupy.asarray(big[r]), ReduceOp.MAX).wait()
                close(got, expected(big, ReduceOp.MAX)[r])
                red = cupy.asarray(data(r, dtype, shape))
                group.reduce(red, 1, ReduceOp.SUM).wait()
                if r == 1:
                    close(red, expected([data(k, dtype, shape) for k in range(size)],
                                        ReduceOp.SUM))
                rows = cupy.empty((size,) + shape, dtype) if r == 0 else None
                group.gather(rows, cupy.asarray(data(r, dtype, shape)), 0).wait()
                if r == 0:
                    close(rows, np.stack([data(k, dtype, shape) for k in range(size)]))
                mine = cupy.empty(shape, dtype)
                pieces = cupy.asarray(np.stack([data(20 + k, dtype, shape)
                                                for k in range(size)])) if r == 1 else None
                group.scatter(mine, pieces, 1).wait()
                close(mine, data(20 + r, dtype, shape))
        ring = cupy.asarray(np.full(4, r, np.int64))
        got = cupy.empty(4, np.int64)
        group.send(ring, (r + 1) % size, 0).wait()
        group.recv(got, (r - 1) % size, 0).wait()
        close(got, np.full(4, (r - 1) % size, np.int64))
        assert group.all_gather_object({"rank": r}) == [{"rank": k} for k in range(size)]
        group.barrier().wait()
    run_ranks(size, tmp_path, monkeypatch, body)


def test_recv_needs_a_source_and_unsupported_dtypes_are_named(tmp_path, monkeypatch):
    def body(group, cupy):
        with pytest.raises(ValueError, match="recv needs src"):
            group.recv(cupy.empty(2, np.float32), None, 0)
        with pytest.raises(TypeError, match="dtype complex64 is not supported by NCCL"):
            group.all_reduce(cupy.zeros(2, np.complex64), ReduceOp.SUM)
    run_ranks(1, tmp_path, monkeypatch, body)


def test_rendezvous_without_mpi_needs_a_file_init_method(monkeypatch):
    cupy, cuda, nccl = fake_cupy()
    for name, module in (("cupy", cupy), ("cupy.cuda", cuda), ("cupy.cuda.nccl", nccl)):
        monkeypatch.setitem(sys.modules, name, module)
    from pydyfast.distributed.nccl import NcclGroup
    with pytest.raises(ValueError, match="init_method='file:///shared/path'"):
        NcclGroup(1.0, None, 0, 2)
