"""Fuzzer of every ``pydyfast._C`` entry point, run as a child process by test_fuzz_kernels.py.

Hypothesis draws arguments for each entry point from its signature in ``SIGNATURES``: arrays of
random shapes (empty, size-1, up to 5-d, now and then a zero-stride view claiming 2**31+
elements), dtypes (mostly one float dtype for all, so that calls reach the kernels, sometimes
mixed or integer), strides (contiguous, transposed, every other element) and integers and
floats from the extremes (0, -1, 2**31, 2**62, 2**63 - 1, 2**63, nan, inf). Any Python exception
or result is a pass; a signal kills this process and the parent test fails. Each case is
written to the log file (argv[2]) before it runs, so the parent can name the one that crashed.

Usage: python fuzz_kernels.py SECONDS LOGFILE -> prints {"cases": n, "results": m (calls that
returned rather than raised), "seconds": t, ...} as JSON.
"""
import json
import sys
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydyfast import _C

EXTREME_INTS = [0, 1, 2, 3, -1, -2, 7, 2**31 - 1, 2**31, 2**32, 2**62, 2**63 - 1, 2**63,
                -2**63, 2**64]
INT64_EXTREMES = [v for v in EXTREME_INTS if -2**63 <= v < 2**63]
SMALL_DIMS = [0, 1, 1, 2, 2, 3, 3, 4, 5]
FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-12, 1e308, float("inf"), float("-inf"), float("nan")]
FLOAT_DTYPES = [np.float32, np.float64]
OTHER_DTYPES = [np.float16, np.int64, np.int32, np.bool_, np.complex64]

# Argument kinds: arr (the call's float dtype), opt (arr or None), idx (int64 array),
# scale (float64 array), int, pair (two ints), float, bool, config (a tuple of ints), weights (a
# dict of arrays), str, arrs/ints/bools (lists: the optimizers' parameters, states, step counts
# and flags); ":n" is the number of dimensions the kernel expects, drawn most of the time so that
# calls get past the shape checks.
SIGNATURES = {
    "im2col": ["arr:4", "pair", "pair", "pair", "pair"],
    "col2im": ["arr:3", "pair", "pair", "pair", "pair", "pair"],
    "conv2d_fwd": ["arr:4", "arr:4", "opt:1", "pair", "pair", "pair", "int"],
    "conv2d_bwd_input": ["arr:4", "arr:4", "opt:1", "pair", "pair", "pair", "pair", "int"],
    "conv2d_bwd": ["arr:4", "arr:4", "arr:4", "pair", "pair", "pair", "int", "bool", "bool"],
    "conv_transpose2d_bwd": ["arr:4", "arr:4", "arr:4", "pair", "pair", "pair", "int", "bool"],
    "max_pool2d_fwd": ["arr:4", "pair", "pair", "pair", "pair", "pair"],
    "max_pool2d_bwd": ["arr:4", "idx:4", "pair"],
    "avg_pool2d_fwd": ["arr:4", "idx", "idx", "scale", "idx", "idx", "scale"],
    "avg_pool2d_bwd": ["arr:4", "pair", "idx", "idx", "scale", "idx", "idx", "scale"],
    "softmax_fwd": ["arr"],
    "erf_fwd": ["arr"],
    "erf_bwd": ["arr", "arr"],
    "gelu_fwd": ["arr"],
    "gelu_bwd": ["arr", "arr"],
    "resample_fwd": ["arr:3", "idx:2", "arr:2"],
    "resample_bwd": ["arr:3", "idx:2", "arr:2", "int"],
    "gather_fwd": ["arr:2", "idx:2"],
    "scatter_add_fwd": ["arr:2", "idx:2", "arr:2"],
    "index_add_fwd": ["arr:2", "idx:1", "arr:2", "float"],
    "gather_bwd": ["arr:3", "idx:3", "int"],
    "index_select_fwd": ["arr:3", "idx:1"],
    "index_select_bwd": ["arr:3", "idx:1", "int"],
    "cumsum_fwd": ["arr:2", "bool"],
    "cumprod_fwd": ["arr:2"],
    "cumprod_bwd": ["arr:2", "arr:2"],
    "cumextreme_fwd": ["arr:2", "bool"],
    "cumextreme_bwd": ["arr:2", "idx:2"],
    "logcumsumexp_fwd": ["arr:2"],
    "logcumsumexp_bwd": ["arr:2", "arr:2", "arr:2"],
    "topk_indices": ["arr:2", "int", "bool"],
    "q8_kernel": ["int"],
    "llama_rope_tables": ["int", "int", "float"],
    "llama_decoder": ["config", "weights", "arr:4", "arr:4", "arr:2", "arr:2", "int", "str"],
    "log_softmax_fwd": ["arr"],
    "softmax_bwd": ["arr", "arr"],
    "log_softmax_bwd": ["arr", "arr"],
    "cross_entropy_fwd": ["arr:2", "idx:1", "opt:1", "int", "bool"],
    "cross_entropy_bwd": ["arr:2", "idx:1", "arr:1", "arr:1", "arr:1", "arr:1", "opt:1"],
    "layer_norm_fwd": ["arr:2", "opt:1", "opt:1", "float"],
    "rms_norm_fwd": ["arr:2", "opt:1", "float"],
    "layer_norm_bwd": ["arr:2", "arr:2", "arr:1", "arr:1", "opt:1", "bool", "bool"],
    "rms_norm_bwd": ["arr:2", "arr:2", "arr:1", "arr:1", "opt:1", "bool", "bool"],
    "gru_gates_fwd": ["arr:2", "arr:2", "arr:2"],
    "gru_gates_bwd": ["arr:2", "arr:2", "arr:2"],
    "lstm_gates_fwd": ["arr:2", "arr:2", "arr:2"],
    "lstm_gates_bwd": ["arr:2", "arr:2", "arr:2", "arr:2"],
    "rotary": ["arr:3", "arr:2", "arr:2", "bool", "bool"],
    "attention_softmax_fwd": ["arr:3", "float", "int"],
    "attention_softmax_bwd": ["arr:3", "arr:3", "float"],
    "decode_attention": ["arr:3", "arr:4", "arr:4", "int", "float"],
    "adam_step": ["arrs", "arrs", "arrs", "arrs", "arrs", "ints", "float", "float", "float",
                  "float", "float", "bool", "bool"],
    "sgd_step": ["arrs", "arrs", "arrs", "bools", "float", "float", "float", "float", "bool",
                 "bool"],
    "rmsprop_step": ["arrs", "arrs", "arrs", "arrs", "arrs", "float", "float", "float", "float",
                     "float", "bool", "bool"],
    "adagrad_step": ["arrs", "arrs", "arrs", "ints", "float", "float", "float", "float", "bool"],
    "gemm": ["arr", "arr", "bool", "bool", "opt:1", "bool", "opt", "float", "float"],
    "set_num_threads": ["threads"],
    "get_num_threads": [],
    "openmp": [],
}


