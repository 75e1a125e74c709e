"""The launchers' side of the CPU/GPU contract, checked without a GPU.

CuPy does not check kernel arguments (a Python int goes in as a 64-bit integer, an array of the
wrong dtype is read as raw bits), so a launcher that passes one argument too few or the wrong
scalar type only shows on a GPU as garbage. Here each launcher runs against a NumPy stand-in
for cupy whose kernels check every launch against the kernel's real parameter list (compiled by
NVRTC, demangled by c++filt): argument count, pointer dtypes, exact scalar types, block sizes.
The kernels do not run, so only shapes and dtypes of the results are checked. A second test
checks that every function of pydyfast._C has a launcher with the same parameter names.
"""
import inspect
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from pydyfast import backend, cuda_kernels
from pydyfast.cuda_launch import (attention, find, gather, im2col, norm, pool, resample, rnn,
                                  scan, softmax, sort, special)
from pydyfast.ops.pool import _adaptive_windows, _avg_windows

nvrtc = pytest.importorskip("cuda.bindings.nvrtc", reason="needs the cudacheck extra "
                            "(pip install cuda-bindings nvidia-cuda-nvrtc)")
if shutil.which("c++filt") is None:
    pytest.skip("needs c++filt (binutils) to read kernel signatures", allow_module_level=True)

KERNELS = Path(__file__).resolve().parents[2] / "kernels"
SCALARS = {"long long": np.int64, "int": np.int32, "float": np.float32, "double": np.float64}
POINTEES = {"float": np.float32, "double": np.float64, "long long": np.int64}


def _lowered_names(path):
    code = cuda_kernels.source(path)
    names = cuda_kernels.name_expressions(code)
    _, prog = nvrtc.nvrtcCreateProgram(code.encode(), path.name.encode(), 0, [], [])
    for n in names:
        nvrtc.nvrtcAddNameExpression(prog, n.encode())
    options = [b"--gpu-architecture=compute_80"] + [o.encode() for o in
                                                    cuda_kernels.COMPILE_OPTIONS]
    (err,) = nvrtc.nvrtcCompileProgram(prog, len(options), options)
    assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, f"{path.name} does not compile"
    lowered = {n: nvrtc.nvrtcGetLoweredName(prog, n.encode())[1].decode() for n in names}
    nvrtc.nvrtcDestroyProgram(prog)
    return lowered


@pytest.fixture(scope="module")
def signatures():
    """{(family, 'name<float>'): [parameter C types]} from the demangled lowered names."""
    table = {}
    for path in sorted(KERNELS.glob("*.cu")):
        lowered = _lowered_names(path)
        demangled = subprocess.run(["c++filt"], input="\n".join(lowered.values()),
                                   capture_output=True, text=True, check=True).stdout.split("\n")
        for expr, text in zip(lowered, demangled):
            params = text[text.index("(") + 1:text.rindex(")")]
            table[(path.stem, expr)] = [p.strip() for p in params.split(",")] if params else []
    return table


class CheckedKernel:
    def __init__(self, family, expr, params):
        self.family, self.expr, self.params = family, expr, params

    def __call__(self, grid, block, args, shared_mem=0):
        where = f"{self.family}.{self.expr}"
        assert len(args) == len(self.params), \
            f"{where}: {len(args)} arguments for parameters {self.params}"
        for i, (arg, param) in enumerate(zip(args, self.params)):
            if param.endswith("*"):
                pointee = param[:-1].replace("const", "").strip()
                assert isinstance(arg, np.ndarray), f"{where} argument {i}: {param} needs an array"
                assert arg.dtype == POINTEES[pointee], \
                    f"{where} argument {i}: {param} given a {arg.dtype} array"
                assert arg.flags.c_contiguous, f"{where} argument {i} is not C-contiguous"
            else:
                assert type(arg) is SCALARS[param], \
                    f"{where} argument {i}: {param} given {type(arg).__name__}"
        assert all(isinstance(v, int) and v > 0 for v in grid + block), (grid, block)
        threads = int(np.prod(block))
        assert threads <= 1024 and threads % 32 == 0, f"{where}: block {block}"
        assert 0 <= shared_mem <= 48 * 1024, f"{where}: shared memory {shared_mem}"


def _fake_cupy():
    """numpy dressed as the part of cupy the launchers use."""
    fake = types.ModuleType("cupy")
    for name in ("empty", "empty_like", "zeros", "zeros_like", "ones", "full", "asarray",
                 "ascontiguousarray", "exp", "take", "int64", "float32", "float64", "ndarray", "inf"):
        setattr(fake, name, getattr(np, name))
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDevice=lambda: 0))
    return fake


