"""Fixtures of the llama tests: the real data folder, a small test shape, and an independent
plain-PyTorch Llama forward (no cache, whole sequence, causal) as the oracle."""
import os

import numpy as np
import pytest
import torch

from llama.model import LlamaConfig, random_weights

DATA_VAR = "PYDYFAST_LLAMA_DATA"


@pytest.fixture(scope="session")
def llama_data():
    """The folder of ../shared/llama (stories260K.bin, tokenizer.bin, tokenizer.model)."""
    path = os.environ.get(DATA_VAR)
    if not path:
        pytest.skip(f"{DATA_VAR} is not set (CI sets it to ../shared/llama)")
    if not os.path.isdir(path):
        pytest.fail(f"{DATA_VAR}={path} is not a folder")
    return path


@pytest.fixture
def small_config():
    """Grouped-query attention (6 heads over 2 kv heads), odd hidden size, unshared classifier."""
    return LlamaConfig(dim=48, hidden_dim=100, n_layers=2, n_heads=6, n_kv_heads=2,
                       vocab_size=37, seq_len=32, shared_classifier=False)


@pytest.fixture
def small_weights(small_config):
    """Random weights with non-trivial norms (not all ones), llama2.c names, interleaved rotary."""
    w = random_weights(small_config, seed=3)
    rng = np.random.default_rng(4)
    for name, value in w.items():
        if value.ndim == 1:
            w[name] = (1 + 0.3 * rng.standard_normal(value.shape)).astype(np.float32)
        else:
            w[name] = value * np.float32(10)  # std 0.2: logits that differ clearly
    return w


def _rotary(x, theta, interleaved):
    """x (T, heads, hd): rotate pairs at angle p * theta^(-2j/hd); interleaved pairs (2j, 2j+1)
    as llama2.c, else Hugging Face's halves (j, j + hd/2)."""
    t, _, hd = x.shape
    freq = theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angle = torch.outer(torch.arange(t, dtype=torch.float64), freq)[:, None, :]
    if interleaved:
        z = torch.view_as_complex(x.double().reshape(t, -1, hd // 2, 2).contiguous())
        return torch.view_as_real(z * torch.polar(torch.ones_like(angle), angle)).reshape(x.shape)
    cos, sin = torch.cat([angle.cos()] * 2, -1), torch.cat([angle.sin()] * 2, -1)
    x = x.double()
    rotated = torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    return x * cos + rotated * sin


def torch_logits(config, w, tokens, interleaved=True):
    """Logits (T, vocab), float64 numpy; ``w`` has llama2.c names (``output`` optional)."""
    c = config
    w = {k: torch.from_numpy(np.asarray(v, np.float64)) for k, v in w.items()}
    hd = c.dim // c.n_heads

    def norm(x, weight):
        return torch.nn.functional.rms_norm(x, (c.dim,), weight, c.norm_eps)
    x = w["tok_embeddings"][torch.as_tensor(tokens)]
    t = x.shape[0]
    for i in range(c.n_layers):
        p = f"layers.{i}."
        h = norm(x, w[p + "attention_norm"])
        q = _rotary((h @ w[p + "wq"].T).reshape(t, c.n_heads, hd), c.rope_theta, interleaved)
        k = _rotary((h @ w[p + "wk"].T).reshape(t, c.n_kv_heads, hd), c.rope_theta, interleaved)
        v = (h @ w[p + "wv"].T).reshape(t, c.n_kv_heads, hd)
        att = torch.nn.functional.scaled_dot_product_attention(
            q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), is_causal=True,
            enable_gqa=True)
        x = x + att.transpose(0, 1).reshape(t, c.dim) @ w[p + "wo"].T
        h = norm(x, w[p + "ffn_norm"])
        x = x + (torch.nn.functional.silu(h @ w[p + "w1"].T) * (h @ w[p + "w3"].T)) @ w[p + "w2"].T
    return (norm(x, w["norm"]) @ w.get("output", w["tok_embeddings"]).T).numpy()


@pytest.fixture
def torch_reference():
    return torch_logits
