"""Every collective against numpy on every rank: all dtypes, odd and empty sizes."""
import numpy as np

import pydyfast as pdf
import pydyfast.distributed as dist
from worker_common import case, expect, main

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.bool_]
SHAPES = [(), (0,), (1,), (7,), (3, 5), (1001,)]


def data(rank, dtype, shape, small=False):
    """Rank ``rank``'s input (any rank can build any rank's, to compute the expectation)."""
    rng = np.random.default_rng(1000 * rank + len(shape) + int(np.prod(shape)))
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    low = 0 if np.dtype(dtype).kind == "u" else -3
    return rng.integers(low if not small else 1, 4 if not small else 3, shape).astype(dtype)


def everyone(dtype, shape, small=False):
    return [data(r, dtype, shape, small) for r in range(dist.get_world_size())]


def expected_reduction(arrays, op):
    stack = np.stack(arrays)
    if stack.dtype == np.bool_:
        return stack.any(0) if op in ("sum", "max") else stack.all(0)
    wide = stack.astype(np.float32) if stack.dtype == np.float16 else stack
    result = {"sum": wide.sum(0), "avg": wide.sum(0) / len(arrays), "product": wide.prod(0),
              "max": wide.max(0), "min": wide.min(0)}[op]
    return result.astype(stack.dtype)


def assert_equal(actual, expected, what):
    expect(lambda: _assert_equal(actual, expected, what), what)


def _assert_equal(actual, expected, what):
    actual = actual.numpy() if isinstance(actual, pdf.Tensor) else actual
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, \
        f"{what}: got {actual.dtype} {actual.shape}, expected {expected.dtype} {expected.shape}"
    tol = 1e-2 if expected.dtype == np.float16 else 1e-5 if expected.dtype == np.float32 else 1e-12
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


@case
def all_reduce_every_op_dtype_and_shape():
    rank = dist.get_rank()
    for dtype in DTYPES:
        for op in ("sum", "avg", "product", "max", "min"):
            if op == "avg" and np.dtype(dtype).kind != "f":
                continue
            for shape in SHAPES:
                small = op == "product"
                t = pdf.Tensor(data(rank, dtype, shape, small), dtype=dtype)
                dist.all_reduce(t, op=dist.ReduceOp[op.upper()])
                assert_equal(t, expected_reduction(everyone(dtype, shape, small), op),
                             f"all_reduce {op} {np.dtype(dtype)} {shape}")


@case
def all_reduce_async_on_arrays_and_non_contiguous_tensors():
    rank = dist.get_rank()
    base = data(rank, np.float64, (4, 6))
    t = pdf.Tensor(base)
    view = t.T  # non-contiguous: reduced through a copy, written back
    raw = data(rank, np.float32, (9,))
    works = [dist.all_reduce(view, async_op=True), dist.all_reduce(raw, op="max", async_op=True)]
    for w in works:
        assert w.wait() is True and w.is_completed()
    expected = expected_reduction(everyone(np.float64, (4, 6)), "sum")
    assert_equal(view, expected.T, "non-contiguous view")
    assert_equal(raw, expected_reduction(everyone(np.float32, (9,)), "max"), "numpy array")


@case
def broadcast_from_last_rank():
    rank, last = dist.get_rank(), dist.get_world_size() - 1
    for dtype in DTYPES:
        for shape in SHAPES:
            t = pdf.Tensor(data(rank, dtype, shape), dtype=dtype)
            dist.broadcast(t, src=last)
            assert_equal(t, data(last, dtype, shape), f"broadcast {np.dtype(dtype)} {shape}")


@case
def all_gather_list_and_into_tensor():
    rank, n = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        for shape in SHAPES:
            outs = [pdf.Tensor(np.zeros(shape, dtype)) for _ in range(n)]
            dist.all_gather(outs, pdf.Tensor(data(rank, dtype, shape), dtype=dtype))
            for r in range(n):
                assert_equal(outs[r], data(r, dtype, shape), f"all_gather {dtype} {shape} [{r}]")
            if shape:
                flat = pdf.Tensor(np.zeros((n * shape[0],) + shape[1:], dtype))
                dist.all_gather_into_tensor(flat, pdf.Tensor(data(rank, dtype, shape),
                                                             dtype=dtype))
                assert_equal(flat, np.concatenate(everyone(dtype, shape)), "into_tensor")


