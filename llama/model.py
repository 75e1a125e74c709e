"""The Llama decoder (llama2.c / Llama 2 architecture) as a pydyfast Module, for inference.

Per layer: x += Wo attn(rope(Wq n1(x)), rope(Wk n1(x)), Wv n1(x));
           x += W2 (silu(W1 n2(x)) * W3 n2(x))
with n1, n2 RMSNorms, grouped-query attention over a preallocated KV cache and interleaved rotary
pairs (llama2.c's layout; loaders reorder Hugging Face half-split rows into it). Weights are
Parameters (so ``state_dict``/``to`` work). Decode speed is the speed of reading the weights, so
the layer matrices are stored transposed, (in, out), where OpenBLAS's GEMV ``x @ w_t`` runs ~30%
faster than ``w @ x`` on (out, in), and q/k/v and w1/w3 are fused so one GEMV reads each.
"""
from dataclasses import dataclass

import numpy as np

from pydyfast import nn
from pydyfast.backend import array_module
from pydyfast.tensor import Tensor

from .kernels import apply_rotary, attend, attend_one, rms_norm, rope_table


@dataclass
class LlamaConfig:
    """Shape of a Llama model (defaults: stories15M)."""

    dim: int = 288
    hidden_dim: int = 768
    n_layers: int = 6
    n_heads: int = 6
    n_kv_heads: int = 6
    vocab_size: int = 32000
    seq_len: int = 256
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    shared_classifier: bool = True

    def __post_init__(self):
        if min(self.dim, self.hidden_dim, self.n_layers, self.n_heads, self.n_kv_heads,
               self.vocab_size, self.seq_len) <= 0:
            raise ValueError(f"LlamaConfig: every size must be positive, got {self}")
        if self.dim % self.n_heads or self.n_heads % self.n_kv_heads or self.head_dim % 2:
            raise ValueError(f"LlamaConfig: dim ({self.dim}) must split into n_heads "
                             f"({self.n_heads}) heads of even size, and n_heads must be a "
                             f"multiple of n_kv_heads ({self.n_kv_heads})")

    @property
    def head_dim(self):
        return self.dim // self.n_heads

    @property
    def kv_dim(self):
        return self.n_kv_heads * self.head_dim

    def weight_shapes(self):
        """Name -> shape of every weight in llama2.c's naming (``output`` only if unshared)."""
        d, h, kv, v = self.dim, self.hidden_dim, self.kv_dim, self.vocab_size
        shapes = {"tok_embeddings": (v, d)}
        for i in range(self.n_layers):
            shapes.update({f"layers.{i}.{name}": shape for name, shape in [
                ("attention_norm", (d,)), ("wq", (d, d)), ("wk", (kv, d)), ("wv", (kv, d)),
                ("wo", (d, d)), ("ffn_norm", (d,)), ("w1", (h, d)), ("w2", (d, h)),
                ("w3", (h, d))]})
        shapes["norm"] = (d,)
        if not self.shared_classifier:
            shapes["output"] = (v, d)
        return shapes


def random_weights(config, seed=0):
    """Weights of ``config``'s shapes: normal with std 0.02, norms 1 (float32, llama2.c names)."""
    rng = np.random.default_rng(seed)
    return {name: (np.ones(shape, np.float32) if len(shape) == 1 else
                   rng.standard_normal(shape, np.float32) * np.float32(0.02))
            for name, shape in config.weight_shapes().items()}


def _frozen(array):
    """A Parameter that holds ``array`` itself (no copy) and needs no gradient."""
    p = nn.Parameter(np.zeros(0, array.dtype), requires_grad=False)
    p.data = array
    return p


class LlamaBlock(nn.Module):
    """One layer's weights, (in, out) layout: wqkv_t (dim, dim + 2 kv_dim) = [wq; wk; wv]^T,
    wo_t (dim, dim), w13_t (dim, 2 hidden) = [w1; w3]^T, w2_t (hidden, dim); norms (dim,)."""

    def __init__(self, weights, prefix, dtype):
        super().__init__()

        def get(name):
            return np.asarray(weights[prefix + name], dtype=dtype)
        self.attention_norm = _frozen(get("attention_norm").copy())
        self.wqkv_t = _frozen(np.concatenate([get("wq"), get("wk"), get("wv")]).T.copy())
        self.wo_t = _frozen(get("wo").T.copy())
        self.ffn_norm = _frozen(get("ffn_norm").copy())
        self.w13_t = _frozen(np.concatenate([get("w1"), get("w3")]).T.copy())
        self.w2_t = _frozen(get("w2").T.copy())