@pytest.fixture
def checked(monkeypatch, signatures):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    monkeypatch.setattr(cuda_kernels, "_functions", {})

    def module(family, device_id):
        return types.SimpleNamespace(get_function=lambda expr: CheckedKernel(
            family, expr, signatures[(family, expr)]))
    monkeypatch.setattr(cuda_kernels, "_module", module)


def _windows(size, out, kernel, stride, padding):
    h = _avg_windows(size[0], kernel[0], stride[0], padding[0], out[0], True)
    w = _adaptive_windows(size[1], out[1])
    return h + w


def _cases(dt, rng):
    def r(*shape):
        return rng.standard_normal(shape).astype(dt)
    x2, t = r(5, 11), np.array([1, 0, -100, 10, 3])
    lse = r(5)
    img = r(2, 3, 7, 9)
    col = r(2, 3 * 3 * 2, 4 * 7)
    windows = _windows((7, 9), (4, 3), (3, 3), (2, 2), (1, 1))
    q, cache = r(2, 6, 16), r(2, 3, 40, 16)
    cos, sin = r(12, 8), r(12, 8)
    lines, index3 = r(3, 5, 4), rng.integers(0, 5, (3, 5, 4))
    return [
        (softmax.softmax_fwd, (x2,), [(5, 11)]),
        (softmax.log_softmax_fwd, (x2,), [(5, 11)]),
        (softmax.softmax_bwd, (x2, x2), [(5, 11)]),
        (softmax.log_softmax_bwd, (x2, x2), [(5, 11)]),
        (softmax.cross_entropy_fwd, (x2, t, r(11), -100, True), [(5,)] * 4),
        (softmax.cross_entropy_fwd, (x2, t, None, -100, False), [(5,)] * 4),
        (softmax.cross_entropy_bwd, (x2, t, lse, lse, lse, lse, None), [(5, 11)]),
        (norm.layer_norm_fwd, (x2, r(11), r(11), 1e-5), [(5, 11), (5,), (5,)]),
        (norm.rms_norm_fwd, (x2, None, 1e-6), [(5, 11), (5,), (5,)]),
        (norm.layer_norm_bwd, (x2, x2, lse, lse, r(11), True, True), [(5, 11), (11,), (11,)]),
        (norm.rms_norm_bwd, (x2, x2, lse, lse, None, False, False), [(5, 11), None, None]),
        (im2col.im2col, (img, (3, 2), (2, 1), (1, 0), (1, 2)), [(2, 18, 28)]),
        (im2col.col2im, (col, (7, 9), (3, 2), (2, 1), (1, 0), (1, 2)), [(2, 3, 7, 9)]),
        (pool.max_pool2d_fwd, (img, (3, 3), (2, 2), (1, 1), (1, 1), (4, 5)),
         [(2, 3, 4, 5), (2, 3, 4, 5)]),
        (pool.max_pool2d_bwd, (r(2, 3, 4, 5), np.zeros((2, 3, 4, 5), np.int64), (7, 9)),
         [(2, 3, 7, 9)]),
        (pool.avg_pool2d_fwd, (img,) + windows, [(2, 3, 4, 3)]),
        (pool.avg_pool2d_bwd, (r(2, 3, 4, 3), (7, 9)) + windows, [(2, 3, 7, 9)]),
        (rnn.gru_gates_fwd, (r(4, 15), r(4, 15), r(4, 5)), [(4, 5), (4, 20)]),
        (rnn.gru_gates_bwd, (r(4, 20), r(4, 5), r(4, 5)), [(4, 15), (4, 15), (4, 5)]),
        (rnn.lstm_gates_fwd, (r(4, 20), r(4, 20), r(4, 5)), [(4, 5), (4, 5), (4, 25)]),
        (rnn.lstm_gates_bwd, (r(4, 25), r(4, 5), r(4, 5), r(4, 5)), [(4, 20), (4, 5)]),
        (resample.resample_fwd, (r(6, 5, 4), np.array([[0, 4, 2]]), r(1, 3)), [(6, 3, 4)]),
        (resample.resample_bwd, (r(6, 3, 1), np.array([[0, 1, 1], [1, 2, 3]]), r(2, 3), 5),
         [(6, 5, 1)]),
        (attention.rotary, (r(2, 3, 12, 16), cos, sin, True, False), [(2, 3, 12, 16)]),
        (attention.rotary, (r(6, 12, 16), cos, sin, False, True), [(6, 12, 16)]),
        (attention.attention_softmax_fwd, (r(2, 7, 9), 0.25, 7), [(2, 7, 9)]),
        (attention.attention_softmax_bwd, (r(2, 7, 9), r(2, 7, 9), 0.25), [(2, 7, 9)]),
        (attention.decode_attention, (q, cache, cache, 30, 0.25), [(2, 6, 16)]),
        (special.erf_fwd, (r(3, 0, 2),), [(3, 0, 2)]),
        (special.erf_fwd, (img,), [(2, 3, 7, 9)]),
        (special.erf_bwd, (img, img), [(2, 3, 7, 9)]),
        (special.gelu_fwd, (r(3, 0, 2),), [(3, 0, 2)]),
        (special.gelu_fwd, (img,), [(2, 3, 7, 9)]),
        (special.gelu_bwd, (img, img), [(2, 3, 7, 9)]),
        *[(fn, (lines,) + extra, [(3, 5, 4)]) for fn, extra in (
            (scan.cumsum_fwd, (True,)), (scan.cumprod_fwd, ()), (scan.cumprod_bwd, (lines,)),
            (scan.logcumsumexp_fwd, ()), (scan.logcumsumexp_bwd, (lines, lines)),
            (scan.cumextreme_bwd, (index3,)))],
        (scan.cumextreme_fwd, (lines, False), [(3, 5, 4), (3, 5, 4)]),
        (gather.gather_fwd, (lines, index3[:, :2]), [(3, 2, 4)]),
        (gather.scatter_add_fwd, (lines, index3[:, :2], lines[:, :2].copy()), [(3, 5, 4)]),
        (gather.index_add_fwd, (lines, np.array([4, 0, 4]), r(3, 3, 4), 0.5), [(3, 5, 4)]),
        (gather.gather_bwd, (lines[:, :2].copy(), index3[:, :2], 5), [(3, 5, 4)]),
        (gather.index_select_fwd, (lines, np.array([4, 0, 4])), [(3, 3, 4)]),
        (gather.index_select_bwd, (r(3, 3, 4), np.array([4, 0, 4]), 5), [(3, 5, 4)]),
        (sort.topk_indices, (x2, 3, True), [(5, 3)]),
    ]