@case
def reduce_scatter_tensor_and_list():
    rank, n = dist.get_rank(), dist.get_world_size()
    for dtype in (np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_):
        for shape in [(0,), (1,), (5,), (2, 3)]:
            for op in ("sum", "max"):
                big = [data(r, dtype, (n,) + shape) for r in range(n)]
                out = pdf.Tensor(np.zeros(shape, dtype))
                dist.reduce_scatter_tensor(out, pdf.Tensor(big[rank].reshape((n * shape[0],) +
                                                                             shape[1:])), op=op)
                assert_equal(out, expected_reduction(big, op)[rank], f"rs {dtype} {shape} {op}")
                out2 = pdf.Tensor(np.zeros(shape, dtype))
                dist.reduce_scatter(out2, [pdf.Tensor(b) for b in big[rank]], op=op)
                assert_equal(out2, expected_reduction(big, op)[rank], "reduce_scatter list")


@case
def reduce_gather_scatter_to_and_from_a_root():
    rank, n = dist.get_rank(), dist.get_world_size()
    root = 1 % n
    for dtype in (np.float16, np.float64, np.int8, np.bool_):
        for shape in [(), (0,), (7,)]:
            t = pdf.Tensor(data(rank, dtype, shape))
            dist.reduce(t, dst=root, op="sum")
            want = expected_reduction(everyone(dtype, shape), "sum") if rank == root else \
                data(rank, dtype, shape)
            assert_equal(t, want, f"reduce {dtype} {shape}")
            outs = [pdf.Tensor(np.zeros(shape, dtype)) for _ in range(n)] if rank == root else None
            dist.gather(pdf.Tensor(data(rank, dtype, shape)), outs, dst=root)
            if rank == root:
                for r in range(n):
                    assert_equal(outs[r], data(r, dtype, shape), f"gather {dtype} {shape}")
            pieces = [pdf.Tensor(data(10 + r, dtype, shape)) for r in range(n)]
            got = pdf.Tensor(np.zeros(shape, dtype))
            dist.scatter(got, pieces if rank == root else None, src=root)
            assert_equal(got, data(10 + rank, dtype, shape), f"scatter {dtype} {shape}")


@case
def send_recv_ring_both_directions():
    """Every rank sends to both neighbours before receiving: posted non-blocking, no deadlock
    even for messages too large to be sent eagerly."""
    rank, n = dist.get_rank(), dist.get_world_size()
    right, left = (rank + 1) % n, (rank - 1) % n
    big = np.full(300_000, rank, np.float64)
    sends = [dist.isend(pdf.Tensor(big), right, tag=1), dist.isend(pdf.Tensor(big), left, tag=2)]
    from_left, from_right = pdf.zeros(300_000, dtype=np.float64), pdf.zeros(300_000,
                                                                           dtype=np.float64)
    w1 = dist.irecv(from_left, src=left, tag=1)
    w2 = dist.irecv(from_right, src=right, tag=2)
    for w in sends + [w1, w2]:
        w.wait()
    assert w1.result() == left and w2.result() == right
    assert_equal(from_left, np.full(300_000, left, np.float64), "ring from left")
    assert_equal(from_right, np.full(300_000, right, np.float64), "ring from right")
    if rank == 0:
        got = pdf.zeros(3, dtype=np.int64)
        senders = sorted(dist.recv(got) for _ in range(n - 1))
        assert senders == list(range(1, n)), senders
    else:
        dist.send(pdf.Tensor(np.arange(3)), 0)


@case
def objects_barrier_and_group_queries():
    rank, n = dist.get_rank(), dist.get_world_size()
    got = [None] * n
    dist.all_gather_object(got, {"rank": rank, "name": f"r{rank}"})
    assert got == [{"rank": r, "name": f"r{r}"} for r in range(n)], got
    assert dist.is_initialized() and dist.get_backend() == "mpi" and dist.is_available()
    assert dist.barrier(async_op=True).wait()


@case
def bad_arguments_raise_clear_errors_on_every_rank():
    import pytest
    n = dist.get_world_size()
    with pytest.raises(TypeError, match="AVG needs a floating-point tensor, got int32"):
        dist.all_reduce(pdf.Tensor(np.ones(3, np.int32)), op="avg")
    with pytest.raises(ValueError, match="unknown reduction"):
        dist.all_reduce(pdf.ones(3), op="median")
    with pytest.raises(ValueError, match=f"src={n} is not a rank of this group"):
        dist.broadcast(pdf.ones(3), src=n)
    with pytest.raises(ValueError, match=f"one tensor per rank \\({n}\\), got 1 tensors"):
        dist.all_gather([pdf.ones(3)], pdf.ones(3))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(2,\)"):
        dist.all_gather([pdf.ones(2)] * n, pdf.ones(3))
    with pytest.raises(TypeError, match="expected a Tensor or an array, got list"):
        dist.all_reduce([1.0, 2.0])


if __name__ == "__main__":
    main()
