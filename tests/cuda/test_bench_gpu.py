"""``python -m pydyfast.bench kernels --device cuda`` runs through the shared runner on a GPU."""
import subprocess
import sys


def test_kernel_bench_runs_on_cuda(cp, tmp_path):
    out = tmp_path / "cuda.json"
    result = subprocess.run([sys.executable, "-m", "pydyfast.bench", "kernels", "--device", "cuda",
                             "--quick", "--json", str(out)],
                            check=False, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.stat().st_size > 0
