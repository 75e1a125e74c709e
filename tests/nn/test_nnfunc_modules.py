"""The layers of issue 19 against their torch twins (outputs, input and parameter gradients,
state dicts, reprs where they carry options): activations, padding, resampling, patches,
unpooling, Conv3d, padding modes, distances, Dropout2d and the new losses."""
import warnings

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn

from nn.layer_oracle import compare_module

LAYERS = [  # (name, args, kwargs, input shape)
    ("ReLU6", (), {}, (2, 3, 4)), ("Hardsigmoid", (), {}, (2, 3, 4)),
    ("Hardswish", (), {}, (2, 3, 4)), ("Mish", (), {}, (2, 3, 4)), ("SELU", (), {}, (2, 3, 4)),
    ("CELU", (0.7,), {}, (2, 3, 4)), ("GLU", (), dict(dim=1), (2, 4, 3)),
    ("LogSigmoid", (), {}, (2, 3, 4)), ("Softmin", (), dict(dim=-1), (2, 3, 4)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 3)), ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("Unfold", ((2, 3),), dict(padding=1, stride=2), (2, 3, 5, 6)),
    ("Fold", ((4, 5), 2), {}, (2, 8, 12)),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear", align_corners=False), (1, 2, 3, 4)),
    ("Upsample", (), dict(size=(5, 7)), (1, 2, 3, 4)),
    ("Upsample", (), dict(scale_factor=1.5, mode="bicubic", align_corners=True), (1, 2, 3, 4)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), dict(size=(6, 5)), (1, 2, 3, 4)),
    ("ZeroPad1d", ((1, 2),), {}, (2, 3, 4)), ("ZeroPad2d", (1,), {}, (2, 3, 4, 5)),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), {}, (1, 2, 3, 4, 5)),
    ("ConstantPad1d", (2, 3.5), {}, (2, 3, 4)), ("ConstantPad2d", ((1, 0, -1, 2), -1.0), {},
                                                 (2, 3, 4, 5)),
    ("ConstantPad3d", (1, 0.5), {}, (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", ((2, 1),), {}, (2, 3, 4)), ("ReflectionPad2d", (2,), {}, (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", (3,), {}, (2, 3, 4)), ("ReplicationPad2d", ((1, 2, 0, 3),), {},
                                                (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), {}, (1, 2, 3, 4, 5)),
    ("CircularPad1d", (2,), {}, (2, 3, 4)), ("CircularPad2d", ((1, 2, 2, 0),), {}, (2, 3, 4, 5)),
    ("CircularPad3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("Conv3d", (2, 4, 3), dict(padding=1, stride=(1, 2, 1)), (2, 2, 4, 5, 6)),
    ("Conv3d", (4, 2, (2, 3, 2)), dict(groups=2, padding="same", bias=False), (1, 4, 3, 4, 5)),
    ("Conv3d", (2, 3, 3), dict(padding=2, padding_mode="replicate"), (1, 2, 3, 4, 5)),
    ("Conv2d", (3, 4, (2, 4)), dict(padding="same"), (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="reflect"), (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 2), dict(padding="same", padding_mode="circular", dilation=2),
     (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 3), dict(padding=(2, 1), padding_mode="replicate", stride=2), (2, 3, 5, 6)),
    ("Conv1d", (3, 4, 4), dict(padding="same", padding_mode="reflect"), (2, 3, 7)),
    ("Conv1d", (3, 4, 3), dict(padding="valid"), (2, 3, 7)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=lambda v: str(v))
def test_layer_matches_torch(name, args, kwargs, shape, dtype, rng):
    m, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert list(m.state_dict()) == list(t.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's 'same' padding with even kernels warns
        compare_module(m, t, [rng.standard_normal(shape)], dtype, copy_weights=bool(
            list(t.state_dict())), tol=_tol(name, dtype))


def _tol(name, dtype):
    """torch's Hardsigmoid/Hardswish kernels use float constants (1.0f / 6) in float64 too, and
    its CELU gradient for an alpha that is not a binary fraction (0.7) is off by ~3e-8 relative
    (checked against the exact e^(x/alpha)), so those float64 values carry float32 rounding."""
    if name in ("Hardsigmoid", "Hardswish", "CELU") and np.dtype(dtype) == np.float64:
        return dict(rtol=1e-7, atol=1e-9)
    return None


def test_conv3d_layout_and_init_match_torch():
    m, t = nn.Conv3d(4, 6, (3, 2, 1), groups=2), torch.nn.Conv3d(4, 6, (3, 2, 1), groups=2)
    assert {k: v.shape for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    bound = 1 / np.sqrt(2 * 3 * 2 * 1)
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert repr(nn.Conv2d(2, 3, 2, padding="same", padding_mode="reflect")) == \
        repr(torch.nn.Conv2d(2, 3, 2, padding="same", padding_mode="reflect"))


@pytest.mark.parametrize("name,args,kwargs,shapes", [
    ("CosineSimilarity", (), dict(dim=-1), [(3, 4), (3, 4)]),
    ("PairwiseDistance", (), dict(p=1.0, keepdim=True), [(3, 4), (3, 4)]),
    ("HuberLoss", (), dict(delta=0.5), [(3, 4), (3, 4)]),
    ("TripletMarginLoss", (), dict(margin=0.5, swap=True), [(4, 3)] * 3),
    ("GaussianNLLLoss", (), dict(full=True), [(3, 4), (3, 4), (3, 1)]),
    ("PoissonNLLLoss", (), dict(log_input=True), [(3, 4), (3, 4)]),
], ids=str)
def test_two_and_three_input_layers_match_torch(name, args, kwargs, shapes, dtype, rng):
    arrays = [np.abs(rng.standard_normal(s)) + 0.1 for s in shapes]
    compare_module(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs),
                   arrays, dtype, copy_weights=False)


@pytest.mark.parametrize("name", ["MarginRankingLoss", "CosineEmbeddingLoss"])
def test_margin_loss_layers_match_torch(name, dtype, rng):
    sign = np.array([1.0, -1.0, 1.0, -1.0])
    shape = (4,) if name == "MarginRankingLoss" else (4, 3)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    m, t = getattr(nn, name)(margin=0.2), getattr(torch.nn, name)(margin=0.2)
    sign_pd, sign_th = pdf.Tensor(sign.astype(dtype)), torch.tensor(sign.astype(dtype))
    compare_module(m, t, [a, b], dtype, copy_weights=False,
                   call=lambda x, y: m(x, y, sign_pd), torch_call=lambda x, y: t(x, y, sign_th))


def test_max_pool_and_unpool_layers_round_trip_as_torch(dtype, rng):
    x = rng.standard_normal((2, 3, 6, 7))
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    t_pool, t_unpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    compare_module(unpool, t_unpool, [x], dtype, copy_weights=False,
                   call=lambda v: unpool(*pool(v), output_size=(6, 7)),
                   torch_call=lambda v: t_unpool(*t_pool(v), output_size=(6, 7)))
    pool1, unpool1 = nn.MaxPool1d(3, return_indices=True), nn.MaxUnpool1d(3)
    t_pool1, t_unpool1 = torch.nn.MaxPool1d(3, return_indices=True), torch.nn.MaxUnpool1d(3)
    compare_module(unpool1, t_unpool1, [x[0]], dtype, copy_weights=False,
                   call=lambda v: unpool1(*pool1(v)), torch_call=lambda v: t_unpool1(*t_pool1(v)))


def test_dropout2d_zeroes_whole_channels_and_rescales(rng):
    x = pdf.Tensor(np.ones((64, 32, 3, 3)), requires_grad=True)
    layer = nn.Dropout2d(0.25)
    y = layer(x).numpy()
    per_channel = y.reshape(64, 32, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.25) < 0.05  # 2048 draws: 6 sigma
    layer(x).sum().backward()
    assert set(np.unique(x.grad.numpy())) <= {0.0, 1 / 0.75}
    layer.eval()
    assert layer(x) is x
    three_d = nn.Dropout2d(0.5)(pdf.Tensor(np.ones((8, 16, 5)))).numpy()
    assert np.all((three_d == 0).all(-1) | (three_d == 2).all(-1))  # (N, C, L): per channel


@pytest.mark.parametrize("name,shape,channels", [
    ("Dropout1d", (16, 8, 5), 2), ("Dropout1d", (32, 5), 1), ("Dropout3d", (8, 8, 2, 3, 2), 2),
    ("Dropout3d", (32, 2, 3, 2), 1), ("Dropout2d", (32, 3, 3), 1 + 1),
], ids=str)
def test_channel_dropout_draws_once_per_channel(name, shape, channels):
    y = getattr(nn, name)(0.5)(pdf.Tensor(np.ones(shape))).numpy()
    per_channel = y.reshape(shape[:channels] + (-1,))
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < (per_channel[..., 0] == 0).mean() < 1


@pytest.mark.parametrize("make,error,match", [
    (lambda: nn.Dropout2d(1.5), ValueError, r"Dropout2d: p must lie in \[0, 1\]"),
    (lambda: nn.Dropout2d()(pdf.Tensor(np.ones((2, 3)))), ValueError,
     r"dropout2d: expected a 3-D \(N, C, L\) or 4-D"),
    (lambda: nn.Dropout1d()(pdf.Tensor(np.ones((2, 3, 4, 5)))), ValueError, "dropout1d"),
    (lambda: nn.Dropout3d()(pdf.Tensor(np.ones((2, 3)))), ValueError, "dropout3d"),
    (lambda: nn.ConstantPad2d(1), TypeError, "value"),
    (lambda: nn.ReflectionPad2d((1, 2, 3)), TypeError, "4 ints"),
    (lambda: nn.ReflectionPad1d(3)(pdf.Tensor(np.ones((1, 2, 3)))), ValueError, "at most 2"),
    (lambda: nn.Upsample(scale_factor=2, mode="cubic")(pdf.Tensor(np.ones((1, 1, 2, 2)))),
     ValueError, "mode must be one of"),
    (lambda: nn.Conv3d(3, 4, 3, stride=2, padding="same"), ValueError, "needs stride 1"),
    (lambda: nn.Conv3d(3, 4, 3)(pdf.Tensor(np.ones((1, 2, 3, 3, 3), np.float32))),
     ValueError, "conv3d"),
], ids=str)
def test_layers_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()
