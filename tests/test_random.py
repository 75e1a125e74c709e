"""Generator objects, generator= everywhere torch takes it, multinomial, bernoulli and the
*_like samplers, against torch's shapes, dtypes, distributions and errors."""
import numpy as np
import pytest

import pydyfast as pdf
from pydyfast import data

from oracle import compare_outputs, torch

FACTORIES = {
    "rand": lambda lib, g: lib.rand(2, 3, generator=g),
    "randn": lambda lib, g: lib.randn((2, 3), generator=g),
    "randint": lambda lib, g: lib.randint(0, 10, (4,), generator=g),
    "randint-high-size": lambda lib, g: lib.randint(10, (4,), generator=g),
    "randperm": lambda lib, g: lib.randperm(6, generator=g),
    "multinomial": lambda lib, g: lib.multinomial(lib.ones(3, 5), 2, generator=g),
    "bernoulli": lambda lib, g: lib.bernoulli(lib.full((3, 4), 0.5), generator=g),
    "Tensor.multinomial": lambda lib, g: lib.ones(3, 5).multinomial(4, True, generator=g),
    "Tensor.bernoulli": lambda lib, g: lib.full((3, 4), 0.5).bernoulli(generator=g),
    "rand_like": lambda lib, g: lib.rand_like(lib.ones(2, 2, dtype=lib.float64)),
    "randn_like": lambda lib, g: lib.randn_like(lib.ones(2, 2)),
    "randint_like": lambda lib, g: lib.randint_like(lib.ones(2, 2), 5),
    "randint_like-low-high": lambda lib, g: lib.randint_like(lib.ones(2, 2), 3, 5),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_random_factories_match_torch_in_shape_dtype_and_range(name):
    make = FACTORIES[name]
    ours = make(pdf, pdf.Generator().manual_seed(1))
    theirs = make(torch, torch.Generator().manual_seed(1))
    compare_outputs(ours, theirs, None, values=False)
    values = ours.numpy()
    assert np.isfinite(values).all() and ("randn" in name or (values >= 0).all())


@pytest.mark.parametrize("name", [n for n in FACTORIES if "_like" not in n])
def test_a_seeded_generator_replays_and_leaves_the_global_stream_alone(name):
    make = FACTORIES[name]
    g = pdf.Generator().manual_seed(7)
    pdf.manual_seed(0)
    first = make(pdf, g).numpy()
    after_global = pdf.rand(4).numpy()
    pdf.manual_seed(0)
    assert np.array_equal(pdf.rand(4).numpy(), after_global)  # g did not consume global draws
    assert np.array_equal(make(pdf, pdf.Generator().manual_seed(7)).numpy(), first)
    g.manual_seed(7)
    assert np.array_equal(make(pdf, g).numpy(), first)


def test_generator_api_matches_torch():
    g = pdf.Generator()
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert pdf.manual_seed(5) is pdf.default_generator and pdf.initial_seed() == 5
    state = g.get_state()
    a = pdf.rand(3, generator=g).numpy()
    g.set_state(state)
    assert np.array_equal(pdf.rand(3, generator=g).numpy(), a)
    assert isinstance(g.seed(), int)
    assert g.manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()


def test_a_bad_generator_is_refused_by_name():
    with pytest.raises(TypeError, match="randn: generator must be a pydyfast.Generator"):
        pdf.randn(2, generator=3)
    with pytest.raises(TypeError, match="manual_seed: expected an int seed"):
        pdf.Generator().manual_seed("x")
    with pytest.raises(TypeError):
        torch.randn(2, generator=3)


def test_dataloader_shuffles_with_a_generator_and_reseeding_replays():
    ds = data.TensorDataset(pdf.arange(10))
    g = pdf.Generator().manual_seed(2)
    loader = data.DataLoader(ds, batch_size=10, shuffle=True, generator=g)
    first = next(iter(loader))[0].numpy()
    second = next(iter(loader))[0].numpy()
    g.manual_seed(2)
    assert np.array_equal(next(iter(loader))[0].numpy(), first)
    assert sorted(first) == list(range(10)) and not np.array_equal(first, second)
    order = list(data.RandomSampler(range(5), generator=pdf.Generator().manual_seed(1)))
    assert order == list(data.RandomSampler(range(5), generator=pdf.Generator().manual_seed(1)))
    parts = data.random_split(range(6), [3, 3], generator=pdf.Generator().manual_seed(1))
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(6))


INITS = ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
         "kaiming_normal_", "orthogonal_"]


@pytest.mark.parametrize("name", INITS)
def test_init_functions_take_a_generator_as_torch(name):
    fill = getattr(pdf.nn.init, name)
    pdf.manual_seed(0)
    a = fill(pdf.zeros(3, 4), generator=pdf.Generator().manual_seed(9)).numpy()
    b = fill(pdf.zeros(3, 4), generator=pdf.Generator().manual_seed(9)).numpy()
    after = pdf.rand(2).numpy()
    pdf.manual_seed(0)
    assert np.array_equal(a, b) and np.array_equal(pdf.rand(2).numpy(), after)
    getattr(torch.nn.init, name)(torch.zeros(3, 4), generator=torch.Generator())  # same keyword
    with pytest.raises(TypeError, match=f"{name}: generator must be"):
        fill(pdf.zeros(3, 4), generator="seed")