@pytest.mark.parametrize("index", range(len(_cases(np.float32, np.random.default_rng(0)))))
def test_launcher_matches_its_kernels_signature(checked, dtype, index):
    launcher, args, shapes = _cases(dtype, np.random.default_rng(0))[index]
    out = launcher(*args)
    outs = out if isinstance(out, tuple) else (out,)
    assert [None if o is None else o.shape for o in outs] == shapes, launcher.__name__
    for o in outs:
        assert o is None or o.dtype in (np.dtype(dtype), np.dtype(np.int64)), launcher.__name__


def _parameter_names(doc, name):
    """Parameter names of the first signature in a pybind11 docstring."""
    line = next(ln for ln in doc.splitlines() if re.match(rf"^(\d+\. )?{name}\((?!\*args)", ln))
    return re.findall(r"(?:\(|, )(\w+): ", line)


def test_every_cpp_kernel_has_a_launcher_with_the_same_parameters():
    if backend._C is None:
        pytest.skip("pydyfast._C is not built")
    # not dispatched kernels: thread helpers, llama's CPU-only compiled decoder (its factory,
    # the query of the int8 dot product it picked, and llama2.c's rotary tables, computed once
    # on the CPU), the GEMM (cupy's matmul is cuBLAS), the CPU-only fused optimizer steps (cupy
    # parameters take the optimizers' reference updates), and the convolutions, which dispatch
    # with gpu=False: on CuPy their references are CUDA im2col/col2im and cuBLAS
    helpers = {"openmp", "set_num_threads", "get_num_threads", "llama_decoder", "q8_kernel",
               "llama_rope_tables", "gemm", "adam_step", "sgd_step", "rmsprop_step",
               "adagrad_step", "conv2d_fwd", "conv2d_bwd_input", "conv2d_bwd",
               "conv_transpose2d_bwd"}
    names = [n for n in dir(backend._C) if not n.startswith("_") and n not in helpers]
    assert names
    for name in names:
        launcher = find(name)
        expected = _parameter_names(getattr(backend._C, name).__doc__, name)
        assert list(inspect.signature(launcher).parameters) == expected, name