def entry_points():
    """Every public callable of pydyfast._C (the test requires SIGNATURES to cover them)."""
    return sorted(n for n in dir(_C) if not n.startswith("_") and callable(getattr(_C, n)))


@st.composite
def arrays(draw, dtype, ndim=None):
    if draw(st.integers(0, 19)) == 0:  # a zero-stride view claiming 2**31+ elements
        shape = draw(st.sampled_from([(2**31,), (2**16, 2**16), (1, 2**20, 2**11),
                                      (2**11, 2**10, 2**10), (2, 2**15, 2**10, 2**10)]))
        return np.broadcast_to(np.zeros((), dtype), shape)
    if ndim is None or draw(st.integers(0, 3)) == 0:
        ndim = draw(st.integers(0, 5))
    shape = tuple(draw(st.sampled_from(SMALL_DIMS)) for _ in range(ndim))
    data = draw(st.sampled_from(["normal", "zeros", "inf", "nan", "extreme"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if np.dtype(dtype).kind in "fc":
        a = rng.standard_normal(shape).astype(dtype)
        if data == "zeros":
            a[...] = 0
        elif data in ("inf", "nan") and a.size:
            a.reshape(-1)[rng.integers(0, a.size, 3)] = -np.inf if data == "inf" else np.nan
    else:
        a = rng.integers(-3, 4, shape).astype(dtype)
        if data == "extreme" and a.size and np.dtype(dtype).kind == "i":
            a.reshape(-1)[0] = np.iinfo(dtype).max
    layout = draw(st.sampled_from(["contiguous", "contiguous", "transposed", "strided"]))
    if layout == "transposed" and a.ndim >= 2:
        a = a.swapaxes(-1, -2)
    elif layout == "strided" and a.ndim >= 1:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    return a


def optimizer_array(draw, dtype, shape):
    """A parameter-like array of ``shape``: now and then read-only, of another dtype, or nan."""
    a = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape)
    a = a.astype(draw(st.sampled_from(OTHER_DTYPES + FLOAT_DTYPES)) if draw(
        st.integers(0, 9)) == 0 else dtype)
    if draw(st.integers(0, 9)) == 0 and a.dtype.kind == "f":
        a.reshape(-1)[0] = np.nan
    if draw(st.integers(0, 9)) == 0:
        a.flags.writeable = False
    return a


def argument(draw, kind, dtype):
    kind, _, ndim = kind.partition(":")
    ndim = int(ndim) if ndim else None
    if kind == "arr":
        if draw(st.integers(0, 9)) == 0:
            dtype = draw(st.sampled_from(OTHER_DTYPES + FLOAT_DTYPES))
        return draw(arrays(dtype, ndim))
    if kind == "opt":
        return None if draw(st.booleans()) else draw(arrays(dtype, ndim))
    if kind == "idx":
        if draw(st.booleans()):
            n = draw(st.sampled_from(SMALL_DIMS))
            return np.array(draw(st.lists(st.sampled_from(INT64_EXTREMES), min_size=n,
                                          max_size=n)), dtype=np.int64)
        return draw(arrays(np.int64, ndim))
    if kind == "scale":
        return draw(arrays(np.float64))
    if kind in ("int", "pair"):  # small values half the time, so calls reach the loops
        pool = st.sampled_from(EXTREME_INTS if draw(st.booleans()) else [0, 1, 2, 3])
        return draw(pool) if kind == "int" else (draw(pool), draw(pool))
    if kind == "float":
        return draw(st.sampled_from(FLOATS))
    if kind == "config":  # a model shape: mostly small, sometimes extreme, sometimes short
        n = draw(st.sampled_from([7, 8, 9, 3, 0]))
        return tuple(argument(draw, "int", dtype) for _ in range(n))
    if kind == "weights":
        names = ["tok_embeddings", "norm", "layers.0.wq", "layers.0.attention_norm"]
        return {name: argument(draw, "arr", dtype) for name in names if draw(st.booleans())}
    if kind == "str":
        return draw(st.sampled_from(["", "avx2", "scalar", "x" * 100]))
    if kind in ("arrs", "ints", "bools"):  # mostly two entries of fixed shapes, so lists agree
        if kind != "arrs" or draw(st.integers(0, 3)):
            n = 2 if draw(st.integers(0, 3)) else draw(st.integers(0, 3))
            if kind == "ints":
                return [draw(st.sampled_from([1, 2, 1000] + INT64_EXTREMES)) for _ in range(n)]
            if kind == "bools":
                return [draw(st.booleans()) for _ in range(n)]
            return [optimizer_array(draw, dtype, shape) for shape in [(3,), (2, 17)][:n]]
        return [argument(draw, "arr", dtype) for _ in range(draw(st.integers(0, 3)))]
    if kind == "threads":
        return draw(st.sampled_from([1, 2, -1, 0]))
    return draw(st.booleans())


def describe(value):
    if isinstance(value, np.ndarray):
        return f"array{value.shape}{value.dtype}{'' if value.flags.c_contiguous else ' strided'}"
    return repr(value)


def fuzz(name, examples, log, counts):
    fn = getattr(_C, name)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data):
        dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
        args = [argument(data.draw, kind, dtype) for kind in SIGNATURES[name]]
        log.write(f"{name}({', '.join(map(describe, args))})\n")
        log.flush()
        calls = counts.setdefault(name, [0, 0])
        calls[0] += 1
        try:
            fn(*args)
            calls[1] += 1
        except Exception:  # noqa: BLE001, S110 - any Python exception is a pass
            pass
        finally:
            if name == "set_num_threads":
                _C.set_num_threads(1)

    one()


def main(seconds, log_path):
    counts, start, rounds = {}, time.perf_counter(), 0
    names = [n for n in entry_points() if n in SIGNATURES]
    with open(log_path, "w") as log:
        while time.perf_counter() - start < seconds:
            for name in names:
                fuzz(name, 25, log, counts)
            rounds += 1
    print(json.dumps({"cases": sum(c[0] for c in counts.values()),
                      "results": sum(c[1] for c in counts.values()),
                      "seconds": time.perf_counter() - start, "rounds": rounds,
                      "calls_and_results": counts,
                      "entry_points": entry_points()}))


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2])
