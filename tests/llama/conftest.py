"""Fixtures of the llama tests: the real data folder, a small test shape, and an independent
plain-PyTorch Llama forward (no cache, whole sequence, causal) as the oracle."""
import os
import struct

import numpy as np
import pytest

from llama.model import LlamaConfig, random_weights

DATA_VAR = "PYDYFAST_LLAMA_DATA"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BESIDE_CHECKOUT = os.path.join(os.path.dirname(ROOT), "shared", "llama")
MISSING_DATA = (f"needs real llama2.c files: set {DATA_VAR} or put them in {BESIDE_CHECKOUT} "
                f"(stories260K.bin, its greedy ids, tokenizer.bin, tokenizer.model)")


@pytest.fixture(scope="session")
def llama_data():
    """The folder of real llama2.c files (stories260K.bin, its run.c greedy ids, tokenizer.bin,
    tokenizer.model): ``$PYDYFAST_LLAMA_DATA``, else ``../shared/llama`` beside the checkout."""
    path = os.environ.get(DATA_VAR)
    if path and not os.path.isdir(path):
        pytest.fail(f"{DATA_VAR}={path} is not a folder")
    path = path or BESIDE_CHECKOUT
    if not os.path.isdir(path):
        pytest.skip(MISSING_DATA)
    return path


def write_llama2c_tokenizer(path, pieces, scores):
    """Write a llama2.c ``tokenizer.bin``: int32 max length, then per piece float32 score,
    int32 byte length and the bytes."""
    with open(path, "wb") as f:
        f.write(struct.pack("<i", max(len(p) for p in pieces)))
        for piece, score in zip(pieces, scores):
            f.write(struct.pack("<fi", score, len(piece)) + piece)
    return path


@pytest.fixture(scope="session")
def toy_tokenizer_file(tmp_path_factory):
    """A byte-level tokenizer.bin made here: <unk>, <s>, </s>, the 256 byte pieces, a few
    merges, padded with unused pieces to the 32000 tokens of the stories15M shape."""
    merges = [b" ", b"e", b"n", b"o", b"p", b"u", b" O", b"On", b"ce", b" u", b"up", b"on",
              b" Once", b" upon", b"Once", b"upon", b"nce", b"pon"]
    pieces = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % b for b in range(256)] + merges
    scores = [0.0] * 259 + [-float(i) for i in range(len(merges))]
    pieces += [b"<unused%d>" % i for i in range(32000 - len(pieces))]
    scores += [-1e4] * (32000 - len(scores))
    path = tmp_path_factory.mktemp("tokenizer") / "tokenizer.bin"
    return str(write_llama2c_tokenizer(path, pieces, scores))


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
    import torch
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
    import torch
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
    pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")
    return torch_logits
