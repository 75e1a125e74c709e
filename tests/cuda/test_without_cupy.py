"""Without CuPy (or without a GPU) pydyfast imports silently and runs on the CPU."""
import subprocess
import sys
import textwrap

import pytest

import pydyfast
from pydyfast import cuda_kernels
from pydyfast.cuda_launch import FAMILIES

# Runs in a fresh interpreter where `import cupy` fails, as on a machine without it.
_HIDE_CUPY = "import sys; sys.modules['cupy'] = None\n"


def _run(code):
    return subprocess.run([sys.executable, "-c", _HIDE_CUPY + textwrap.dedent(code)],
                          check=False, capture_output=True, text=True, timeout=120)


def test_import_is_silent_and_cpu_works_without_cupy():
    result = _run("""
        import pydyfast as pdf
        assert not pdf.cuda.is_available()
        assert pdf.cuda.device_count() == 0
        assert pdf.backend.info()["cuda"] is False
        x = pdf.Tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0, 6.0]
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_cuda_tensor_without_cupy_says_what_is_missing():
    result = _run("""
        import pydyfast as pdf
        try:
            pdf.Tensor([1.0], device="cuda")
        except ImportError as exc:
            print(exc)
    """)
    assert result.returncode == 0, result.stderr
    assert "CuPy" in result.stdout


def test_loader_finds_every_kernel_file():
    found = sorted(p.stem for p in cuda_kernels.kernel_dir().glob("*.cu"))
    assert found == sorted(FAMILIES)


def test_source_inlines_common_header(tmp_path):
    (tmp_path / "common.cuh").write_text("#define PDF_MARK 1\n// back\\slash\n")
    (tmp_path / "f.cu").write_text('#include "common.cuh"\n'
                                   "template <typename T> __global__ void k(T* y) {}\n")
    code = cuda_kernels.source(tmp_path / "f.cu")
    assert code.startswith("#define PDF_MARK 1\n// back\\slash\n")
    assert "#include" not in code
    assert cuda_kernels.name_expressions(code) == ["k<float>", "k<double>"]


def test_row_block_is_a_power_of_two_near_the_row():
    assert [cuda_kernels.row_block(n) for n in (1, 32, 33, 500, 5000)] == [32, 32, 64, 512, 1024]


def test_kernel_rejects_other_dtypes():
    if not pydyfast.cuda.is_available():
        pytest.skip("needs a CUDA GPU and CuPy (cupy.cuda.is_available() is False)")
    with pytest.raises(TypeError, match="expected float32 or float64, got int32"):
        cuda_kernels.kernel("softmax", "softmax_fwd", "int32")
