"""Conv1d/Conv2d/ConvTranspose2d and the pooling layers against torch: same weights, outputs,
input and parameter gradients, state dict keys and shapes, default init, bad arguments."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn

from nn.layer_oracle import compare_module

CONV2D = [  # (args, kwargs, input shape)
    ((3, 4, 3), {}, (2, 3, 7, 6)),
    ((3, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)), (1, 3, 8, 9)),
    ((4, 6, 3), dict(groups=2, bias=False, padding=1), (2, 4, 5, 5)),
    ((2, 2, 3), dict(padding="same", dilation=2), (1, 2, 7, 7)),
    ((1, 1, 1), {}, (1, 1, 1, 1)),
]


@pytest.mark.parametrize("args, kwargs, shape", CONV2D)
def test_conv2d(args, kwargs, shape, dtype, kernels, rng):
    compare_module(nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs),
                   [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("kwargs", [{}, dict(stride=2, padding=2, dilation=2, groups=3)])
def test_conv1d(kwargs, dtype, kernels, rng):
    compare_module(nn.Conv1d(3, 6, 3, **kwargs), torch.nn.Conv1d(3, 6, 3, **kwargs),
                   [rng.standard_normal((2, 3, 11))], dtype)


@pytest.mark.parametrize("kwargs", [{}, dict(stride=2, padding=1, output_padding=1),
                                    dict(groups=2, dilation=2, bias=False)])
def test_conv_transpose2d(kwargs, dtype, kernels, rng):
    compare_module(nn.ConvTranspose2d(4, 6, 3, **kwargs),
                   torch.nn.ConvTranspose2d(4, 6, 3, **kwargs),
                   [rng.standard_normal((2, 4, 5, 4))], dtype)


def test_conv_non_contiguous_input(dtype, rng):
    x = rng.standard_normal((2, 6, 6, 3)).transpose(0, 3, 1, 2)  # NHWC memory seen as NCHW
    compare_module(nn.Conv2d(3, 2, 3), torch.nn.Conv2d(3, 2, 3), [x], dtype)


def test_conv_parameters_match_torch_layout_and_init():
    for m, t in ((nn.Conv2d(4, 6, (3, 2), groups=2), torch.nn.Conv2d(4, 6, (3, 2), groups=2)),
                 (nn.ConvTranspose2d(4, 6, 3, groups=2),
                  torch.nn.ConvTranspose2d(4, 6, 3, groups=2)),
                 (nn.Conv1d(2, 3, 5), torch.nn.Conv1d(2, 3, 5))):
        ours, theirs = m.state_dict(), t.state_dict()
        assert list(ours) == list(theirs)
        for k in ours:
            assert ours[k].shape == tuple(theirs[k].shape), k
        fan_in = m.weight.shape[1] * int(np.prod(m.weight.shape[2:]))
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound


def test_conv_bad_arguments():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) must "
                                         r"be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv1d: padding_mode must be one of"):
        nn.Conv1d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError,
                       match=r"ConvTranspose2d: padding_mode must be one of \('zeros',\)"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="conv2d"):
        nn.Conv2d(3, 4, 3)(pdf.zeros(1, 2, 5, 5))


POOLS = [
    ("MaxPool2d", (2,), {}, (2, 3, 6, 5)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True), (1, 2, 7, 8)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 5)),
    ("AvgPool2d", ((3, 2),), dict(stride=1, padding=1, count_include_pad=False), (1, 2, 5, 4)),
    ("MaxPool1d", (3,), dict(stride=2), (2, 3, 9)),
    ("AvgPool1d", (2,), dict(ceil_mode=True), (1, 2, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 7, 8)),
    ("AdaptiveAvgPool2d", (1,), {}, (1, 4, 5, 5)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 2, 7)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", POOLS)
def test_pooling(name, args, kwargs, shape, dtype, kernels, rng):
    m, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert m.state_dict() == {} and not list(t.state_dict())
    compare_module(m, t, [rng.standard_normal(shape)], dtype)


def test_pooling_bad_arguments():
    with pytest.raises(TypeError, match=r"MaxPool2d: missing required argument\(s\) "
                                        r"\['kernel_size'\]"):
        nn.MaxPool2d()
    with pytest.raises(TypeError, match="AvgPool2d: unexpected arguments"):
        nn.AvgPool2d(2, size=3)
