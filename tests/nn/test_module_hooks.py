"""Module hooks and utilities against torch: forward pre-hooks, forward hooks, full backward
hooks (grad_input/grad_output, replacement, handles), get_submodule/get_parameter/get_buffer,
register_module, half/float/double/to, and the device=/dtype= keywords of every layer."""
import numpy as np
import pytest

import pydyfast as pdf
from pydyfast import nn

from conftest import tolerances
from oracle import compare_outputs, torch  # skips this module when PyTorch is missing

DTYPES = [np.float32, np.float64]


def _mlp(lib, dtype):
    """The same small model in both frameworks, with equal weights."""
    base = nn if lib is pdf else torch.nn
    kind = getattr(lib, np.dtype(dtype).name)
    model = base.Sequential(base.Linear(3, 4, dtype=kind), base.Tanh(),
                            base.Linear(4, 2, dtype=kind))
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype)))
    return model


def _flat(log):
    """A hook log (nested lists and tuples of tags, Tensors and None) as one flat list."""
    if isinstance(log, (list, tuple)):
        return [item for entry in log for item in _flat(entry)]
    return [log]


def _run(lib, dtype, register, input_requires_grad=True):
    """Build the model, let ``register(model, log)`` add hooks, run forward and backward; returns
    the log, the output, the input's gradient and the parameters' gradients as one flat list."""
    model = _mlp(lib, dtype)
    log = []
    register(model, log)
    x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3).astype(dtype),
                   requires_grad=input_requires_grad)
    out = model(x)
    out.sum().backward()
    return _flat(log) + [out, x.grad] + [p.grad for p in model.parameters()]


def _compare(register, dtype, **kw):
    ours, theirs = _run(pdf, dtype, register, **kw), _run(torch, dtype, register, **kw)
    compare_outputs(ours, theirs, tolerances(dtype), "hook log, output and gradients")


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_hooks_see_inputs_and_outputs_and_may_replace_them(dtype):
    def register(model, log):
        model[0].register_forward_pre_hook(lambda m, args: log.append(("pre", args[0])))
        model[0].register_forward_hook(lambda m, args, out: log.append(("fwd", out)))
        model[1].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[1].register_forward_pre_hook(lambda m, args: args[0] + 1)  # a single value
        model[2].register_forward_hook(lambda m, args, out: out * 3)
    _compare(register, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hooks_with_kwargs_and_prepend(dtype):
    def register(model, log):
        lin = model[0]
        lin.register_forward_hook(lambda m, args, out: log.append("second") or None)
        lin.register_forward_hook(lambda m, args, out: log.append("first"), prepend=True)
        lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] - 1,), kwargs),
                                      with_kwargs=True)
        lin.register_forward_hook(lambda m, args, kwargs, out: out / 2, with_kwargs=True)
    _compare(register, dtype)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # torch's, no input grad
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_get_torchs_gradients(dtype, input_requires_grad):
    def register(model, log):
        for i in (0, 2):
            model[i].register_full_backward_hook(
                lambda m, gi, go, i=i: log.append((str(i), list(gi), list(go))))
        model.register_full_backward_hook(lambda m, gi, go: log.append(("all", list(gi),
                                                                        list(go))))
    _compare(register, dtype, input_requires_grad=input_requires_grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_pre_hooks_see_and_may_replace_grad_output(dtype):
    def register(model, log):
        model[2].register_full_backward_pre_hook(lambda m, go: log.append(list(go)))
        model[1].register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        model[0].register_full_backward_hook(lambda m, gi, go: log.append((list(gi), list(go))))
    _compare(register, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_backward_hook_may_replace_grad_input(dtype):
    def register(model, log):
        model[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0].clamp(-0.1, 0.1),))
    _compare(register, dtype)


