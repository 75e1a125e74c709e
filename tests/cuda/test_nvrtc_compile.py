"""Compile every kernels/*.cu with NVRTC, the compiler CuPy uses, for float and double.

Runs without a GPU (NVRTC is a library: pip install cuda-bindings nvidia-cuda-nvrtc, the
`cudacheck` extra, also part of `test`). `nvcc -ptx` is not enough: it pulls in host headers and
accepts code NVRTC rejects (-INFINITY), and it does not instantiate templates.
"""
import re
from pathlib import Path

import pytest

from pydyfast import cuda_kernels
from pydyfast.cuda_launch import FAMILIES

nvrtc = pytest.importorskip("cuda.bindings.nvrtc", reason="NVRTC compile check needs the "
                            "cudacheck extra: pip install cuda-bindings nvidia-cuda-nvrtc")

REPO = Path(__file__).resolve().parents[2]
KERNELS = REPO / "kernels"
CU_FILES = sorted(KERNELS.glob("*.cu"))
ARCH = b"--gpu-architecture=compute_80"  # Ampere: the oldest GPU the kernels are meant for


def _check(result, prog=None):
    err = result[0]
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        log = ""
        if prog is not None:
            _, size = nvrtc.nvrtcGetProgramLogSize(prog)
            buf = b" " * size
            nvrtc.nvrtcGetProgramLog(prog, buf)
            log = buf.decode(errors="replace")
        raise AssertionError(f"NVRTC: {err}\n{log}")
    return result[1:]


def nvrtc_compile(code, names, filename="kernel.cu"):
    """Compile ``code`` and instantiate ``names``; returns {name expression: lowered name}.
    Raises AssertionError with NVRTC's log when the source does not compile."""
    (prog,) = _check(nvrtc.nvrtcCreateProgram(code.encode(), filename.encode(), 0, [], []))
    try:
        for name in names:
            _check(nvrtc.nvrtcAddNameExpression(prog, name.encode()))
        options = [ARCH] + [o.encode() for o in cuda_kernels.COMPILE_OPTIONS]
        _check(nvrtc.nvrtcCompileProgram(prog, len(options), options), prog)
        return {name: _check(nvrtc.nvrtcGetLoweredName(prog, name.encode()))[0]
                for name in names}
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def test_every_family_has_a_kernel_file():
    assert sorted(p.stem for p in CU_FILES) == sorted(FAMILIES)


@pytest.mark.parametrize("path", CU_FILES, ids=[p.stem for p in CU_FILES])
def test_kernel_file_compiles_for_float_and_double(path):
    code = cuda_kernels.source(path)
    assert not re.search(r"^\s*#include", code, re.MULTILINE), \
        "common.cuh must be inlined (NVRTC has no include path here)"
    names = cuda_kernels.name_expressions(code)
    assert names and len(names) % 2 == 0, f"{path.name}: no templated __global__ kernel found"
    lowered = nvrtc_compile(code, names, path.name)
    assert all(lowered.values()), lowered


def test_nvrtc_check_rejects_what_nvcc_accepts():
    """The check itself can fail: -INFINITY is undefined without host math headers."""
    code = cuda_kernels.source(KERNELS / "softmax.cu") + (
        "\ntemplate <typename T> __global__ void bad(T* y) { y[0] = -INFINITY; }\n")
    with pytest.raises(AssertionError, match="INFINITY"):
        nvrtc_compile(code, ["bad<float>"])


_LAUNCH = re.compile(r'kernel\(\s*FAMILY\s*,\s*"(\w+)"')


@pytest.mark.parametrize("family", FAMILIES)
def test_launchers_name_kernels_that_exist(family):
    """A typo in a launcher's kernel name would only show on a GPU: check it here."""
    launcher = REPO / "pydyfast" / "cuda_launch" / f"{family}.py"
    used = set(_LAUNCH.findall(launcher.read_text()))
    assert used, f"{launcher.name} launches no kernel"
    defined = {n.split("<")[0] for n in
               cuda_kernels.name_expressions((KERNELS / f"{family}.cu").read_text())}
    assert used <= defined, f"{family}: launchers use undefined kernels {sorted(used - defined)}"
