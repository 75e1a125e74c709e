"""Benchmark cases of the rnn family, float32.

gru_cell: one GRU step, x (256, 64), h (256, 128), w_ih (384, 64), w_hh (384, 128), biases;
forward and backward (the GEMMs in BLAS in every framework, the gate math fused in pydyfast).
lstm_cell: the same shapes with 4 gate blocks.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case

_B, _I, _H = 256, 64, 128


def _cell_arrays(gates):
    rng = np.random.default_rng(0)
    shapes = [(_B, _I), (_B, _H), (gates * _H, _I), (gates * _H, _H), (gates * _H,),
              (gates * _H,)]
    return [(rng.standard_normal(s) * 0.3).astype(np.float32) for s in shapes]


def _gru_cell(framework, device):
    import pydyfast.functional as F
    return op_case(framework, device, _cell_arrays(3), F.gru_cell, _torch_cell("gru_cell"))


def _lstm_cell(framework, device):
    import pydyfast.functional as F
    return op_case(framework, device, _cell_arrays(4),
                   lambda x, h, w_ih, w_hh, b_ih, b_hh: F.lstm_cell(x, (h, h), w_ih, w_hh, b_ih,
                                                                    b_hh)[0],
                   lambda x, h, *w: _torch_cell("lstm_cell")(x, (h, h), *w)[0])


def _torch_cell(name):
    import torch
    return getattr(torch._VF, name)  # what torch.nn.GRUCell / LSTMCell call


CASES = [
    KernelCase("gru_cell", f"B={_B} in={_I} hidden={_H}, f32", _gru_cell),
    KernelCase("lstm_cell", f"B={_B} in={_I} hidden={_H}, f32", _lstm_cell),
]
