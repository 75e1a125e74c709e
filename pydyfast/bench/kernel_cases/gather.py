"""Benchmark cases of the gather family, float32: gather and scatter_add of (512, 4096) along
dim 1 with a (512, 1024) index, index_add of 8192 rows of 256 into (4096, 256) (an embedding
gradient), index_select of 8192 rows of a (32000, 512) table (its backward is an index_add)."""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case


def _case(make_inputs, pdf_call, torch_call):
    """``make_inputs(rng)`` -> (float arrays, integer index); the calls take (tensors, index)."""
    def setup(framework, device):
        arrays, index = make_inputs(np.random.default_rng(0))
        if framework == "torch":
            import torch
            idx = torch.tensor(index, device=device)
            return op_case(framework, device, arrays, None, lambda *t: torch_call(*t, idx))
        import pydyfast
        idx = pydyfast.Tensor(index, device=device)
        return op_case(framework, device, arrays, lambda *t: pdf_call(*t, idx), None)
    return setup


def _along_rows(rng):
    return [rng.standard_normal((512, 4096), dtype=np.float32)], rng.integers(0, 4096, (512, 1024))


def _scatter_inputs(rng):
    arrays, index = _along_rows(rng)
    return arrays + [rng.standard_normal((512, 1024), dtype=np.float32)], index


def _index_add_inputs(rng):
    return ([rng.standard_normal((4096, 256), dtype=np.float32),
             rng.standard_normal((8192, 256), dtype=np.float32)], rng.integers(0, 4096, 8192))


def _table_inputs(rng):
    return [rng.standard_normal((32000, 512), dtype=np.float32)], rng.integers(0, 32000, 8192)


CASES = [
    KernelCase("gather", "(512, 4096) dim 1, index (512, 1024), f32",
               _case(_along_rows, lambda x, i: x.gather(1, i), lambda x, i: x.gather(1, i))),
    KernelCase("scatter_add", "(512, 4096) dim 1, index and src (512, 1024), f32",
               _case(_scatter_inputs, lambda x, s, i: x.scatter_add(1, i, s),
                     lambda x, s, i: x.scatter_add(1, i, s))),
    KernelCase("index_add", "(4096, 256) dim 0, 8192 source rows, f32",
               _case(_index_add_inputs, lambda x, s, i: x.index_add(0, i, s),
                     lambda x, s, i: x.index_add(0, i, s))),
    KernelCase("index_select", "(32000, 512) table, 8192 rows, f32",
               _case(_table_inputs, lambda x, i: x.index_select(0, i),
                     lambda x, i: x.index_select(0, i))),
]
