"""pydyfast.pydynet's nn.functional, layers, optimizers, schedulers and data loader behave as
PyDyNet 1.1's: same inputs and weights, same values and gradients."""
import numpy as np
import pytest
from pydynet_reference import array, assert_like_torch, assert_same, pdf, pdn

rng = np.random.default_rng(1)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def one_hot(labels, c):
    return np.eye(c)[labels]


LABELS = np.array([0, 2, 1, 2])
FUNCTIONAL = {  # name: (call on a framework, input arrays)
    "relu": (lambda fw, x: fw.nn.functional.relu(x), (randn(3, 4),)),
    "sigmoid": (lambda fw, x: fw.nn.functional.sigmoid(x), (randn(3, 4),)),
    "tanh": (lambda fw, x: fw.nn.functional.tanh(x), (randn(3, 4),)),
    "silu": (lambda fw, x: fw.nn.functional.silu(x), (randn(3, 4),)),
    "leaky_relu": (lambda fw, x: fw.nn.functional.leaky_relu(x, 0.2), (randn(3, 4),)),
    "softmax axis": (lambda fw, x: fw.nn.functional.softmax(x, axis=1), (randn(3, 4),)),
    "softmax all": (lambda fw, x: fw.nn.functional.softmax(x), (randn(3, 4),)),
    "log_softmax": (lambda fw, x: fw.nn.functional.log_softmax(x, axis=1, keepdims=True),
                    (randn(3, 4),)),
    "log_softmax all": (lambda fw, x: fw.nn.functional.log_softmax(x), (randn(3, 4),)),
    "linear": (lambda fw, x, w, b: fw.nn.functional.linear(x, w, b),
               (randn(5, 3), randn(3, 4), randn(4))),
    "linear no bias": (lambda fw, x, w: fw.nn.functional.linear(x, w, None),
                       (randn(2, 5, 3), randn(3, 4))),
    "conv2d": (lambda fw, x, k: fw.nn.functional.conv2d(x, k, 1, 1),
               (randn(2, 3, 6, 5), randn(4, 3, 3, 3))),
    "conv2d stride": (lambda fw, x, k: fw.nn.functional.conv2d(x, k, padding=0, stride=2),
                      (randn(1, 2, 7, 7), randn(3, 2, 3, 3))),
    "max_pool2d": (lambda fw, x: fw.nn.functional.max_pool2d(x, 2, 2), (randn(2, 3, 6, 4),)),
    "avg_pool2d": (lambda fw, x: fw.nn.functional.avg_pool2d(x, 2, 2), (randn(2, 3, 6, 4),)),
    "mse_loss": (lambda fw, x, y: fw.nn.functional.mse_loss(x, y), (randn(3, 4), randn(3, 4))),
    "mse_loss sum": (lambda fw, x, y: fw.nn.functional.mse_loss(x, y, reduction="sum"),
                     (randn(3, 4), randn(3, 4))),
    "nll_loss": (lambda fw, x, y: fw.nn.functional.nll_loss(x, y),
                 (randn(4, 3), one_hot(LABELS, 3))),
    "cross_entropy_loss indices": (
        lambda fw, x, y: fw.nn.functional.cross_entropy_loss(x, y), (randn(4, 3), LABELS)),
    "cross_entropy_loss probabilities": (
        lambda fw, x, y: fw.nn.functional.cross_entropy_loss(x, y, reduction="sum"),
        (randn(4, 3), one_hot(LABELS, 3) * 0.7 + 0.1)),
    "embedding": (lambda fw, i, w: fw.nn.functional.embedding(i, w, None),
                  (np.array([[0, 3], [2, 1]]), randn(5, 3))),
    "embedding padding": (lambda fw, i, w: fw.nn.functional.embedding(i, w, 3),
                          (np.array([[0, 3], [2, 1]]), randn(5, 3))),
}

# PyDyNet 1.1 gets these wrong: conv1d fails its own matmul, 1-d pooling returns the wrong
# length, embedding overwrites instead of accumulating the gradient of a repeated index.
# They are compared with torch instead.
TORCH_CASES = {
    "conv1d": (lambda fw, x, k: fw.nn.functional.conv1d(x, k, 1, 2),
               lambda t, x, k: t.nn.functional.conv1d(x, k, stride=2, padding=1),
               (randn(2, 3, 9), randn(4, 3, 3))),
    "max_pool1d": (lambda fw, x: fw.nn.functional.max_pool1d(x, 2, 2),
                   lambda t, x: t.nn.functional.max_pool1d(x, 2, 2), (randn(2, 3, 8),)),
    "avg_pool1d": (lambda fw, x: fw.nn.functional.avg_pool1d(x, 3, 1),
                   lambda t, x: t.nn.functional.avg_pool1d(x, 3, 1), (randn(2, 3, 8),)),
    "embedding repeated index": (lambda fw, i, w: fw.nn.functional.embedding(i, w, None),
                                 lambda t, i, w: t.nn.functional.embedding(i, w),
                                 (np.array([[0, 3], [2, 3]]), randn(5, 3))),
}