def test_backward_hook_grad_input_spans_positional_arguments():
    logs = []
    for lib in (pdf, torch):
        base = nn if lib is pdf else torch.nn

        class Mix(base.Module):
            def forward(self, a, k, b):
                return a * k + b, b * 2

        log = []
        m = Mix()
        m.register_full_backward_hook(lambda mod, gi, go: log.append((list(gi), list(go))))
        a = lib.ones(2, requires_grad=True)
        out = m(a, 3.0, lib.ones(2))
        out[0].sum().backward()
        logs.append(_flat(log))
    compare_outputs(logs[0], logs[1], tolerances(np.float32), "hook log")


def test_handles_remove_hooks_and_work_as_context_managers():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_forward_hook(lambda m, a, o: calls.append(1))
    with lin.register_forward_pre_hook(lambda m, a: calls.append(0)):
        lin(pdf.ones(1, 2))
    lin(pdf.ones(1, 2))
    handle.remove()
    handle.remove()  # idempotent, as torch's
    lin(pdf.ones(1, 2))
    assert calls == [0, 1, 1]
    back = lin.register_full_backward_hook(lambda m, gi, go: calls.append(2))
    back.remove()
    lin(pdf.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == [0, 1, 1]


def test_no_backward_hook_runs_without_a_graph():
    lin = nn.Linear(2, 2)
    calls = []
    lin.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with pdf.no_grad():
        out = lin(pdf.ones(1, 2))
    assert out.grad_fn is None and calls == []


def test_bad_hooks_raise():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="register_forward_hook: expected a callable"):
        lin.register_forward_hook(3)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="returned 2 gradients for grad_input, expected 1"):
        lin(pdf.ones(1, 2, requires_grad=True)).sum().backward()
    bad_pre = nn.Linear(2, 2)
    bad_pre.register_forward_pre_hook(lambda m, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        bad_pre(pdf.ones(1, 2))


# --------------------------------------------------------------------- module utilities
def _tree(lib):
    base = nn if lib is pdf else torch.nn
    model = base.Sequential(base.Linear(2, 3), base.BatchNorm1d(3))
    model.register_module("head", base.Linear(3, 1))
    return model


@pytest.mark.parametrize("call", [
    lambda m: m.get_submodule("1"), lambda m: m.get_submodule(""),
    lambda m: m.get_submodule("head"), lambda m: m.get_parameter("0.weight"),
    lambda m: m.get_parameter("head.bias"), lambda m: m.get_buffer("1.running_var"),
    lambda m: m.get_buffer("1.num_batches_tracked"),
])
def test_get_members_match_torch(call):
    ours, theirs = call(_tree(pdf)), call(_tree(torch))
    if isinstance(theirs, torch.nn.Module):
        assert type(ours).__name__ == type(theirs).__name__
    else:
        compare_outputs(ours, theirs, None, values=False)  # the values are random inits


@pytest.mark.parametrize("call", [
    lambda m: m.get_submodule("0.foo"), lambda m: m.get_submodule("5"),
    lambda m: m.get_submodule("0.weight"), lambda m: m.get_parameter("1"),
    lambda m: m.get_parameter("1.running_mean"), lambda m: m.get_buffer("0.weight"),
    lambda m: m.get_buffer("nope.x"),
])
def test_get_members_errors_match_torch(call):
    with pytest.raises(AttributeError) as theirs:
        call(_tree(torch))
    with pytest.raises(AttributeError) as ours:
        call(_tree(pdf))
    assert str(ours.value) == str(theirs.value)


def test_register_module_registers_like_add_module():
    model = _tree(pdf)
    assert list(dict(model.named_children())) == ["0", "1", "head"]
    assert "head.weight" in model.state_dict()


@pytest.mark.parametrize("method,dtype", [("half", np.float16), ("double", np.float64),
                                          ("float", np.float32)])
def test_half_double_float_cast_floating_state_only(method, dtype):
    model = _tree(pdf).double() if method == "float" else _tree(pdf)
    params = list(model.parameters())
    assert getattr(model, method)() is model
    assert all(p.dtype == dtype for p in model.parameters())
    assert model.get_buffer("1.num_batches_tracked").dtype == np.int64
    assert all(a is b for a, b in zip(params, model.parameters()))  # the same Parameter objects


def test_to_takes_a_dtype_a_tensor_and_refuses_integer_dtypes():
    model = _tree(pdf)
    assert model.to(pdf.float64).get_parameter("0.weight").dtype == np.float64
    model.to(pdf.ones(1, dtype=pdf.float32))
    assert model.get_parameter("head.bias").dtype == np.float32
    for lib, m in ((torch, _tree(torch)), (pdf, model)):
        with pytest.raises(TypeError, match="only accepts floating point"):
            m.to(lib.int64)


# ----------------------------------------------------------------- dtype= / device= keywords
LAYERS = {
    "Linear": lambda base, kw: base.Linear(3, 4, **kw),
    "Bilinear": lambda base, kw: base.Bilinear(2, 3, 4, **kw),
    "Conv1d": lambda base, kw: base.Conv1d(2, 3, 3, **kw),
    "Conv2d": lambda base, kw: base.Conv2d(2, 3, 3, **kw),
    "ConvTranspose2d": lambda base, kw: base.ConvTranspose2d(2, 3, 3, **kw),
    "BatchNorm1d": lambda base, kw: base.BatchNorm1d(3, **kw),
    "BatchNorm2d": lambda base, kw: base.BatchNorm2d(3, **kw),
    "LayerNorm": lambda base, kw: base.LayerNorm((2, 3), **kw),
    "RMSNorm": lambda base, kw: base.RMSNorm(3, **kw),
    "GroupNorm": lambda base, kw: base.GroupNorm(2, 4, **kw),
    "Embedding": lambda base, kw: base.Embedding(5, 3, padding_idx=1, **kw),
    "RNN": lambda base, kw: base.RNN(2, 3, num_layers=2, bidirectional=True, **kw),
    "LSTM": lambda base, kw: base.LSTM(2, 3, **kw),
    "GRU": lambda base, kw: base.GRU(2, 3, bias=False, **kw),
    "RNNCell": lambda base, kw: base.RNNCell(2, 3, **kw),
    "LSTMCell": lambda base, kw: base.LSTMCell(2, 3, **kw),
    "GRUCell": lambda base, kw: base.GRUCell(2, 3, **kw),
    "MultiheadAttention": lambda base, kw: base.MultiheadAttention(4, 2, **kw),
    "TransformerEncoderLayer": lambda base, kw: base.TransformerEncoderLayer(4, 2, 8, **kw),
}


def _state_dtypes(model):
    return {k: str(v.numpy().dtype if hasattr(v, "numpy") else v.dtype)
            for k, v in model.state_dict().items()}


@pytest.mark.parametrize("dtype", ["float64", "float32", None])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_take_dtype_and_device_keywords_as_torch(name, dtype):
    ours = LAYERS[name](nn, {"dtype": getattr(pdf, dtype) if dtype else None, "device": "cpu"})
    theirs = LAYERS[name](torch.nn, {"dtype": getattr(torch, dtype) if dtype else None,
                                     "device": "cpu"})
    assert _state_dtypes(ours) == _state_dtypes(theirs)
    assert all(p.device == pdf.device("cpu") for p in ours.parameters())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_refuse_a_non_floating_dtype(name):
    with pytest.raises(TypeError, match=f"{name}: dtype must be a floating dtype"):
        LAYERS[name](nn, {"dtype": pdf.int64})


def test_a_float64_layer_trains_in_float64():
    model = nn.Linear(3, 2, dtype=pdf.float64)
    out = model(pdf.ones(4, 3, dtype=pdf.float64))
    out.sum().backward()
    assert out.dtype == np.float64 and model.weight.grad.dtype == np.float64
