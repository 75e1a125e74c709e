"""Issue 13 items 7 and 8: default_collate types a batch as torch does; Module.load_state_dict
copies nothing on error; Optimizer.load_state_dict validates at load, naming the parameter."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn, optim
from pydyfast.data import default_collate

torch_collate = torch.utils.data.default_collate

BATCHES = [
    [0, 1.5], [1.5, 0], [True, 2], [2, True], [True, False], [1, 2], [1.0, 2.0],
    [np.float32(1), np.float32(2)], [np.float32(1), 2.0], [np.int32(1), np.int32(2)],
    [np.float16(1), np.float32(2)], [np.bool_(True), np.bool_(False)], [np.int64(1), 2.5],
    [np.uint8(1), np.int8(-1)],
    [np.array(1.0, np.float32), np.array(2, np.int64)],
    [np.ones(2, np.float32), np.ones(2, np.int64)],
    [np.ones((2, 1), np.int32), np.zeros((2, 1), np.int16)],
]


@pytest.mark.parametrize("batch", BATCHES, ids=[repr(b) for b in BATCHES])
def test_collate_dtype_and_values_follow_torch(batch):
    ours, theirs = default_collate(batch), torch_collate(batch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_collate_of_tensors_and_nested_samples_follows_torch():
    samples = [(pdf.tensor(np.ones(2, np.float32)), {"y": 0}), (
        pdf.tensor(np.zeros(2, np.float64)), {"y": 1.5})]
    th = [(torch.ones(2), {"y": 0}), (torch.zeros(2, dtype=torch.float64), {"y": 1.5})]
    (x, d), (tx, td) = default_collate(samples), torch_collate(th)
    assert str(x.dtype) == str(tx.dtype).replace("torch.", "")
    assert str(d["y"].dtype) == str(td["y"].dtype).replace("torch.", "")


def test_module_load_state_dict_copies_nothing_when_one_value_fails():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {k: np.full(v.shape, 7.0) for k, v in model.state_dict().items()}
    state["1.bias"] = np.array(["not a number"])  # the last entry cannot be converted
    with pytest.raises(RuntimeError, match=r"1\.bias"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # no earlier entry was written
    state["1.bias"] = np.full((1,), 7.0)
    model.load_state_dict(state)
    assert all((v.numpy() == 7).all() for v in model.state_dict().values())


def _trained_optimizer(cls, **options):
    w = nn.Parameter(np.ones((2, 3), np.float32))
    opt = cls([w], **options)
    w.grad = pdf.tensor(np.ones((2, 3), np.float32))
    opt.step()
    return w, opt


@pytest.mark.parametrize("cls,options", [(optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                         (optim.Adam, {"lr": 0.1})])
def test_optimizer_load_state_dict_validates_at_load(cls, options):
    _, source = _trained_optimizer(cls, **options)
    good = source.state_dict()
    w, target = _trained_optimizer(cls, **options)
    key = next(k for k, v in good["state"][0].items() if getattr(v, "ndim", 0))
    bad_shape = {"state": {0: dict(good["state"][0], **{key: np.zeros((5,))})},
                 "param_groups": good["param_groups"]}
    with pytest.raises(ValueError, match=rf"state '{key}' of parameter 0: shape \(5,\)"):
        target.load_state_dict(bad_shape)
    bad_type = {"state": {0: dict(good["state"][0], **{key: "zeros"})},
                "param_groups": good["param_groups"]}
    with pytest.raises(ValueError, match=f"state '{key}' of parameter 0"):
        target.load_state_dict(bad_type)
    bad_option = {"state": good["state"],
                  "param_groups": [dict(good["param_groups"][0], lr="fast")]}
    with pytest.raises(ValueError, match="option 'lr' of group 0"):
        target.load_state_dict(bad_option)
    with pytest.raises(ValueError, match="parameters \\[3\\]"):
        target.load_state_dict({"state": {3: {}}, "param_groups": good["param_groups"]})
    with pytest.raises(TypeError, match="'state' dict"):
        target.load_state_dict([1, 2])
    # nothing above changed the target; the good state loads and steps
    target.load_state_dict(good)
    w.grad = pdf.tensor(np.ones((2, 3), np.float32))
    target.step()


def test_nan_and_non_number_options_are_refused_naming_the_option():
    w = nn.Parameter(np.ones(2, np.float32))
    with pytest.raises(ValueError, match="SGD: option lr is NaN"):
        optim.SGD([w], lr=float("nan"))
    with pytest.raises(ValueError, match="Adam: option eps is NaN"):
        optim.Adam([w], eps=float("nan"))
    with pytest.raises(TypeError, match="SGD: option momentum must be a number"):
        optim.SGD([w], lr=0.1, momentum="high")