@pytest.mark.parametrize("name", TORCH_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_where_pydynet_is_wrong(name, dtype):
    fn, torch_fn, inputs = TORCH_CASES[name]
    inputs = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    assert_like_torch(fn, torch_fn, *inputs)


@pytest.mark.parametrize("name", FUNCTIONAL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional(name, dtype):
    fn, inputs = FUNCTIONAL[name]
    inputs = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    assert_same(fn, *inputs, rtol=1e-4, atol=1e-5)


def test_pydyfast_cross_entropy_loss_is_pydynets():
    """The PyDyNet-only name in pydyfast itself has PyDyNet's meaning."""
    import pydyfast.nn.functional as F
    assert F.cross_entropy_loss is pdf.nn.functional.cross_entropy_loss
    with pytest.raises(ValueError, match="cross_entropy_loss: reduction"):
        F.cross_entropy_loss(pdf.Tensor(randn(2, 3)), pdf.Tensor([0, 1]), reduction="none")


def _copy_parameters(ours, ref, names):
    """Give our layer PyDyNet's initial values (attribute names: ours -> PyDyNet's)."""
    for mine, theirs in names.items():
        target = getattr(ours, mine)
        target.data[...] = array(getattr(ref, theirs)).reshape(target.shape)


LAYERS = {  # name: (constructor on a framework, parameter names ours -> PyDyNet's, input)
    "Linear": (lambda nn: nn.Linear(3, 4), {"weight": "weight", "bias": "bias"}, randn(5, 3)),
    "Linear no bias": (lambda nn: nn.Linear(3, 4, False), {"weight": "weight"}, randn(2, 3)),
    "Conv2d": (lambda nn: nn.Conv2d(2, 3, 3, 2, 1), {"weight": "weight", "bias": "bias"},
               randn(2, 2, 7, 6)),
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(4), {"weight": "scale", "bias": "shift"},
                    randn(6, 4)),
    "RMSNorm": (lambda nn: nn.RMSNorm(4), {"weight": "weight"}, randn(3, 4)),
    "LeakyReLU": (lambda nn: nn.LeakyReLU(), {}, randn(3, 4)),
    "Softmax": (lambda nn: nn.Softmax(), {}, randn(3, 4)),
    "Softmax axis": (lambda nn: nn.Softmax(axis=0), {}, randn(3, 4)),
    "MaxPool2d": (lambda nn: nn.MaxPool2d(2, 2, 0), {}, randn(1, 2, 4, 4)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer(name):
    make, names, x = LAYERS[name]
    ours, ref = make(pdf.nn), make(pdn.nn)
    _copy_parameters(ours, ref, names)
    assert_same(lambda fw, t: (ours if fw is pdf else ref)(t), x, rtol=1e-5, atol=1e-6)


def test_dropout_in_eval_mode_is_the_identity():
    """(PyDyNet's eval() also switches gradients off everywhere; pydyfast's does not.)"""
    ours, ref = pdf.nn.Dropout(0.5).eval(), pdn.nn.Dropout(0.5)
    ref.eval()
    x = randn(3, 4)
    np.testing.assert_array_equal(array(ours(pdf.Tensor(x))), array(ref(pdn.Tensor(x))))
    assert pdf.autograd.is_grad_enable()


def test_layer_parameters_are_float64_by_default_and_take_dtype_device():
    for fw in (pdf, pdn):
        assert fw.nn.Linear(2, 3).weight.dtype == np.float64
        layer = fw.nn.Conv2d(1, 2, 3, dtype=np.float32, device="cpu")
        assert layer.weight.dtype == np.float32
    assert isinstance(pdf.nn.Linear(2, 3).weight, pdf.nn.Parameter)


def test_linear_weight_layout_is_in_by_out():
    assert pdf.nn.Linear(3, 4).weight.shape == pdn.nn.Linear(3, 4).weight.shape == (3, 4)


def test_embedding_layer():
    ours, ref = pdf.nn.Embedding(6, 3, padding_idx=0), pdn.nn.Embedding(6, 3, padding_idx=0)
    ours.weight.data[...] = array(ref.weight)
    idx = np.array([[1, 0], [5, 2]])
    np.testing.assert_allclose(array(ours(pdf.Tensor(idx))), array(ref(pdn.Tensor(idx))))


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_output_and_state_layouts(cls, batch_first, layers):
    x = randn(4, 7, 3) if batch_first else randn(7, 4, 3)
    results = []
    for fw in (pdf, pdn):
        out, state = getattr(fw.nn, cls)(3, 5, num_layers=layers, batch_first=batch_first)(
            fw.Tensor(x))
        states = state if isinstance(state, tuple) else (state,)
        results.append((out.shape, [s.shape for s in states], out.dtype))
    assert results[0] == results[1]


def test_recurrent_state_layout_is_the_one_pytorch_gives_in_pydyfast():
    gru = pdf.nn.GRU(3, 5, num_layers=2, batch_first=True)
    import pydyfast
    assert isinstance(gru, pydyfast.nn.GRU)
    _, h = pydyfast.nn.GRU.forward(gru, pdf.Tensor(randn(4, 7, 3)))
    assert h.shape == (2, 4, 5)
    _, h = gru(pdf.Tensor(randn(4, 7, 3)))
    assert h.shape == (4, 2, 5)


@pytest.mark.parametrize("cls", ["RNNCell", "GRUCell", "LSTMCell"])
def test_recurrent_cells(cls):
    results = []
    for fw in (pdf, pdn):
        out = getattr(fw.nn, cls)(3, 5)(fw.Tensor(randn(4, 3)))
        out = out if isinstance(out, tuple) else (out,)
        results.append([(o.shape, o.dtype) for o in out])
    assert results[0] == results[1]


@pytest.mark.parametrize("loss", ["MSELoss", "NLLLoss", "CrossEntropyLoss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_modules(loss, reduction):
    target = LABELS if loss == "CrossEntropyLoss" else one_hot(LABELS, 3)
    layers = {fw: getattr(fw.nn, loss)(reduction) for fw in (pdf, pdn)}
    assert_same(lambda fw, x, y: layers[fw](x, y), randn(4, 3), target)
    with pytest.raises(ValueError, match="reduction must be"):
        getattr(pdf.nn, loss)("none")


OPTIMIZERS = {
    "SGD defaults": lambda optim, p: optim.SGD(p, lr=0.1),
    "SGD plain": lambda optim, p: optim.SGD(p, 0.1, momentum=0, nesterov=False),
    "SGD momentum": lambda optim, p: optim.SGD(p, 0.1, momentum=0.9, nesterov=False),
    "SGD nesterov without momentum": lambda optim, p: optim.SGD(p, 0.1, momentum=0),
    "SGD weight decay": lambda optim, p: optim.SGD(p, 0.1, weight_decay=0.01),
    "Adam": lambda optim, p: optim.Adam(p, lr=0.01),
    "Adam weight decay": lambda optim, p: optim.Adam(p, lr=0.01, weight_decay=0.1),
    "Adagrad": lambda optim, p: optim.Adagrad(p, lr=0.1),
    "Adadelta": lambda optim, p: optim.Adadelta(p),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps(name):
    start = randn(3, 2)
    params = {}
    for fw in (pdf, pdn):
        w = fw.nn.Parameter(fw.Tensor(start.copy()))
        opt = OPTIMIZERS[name](fw.optim, [w])
        for _ in range(4):
            opt.zero_grad()
            ((w * w).sum() + w.sum()).backward()
            opt.step()
        params[fw] = array(w)
    # Adam and Adagrad place eps slightly differently from PyDyNet (PyTorch's way): 1e-8 apart.
    np.testing.assert_allclose(params[pdf], params[pdn], rtol=1e-5, atol=1e-8)


SCHEDULERS = {
    "StepLR": lambda optim, o: optim.StepLR(o, 2, gamma=0.5),
    "MultiStepLR": lambda optim, o: optim.MultiStepLR(o, [1, 3], gamma=0.1),
    "ExponentialLR": lambda optim, o: optim.ExponentialLR(o, gamma=0.1),
    "CosineAnnealingLR": lambda optim, o: optim.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_learning_rates_are_pytorchs(name):
    """PyDyNet 1.1's schedulers compound the factor onto the previous rate at every step (a
    bug, not reproduced): the namespace gives PyTorch's schedules, same names and arguments."""
    import torch
    rates = {}
    for optim, opt in ((pdf.optim, pdf.optim.SGD([pdf.nn.Parameter(pdf.Tensor(randn(2)))],
                                                  lr=0.1)),
                       (torch.optim, torch.optim.SGD([torch.zeros(2, requires_grad=True)],
                                                     lr=0.1))):
        scheduler = SCHEDULERS[name](getattr(optim, "lr_scheduler", optim), opt)
        rates[optim] = []
        for _ in range(7):
            opt.step()
            scheduler.step()
            rates[optim].append(scheduler.get_last_lr()[0])
    np.testing.assert_allclose(rates[pdf.optim], rates[torch.optim], rtol=1e-12)


def test_scheduler_names_at_optim_level():
    import pydyfast
    for name in SCHEDULERS:
        assert getattr(pdf.optim, name) is getattr(pydyfast.optim.lr_scheduler, name) or \
            issubclass(getattr(pdf.optim, name), getattr(pydyfast.optim.lr_scheduler, name))
        assert getattr(pydyfast.optim, name) is getattr(pydyfast.optim.lr_scheduler, name)
    opt = pdf.optim.Adam([pdf.nn.Parameter(pdf.Tensor(randn(2)))], lr=1.0)
    pdf.optim.ExponentialLR(opt).step()  # PyDyNet's default gamma, 0.1
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)


@pytest.mark.parametrize("batch_size,n", [(3, 10), (5, 10), (4, 1)])
def test_data_loader_batches(batch_size, n):
    X, y = randn(n, 2), np.arange(n)
    batches = {fw: [(array(a), array(b)) for a, b in fw.data.data_loader(
        fw.Tensor(X), fw.Tensor(y), batch_size)] for fw in (pdf, pdn)}
    assert len(batches[pdf]) == len(batches[pdn])
    for (a, b), (c, d) in zip(batches[pdf], batches[pdn]):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