# ---------------------------------------------------------------------------- multinomial
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_follows_the_distribution(dtype, replacement):
    weights = np.array([0.0, 1.0, 3.0, 0.0, 6.0], dtype)  # unnormalised, with zero entries
    rows = 4000
    p = pdf.tensor(np.tile(weights, (rows, 1)))
    out = pdf.multinomial(p, 2, replacement=replacement, generator=pdf.Generator().manual_seed(0))
    ref = torch.multinomial(torch.tensor(np.tile(weights, (rows, 1))), 2, replacement=replacement)
    compare_outputs(out, ref, None, values=False)
    first = np.bincount(out.numpy()[:, 0], minlength=5) / rows
    np.testing.assert_allclose(first, weights / weights.sum(), atol=0.03)  # ~6 sigma at 4000
    assert not np.isin(out.numpy(), [0, 3]).any()  # weight 0 is never drawn
    if not replacement:
        assert (out.numpy()[:, 0] != out.numpy()[:, 1]).all()
        # the second draw excludes the first: P(second = 2 | first = 4) = 3 / 4
        second = out.numpy()[out.numpy()[:, 0] == 4, 1]
        assert abs((second == 2).mean() - 0.75) < 0.05


def test_multinomial_shapes_as_torch():
    cases = [((5,), 3, False), ((5,), 7, True), ((1, 4), 4, False), ((2, 1), 3, True)]
    for shape, k, repl in cases:
        a = np.ones(shape, np.float32)
        ours = pdf.multinomial(pdf.tensor(a), k, replacement=repl)
        theirs = torch.multinomial(torch.tensor(a), k, replacement=repl)
        compare_outputs(ours, theirs, None, values=False)
        assert (ours.numpy() < shape[-1]).all()
    assert sorted(pdf.multinomial(pdf.ones(6), 6).tolist()) == list(range(6))


MULTINOMIAL_BAD = [
    ("negative weight", lambda lib: lib.multinomial(lib.tensor([0.5, -1.0]), 1), "< 0"),
    ("nan weight", lambda lib: lib.multinomial(lib.tensor([0.5, float("nan")]), 1), "nan"),
    ("rows summing to 0", lambda lib: lib.multinomial(lib.zeros(2, 3), 1), "sums to 0"),
    ("too many without replacement", lambda lib: lib.multinomial(lib.ones(3), 4), "> 3"),
    ("zero samples", lambda lib: lib.multinomial(lib.ones(3), 0), "<= 0"),
    ("3-d input", lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1), "1 or 2 dim"),
]


@pytest.mark.parametrize("what,call,message", MULTINOMIAL_BAD, ids=[b[0] for b in MULTINOMIAL_BAD])
def test_multinomial_bad_inputs_raise_as_in_torch(what, call, message):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=f"multinomial: .*{message}"):
        call(pdf)


# ------------------------------------------------------------------------------ bernoulli
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_draws_zeros_and_ones_with_the_given_probabilities(dtype):
    probs = np.array([0.0, 0.25, 0.9, 1.0], dtype)
    p = pdf.tensor(np.tile(probs, (5000, 1)))
    out = pdf.bernoulli(p)
    ref = torch.bernoulli(torch.tensor(np.tile(probs, (5000, 1))))
    compare_outputs(out, ref, None, values=False)
    assert set(np.unique(out.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(out.numpy().mean(axis=0), probs, atol=0.03)
    scalar_p = pdf.bernoulli(pdf.zeros(20000, dtype=dtype), 0.3)
    assert abs(scalar_p.numpy().mean() - 0.3) < 0.02


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_gradient_is_zero_as_in_torch(dtype):
    a = np.array([0.2, 0.7], dtype)
    x, xt = pdf.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    pdf.bernoulli(x * 1).sum().backward()
    torch.bernoulli(xt * 1).sum().backward()
    compare_outputs(x.grad, xt.grad, dict(rtol=0, atol=0), "grad")


def test_bernoulli_bad_inputs_raise_as_in_torch():
    for call in (lambda lib: lib.bernoulli(lib.tensor([1.5])),
                 lambda lib: lib.bernoulli(lib.tensor([1, 0]))):
        with pytest.raises((RuntimeError, TypeError)):
            call(torch)
        with pytest.raises((ValueError, TypeError), match="bernoulli"):
            call(pdf)
    with pytest.raises(ValueError, match="0 <= p <= 1"):
        pdf.bernoulli(pdf.zeros(2), 2.0)


def test_like_samplers_take_dtype_device_and_requires_grad():
    x = pdf.zeros(2, 3, dtype=pdf.float64)
    assert pdf.rand_like(x).dtype == np.float64 and pdf.randn_like(x, dtype=pdf.float32).dtype \
        == np.float32
    r = pdf.rand_like(x, requires_grad=True, device="cpu")
    assert r.requires_grad and r.device == pdf.device("cpu")
    assert pdf.randint_like(pdf.zeros(3, dtype=pdf.int32), 4).dtype == np.int32
    with pytest.raises(TypeError, match="rand_like: expected a floating dtype"):
        pdf.rand_like(pdf.zeros(2, dtype=pdf.int64))
    with pytest.raises(ValueError, match="randint_like: expected low < high"):
        pdf.randint_like(x, 5, 2)
