"""Greedy generation on the real stories260K checkpoint, cache consistency, sampling."""
import os

import numpy as np
import pytest

from llama.loaders import load_checkpoint
from llama.model import Llama
from llama.sampling import Sampler, generate_ids


@pytest.fixture(scope="module")
def stories260k(llama_data):
    return load_checkpoint(os.path.join(llama_data, "stories260K.bin"))


def test_greedy_reproduces_run_c(stories260k, llama_data, kernels):
    """The compiled decode step (native) and the reference path of pydyfast's ops (numpy) both
    give run.c's 200 greedy ids."""
    with open(os.path.join(llama_data, "stories260K_greedy_ids.txt")) as f:
        expected = [int(line) for line in f if line.strip()]
    assert len(expected) == 200
    assert stories260k.config.n_kv_heads < stories260k.config.n_heads  # grouped-query attention
    assert stories260k.compiled == (kernels == "native")
    ids = list(generate_ids(stories260k, [1], 200, Sampler(temperature=0.0)))
    assert ids == expected


def test_prefill_equals_token_by_token(small_config, small_weights, dtype):
    model = Llama(small_config, small_weights, dtype)
    tokens = np.array([1, 4, 9, 16, 25, 36, 0])
    whole = model.logits(tokens)
    model.reset()
    one_by_one = np.concatenate([model.logits(tokens[i:i + 1]) for i in range(len(tokens))])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(whole, one_by_one, rtol=tol, atol=tol)
    assert whole.dtype == dtype


def test_forward_returns_tensor(small_config, small_weights, torch_reference):
    import pydyfast
    model = Llama(small_config, small_weights)
    with pydyfast.no_grad():
        out = model(pydyfast.tensor([1, 2, 3]))
    assert isinstance(out, pydyfast.Tensor) and out.shape == (3, 37)
    np.testing.assert_allclose(out.numpy(), torch_reference(small_config, small_weights, [1, 2, 3]),
                               rtol=2e-4, atol=2e-4)


def test_context_and_id_errors(small_config, small_weights):
    model = Llama(small_config, small_weights)
    with pytest.raises(ValueError, match="do not fit the context of 32"):
        model.logits(np.zeros(33, np.int64))
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 37\)"):
        model.logits(np.array([37]))
    with pytest.raises(ValueError, match="exceeds the context"):
        list(generate_ids(model, [1] * 40, 5, Sampler(0.0)))


def test_generation_stops_at_eos_and_max(small_config, small_weights):
    model = Llama(small_config, small_weights)
    greedy = list(generate_ids(model, [1], 10, Sampler(0.0)))
    assert len(greedy) == 10
    stopped = list(generate_ids(model, [1], 10, Sampler(0.0), eos_id=greedy[3]))
    assert stopped == greedy[:greedy.index(greedy[3]) + 1]
    full = list(generate_ids(model, [1, 2], 1000, Sampler(0.0)))
    assert len(full) == small_config.seq_len - 1  # the context ends generation


def test_sampler(small_config, small_weights):
    model = Llama(small_config, small_weights)
    a = list(generate_ids(model, [1], 20, Sampler(1.0, top_p=0.95, seed=7)))
    b = list(generate_ids(model, [1], 20, Sampler(1.0, top_p=0.95, seed=7)))
    assert a == b
    assert list(generate_ids(model, [1], 20, Sampler(0.8, top_k=1, seed=1))) == \
        list(generate_ids(model, [1], 20, Sampler(0.0)))
    logits = np.array([0.0, 5.0, 4.9, -3.0])
    draws = {Sampler(1.0, top_p=0.5, seed=s)(logits) for s in range(30)}
    assert draws == {1}  # token 1 alone holds more than half the probability
    draws = {Sampler(1.0, top_k=2, top_p=1.0, seed=s)(logits) for s in range(60)}
    assert draws == {1, 2}
    with pytest.raises(ValueError, match="top_p"):
        Sampler(top_p=0.0)
    with pytest.raises(ValueError, match="temperature"):
        Sampler(temperature=-1)