class Llama(nn.Module):
    """Llama decoder for generation with a KV cache.

    Parameters
    ----------
    config : LlamaConfig
    weights : dict of name -> array
        llama2.c names and (out, in) layouts, see ``LlamaConfig.weight_shapes``.
    dtype : numpy float dtype of weights, cache and activations (float32 by default).
    """

    def __init__(self, config, weights, dtype=np.float32):
        super().__init__()
        self.config = config
        dtype = np.dtype(dtype)
        for name, shape in config.weight_shapes().items():
            if name not in weights:
                raise KeyError(f"Llama: weight '{name}' {shape} is missing")
            if tuple(weights[name].shape) != shape:
                raise ValueError(f"Llama: weight '{name}' has shape {tuple(weights[name].shape)},"
                                 f" expected {shape} for {config}")
        self.tok_embeddings = _frozen(np.array(weights["tok_embeddings"], dtype=dtype))
        self.layers = nn.ModuleList([LlamaBlock(weights, f"layers.{i}.", dtype)
                                     for i in range(config.n_layers)])
        self.norm = _frozen(np.array(weights["norm"], dtype=dtype))
        self.output = (self.tok_embeddings if config.shared_classifier
                       else _frozen(np.array(weights["output"], dtype=dtype)))
        self._cache = None
        self.pos = 0

    @classmethod
    def random(cls, config, seed=0, dtype=np.float32):
        """A model with :func:`random_weights`, for speed runs."""
        return cls(config, random_weights(config, seed), dtype)

    @property
    def dtype(self):
        return self.norm.data.dtype

    def _apply_to_tensors(self, fn):
        super()._apply_to_tensors(fn)
        self._cache = None  # arrays moved: rebuild cache and views on the new device

    # ------------------------------------------------------------------ cache
    def reset(self):
        """Forget the sequence: the next call starts at position 0."""
        self.pos = 0

    def _arrays(self):
        """Raw weight arrays, KV caches and rotary tables on the weights' device (built once)."""
        if self._cache is None:
            c = self.config
            xp = array_module(self.norm.data)
            shape = (c.n_layers, c.n_kv_heads, c.seq_len, c.head_dim)
            self._cache = dict(
                layers=[(b.attention_norm.data, b.wqkv_t.data, b.wo_t.data, b.ffn_norm.data,
                         b.w13_t.data, b.w2_t.data) for b in self.layers],
                # (dim, vocab) copy for the fast GEMV; the embedding lookup needs (vocab, dim)
                output_t=xp.ascontiguousarray(self.output.data.T),
                k=xp.zeros(shape, self.dtype), v=xp.zeros(shape, self.dtype),
                rotation=xp.asarray(rope_table(c.head_dim, c.seq_len, c.rope_theta, self.dtype)))
        return self._cache

    # ---------------------------------------------------------------- forward
    def forward(self, tokens):
        """Logits (T, vocab) of the next token after each of ``tokens`` (T,), which continue
        the cached sequence at position ``self.pos``; the cache then holds them too."""
        ids = tokens.data if isinstance(tokens, Tensor) else tokens
        return Tensor._wrap(self.logits(np.asarray(ids).reshape(-1)))

    def logits(self, ids):
        """Raw-array ``forward``: ids (T,) ints -> logits (T, vocab) array."""
        c = self.config
        t, start = len(ids), self.pos
        if t == 0 or start + t > c.seq_len:
            raise ValueError(f"Llama: {t} tokens at position {start} do not fit the context of "
                             f"{c.seq_len} (need 1 <= position + tokens <= seq_len)")
        if int(np.min(ids)) < 0 or int(np.max(ids)) >= c.vocab_size:
            raise ValueError(f"Llama: token ids must lie in [0, {c.vocab_size}), got "
                             f"{int(np.min(ids))} .. {int(np.max(ids))}")
        a = self._arrays()
        xp = array_module(self.norm.data)
        d, kv, hd, hid = c.dim, c.kv_dim, c.head_dim, c.hidden_dim
        rotation = a["rotation"][start:start + t]
        x = self.tok_embeddings.data[xp.asarray(ids)]                     # (T, dim)
        for li, (n1, wqkv, wo, n2, w13, w2) in enumerate(a["layers"]):
            qkv = rms_norm(x, n1, c.norm_eps) @ wqkv                      # (T, dim + 2 kv)
            qk = apply_rotary(qkv[:, :d + kv].reshape(t, -1, hd), rotation)  # q, k heads at once
            q = qk[:, :c.n_heads]
            k_cache, v_cache = a["k"][li], a["v"][li]
            k_cache[:, start:start + t] = qk[:, c.n_heads:].swapaxes(0, 1)
            v_cache[:, start:start + t] = qkv[:, d + kv:].reshape(t, -1, hd).swapaxes(0, 1)
            att = (attend_one(q[0], k_cache, v_cache, start + 1)[None] if t == 1
                   else attend(q, k_cache, v_cache, start))
            x += att.reshape(t, d) @ wo
            gate_up = rms_norm(x, n2, c.norm_eps) @ w13                   # (T, 2 hidden)
            gate, up = gate_up[:, :hid], gate_up[:, hid:]
            x += (gate / (1.0 + xp.exp(-gate)) * up) @ w2                # SwiGLU
        object.__setattr__(self, "pos", start + t)  # a plain int: skip Module's registry
        return rms_norm(x, self.norm.data, c.norm_eps) @ a["output_t"]

