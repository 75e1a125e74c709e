"""The Llama decoder (llama2.c / Llama 2 architecture) as a pydyfast Module, for inference.

Per layer: x += Wo attn(rope(Wq n1(x)), rope(Wk n1(x)), Wv n1(x));
           x += W2 (silu(W1 n2(x)) * W3 n2(x))
with n1, n2 RMSNorms, grouped-query attention over a preallocated KV cache and interleaved rotary
pairs (llama2.c's layout; loaders reorder Hugging Face half-split rows into it). Weights keep
llama2.c's (out, in) layout, with q/k/v and w1/w3 stacked so that one pass reads each group.

Two paths compute the same thing:
- decoding one token on the CPU is one call into ``pydyfast._C.llama_decoder`` (csrc/llama.cpp):
  the whole step in compiled code, products parallel over output rows;
- everything else (the prompt, processed as matrices; any device; ``PYDYFAST_KERNELS=numpy``)
  runs pydyfast's ops: GEMMs (``_C.gemm`` on the CPU), ``rms_norm``, ``apply_rotary``,
  ``scaled_dot_product_attention`` and ``decode_attention``. It is the reference the compiled
  step is tested against.
With ``group_size > 0`` the matrices are int8 with a float32 scale per group of inputs (runq.c's
format, see ``llama/quant.py``).
"""
from dataclasses import dataclass

import numpy as np

from pydyfast import backend, nn
from pydyfast.backend import array_module
from pydyfast.nn import functional as F
from pydyfast.ops.attention import decode_attention, rope_tables
from pydyfast.ops.linalg import gemm
from pydyfast.tensor import Tensor

from . import quant


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


def rotary_tables(config, dtype):
    """cos, sin (seq_len, head_dim / 2) of the rotary angles in ``dtype``.

    float32 models take llama2.c's float32 angles, theta^(-2i/head_dim) and position * freq
    rounded to float32 as run.c and runq.c compute them, so that int8 roundings of the
    activations fall as theirs do: through the C library's powf/cosf/sinf where the kernels are
    compiled, else rounded from float64 (the same in all but rare last-bit cases). float64
    models keep the exact angles.
    """
    c = config
    if np.dtype(dtype) != np.float32:
        return rope_tables(c.head_dim, c.seq_len, c.rope_theta, dtype)
    native = backend.native_module()
    if native is not None:
        return native.llama_rope_tables(c.head_dim, c.seq_len, c.rope_theta)
    exponents = np.arange(0, c.head_dim, 2, dtype=np.float32) / np.float32(c.head_dim)
    powers = (np.float64(np.float32(c.rope_theta)) ** exponents.astype(np.float64))
    freq = np.float32(1) / powers.astype(np.float32)  # float32 division, as 1.0f / powf(...)
    angles = np.arange(c.seq_len, dtype=np.float32)[:, None] * freq
    return (np.cos(angles.astype(np.float64)).astype(np.float32),
            np.sin(angles.astype(np.float64)).astype(np.float32))


def _frozen(array):
    """A Parameter that holds ``array`` itself (no copy) and needs no gradient."""
    p = nn.Parameter(np.zeros(0, array.dtype), requires_grad=False)
    p.data = array
    return p


def _stack(weights, names, dtype, group_size):
    """The named (out, in) matrices stacked by rows: an array, or (int8, scales) when
    ``group_size`` > 0. Weights may arrive as floats or already quantized ((int8, scales))."""
    parts = [weights[name] for name in names]
    if isinstance(parts[0], tuple):  # a runq.c (version 2) file: already quantized
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    matrix = np.concatenate([np.asarray(p, dtype=dtype) for p in parts])
    return quant.quantize(matrix, group_size) if group_size else matrix


class LlamaBlock(nn.Module):
    """One layer's weights, (out, in) layout: wqkv (dim + 2 kv_dim, dim) = [wq; wk; wv],
    wo (dim, dim), w13 (2 hidden, dim) = [w1; w3], w2 (dim, hidden); norms (dim,). A quantized
    matrix M is the int8 Parameter ``M`` and its float32 ``M_scales``."""

    MATRICES = {"wqkv": ("wq", "wk", "wv"), "wo": ("wo",), "w13": ("w1", "w3"), "w2": ("w2",)}

    def __init__(self, weights, prefix, dtype, group_size):
        super().__init__()
        self.attention_norm = _frozen(np.array(weights[prefix + "attention_norm"], dtype))
        self.ffn_norm = _frozen(np.array(weights[prefix + "ffn_norm"], dtype))
        for name, parts in self.MATRICES.items():
            m = _stack(weights, [prefix + p for p in parts], dtype, group_size)
            if isinstance(m, tuple):
                setattr(self, name, _frozen(m[0]))
                setattr(self, name + "_scales", _frozen(m[1]))
            else:
                setattr(self, name, _frozen(m))

    def matrix(self, name):
        """The array, or (int8, scales) of a quantized matrix."""
        w = getattr(self, name).data
        scales = getattr(self, name + "_scales", None)
        return w if scales is None else (w, scales.data)


def _matmul(x, w):
    """x (T, in) @ w^T for an (out, in) matrix w, dense or (int8, scales). Dense products on
    the CPU run on pydyfast's own GEMM (csrc/gemm.h, the one training's kernels call), in its
    OpenMP pool, unless the compiled kernels are off."""
    if isinstance(w, tuple):
        if array_module(x) is not np:
            raise NotImplementedError("Llama: int8 weights run on the CPU only")
        return quant.q8_matmul(x, *w)
    return gemm(x.astype(w.dtype, copy=False), w.T)  # w.T: a transpose flag, not a copy


class Llama(nn.Module):
    """Llama decoder for generation with a KV cache.

    Parameters
    ----------
    config : LlamaConfig
    weights : dict of name -> array
        llama2.c names and (out, in) layouts, see ``LlamaConfig.weight_shapes``; matrices may be
        (int8, scales) pairs (a runq.c file), then ``group_size`` must be their group size.
    dtype : numpy float dtype of weights, cache and activations (float32 by default).
    group_size : int
        0: float weights. > 0: int8 weights with a float32 scale per ``group_size`` inputs
        (float weights are quantized here; runq.c's rule, ``llama.quant``); float32 only.
    """

    def __init__(self, config, weights, dtype=np.float32, group_size=0):
        super().__init__()
        self.config = config
        dtype = np.dtype(dtype)
        if group_size and dtype != np.float32:
            raise ValueError(f"Llama: int8 weights decode in float32, not {dtype}")
        for name, shape in config.weight_shapes().items():
            if name not in weights:
                raise KeyError(f"Llama: weight '{name}' {shape} is missing")
            w = weights[name]
            got = tuple((w[0] if isinstance(w, tuple) else w).shape)
            if got != shape:
                raise ValueError(f"Llama: weight '{name}' has shape {got}, expected {shape} for "
                                 f"{config}")
        object.__setattr__(self, "group_size", int(group_size))
        embedding = weights["tok_embeddings"]
        if group_size:
            # runq.c looks tokens up in the dequantized table and, when the classifier is
            # shared, multiplies by the quantized one: the same here.
            q_embedding = (embedding if isinstance(embedding, tuple)
                           else quant.quantize(embedding, group_size))
            embedding = quant.dequantize(*q_embedding)
        self.tok_embeddings = _frozen(np.array(embedding, dtype=dtype))
        self.layers = nn.ModuleList([LlamaBlock(weights, f"layers.{i}.", dtype, group_size)
                                     for i in range(config.n_layers)])
        self.norm = _frozen(np.array(weights["norm"], dtype=dtype))
        output = q_embedding if group_size and config.shared_classifier else (
            None if config.shared_classifier else weights["output"])
        if output is None:
            self.output = self.tok_embeddings
        elif group_size:
            q, scales = output if isinstance(output, tuple) else quant.quantize(output, group_size)
            self.output, self.output_scales = _frozen(q), _frozen(scales)
        else:
            self.output = _frozen(np.array(output, dtype=dtype))
        self._cache = None
        self.pos = 0

    @classmethod
    def random(cls, config, seed=0, dtype=np.float32, group_size=0):
        """A model with :func:`random_weights`, for speed runs."""
        return cls(config, random_weights(config, seed), dtype, group_size)

    @property
    def dtype(self):
        return self.norm.data.dtype

    def _apply_to_tensors(self, fn):
        super()._apply_to_tensors(fn)
        self._cache = None  # arrays moved: rebuild cache, tables and decoder on the new device

    # ------------------------------------------------------------------ cache
    def reset(self):
        """Forget the sequence: the next call starts at position 0."""
        object.__setattr__(self, "pos", 0)

    def _classifier(self):
        scales = getattr(self, "output_scales", None)
        return self.output.data if scales is None else (self.output.data, scales.data)

    def _arrays(self):
        """Raw weights by name, KV caches, rotary tables and the compiled decoder (built once)."""
        if self._cache is None:
            c = self.config
            xp = array_module(self.norm.data)
            shape = (c.n_layers, c.n_kv_heads, c.seq_len, c.head_dim)
            weights = {"tok_embeddings": self.tok_embeddings.data, "norm": self.norm.data,
                       "output": self._classifier()}
            for i, block in enumerate(self.layers):
                weights[f"layers.{i}.attention_norm"] = block.attention_norm.data
                weights[f"layers.{i}.ffn_norm"] = block.ffn_norm.data
                for name in LlamaBlock.MATRICES:
                    weights[f"layers.{i}.{name}"] = block.matrix(name)
            cos, sin = (xp.asarray(t) for t in rotary_tables(c, self.dtype))
            self._cache = dict(weights=weights, k=xp.zeros(shape, self.dtype),
                               v=xp.zeros(shape, self.dtype), cos=cos, sin=sin, decoder=None)
        return self._cache

    def _decoder(self):
        """The compiled one-token decoder over ``_arrays()`` (built on first use), or None when
        the compiled kernels are off (``PYDYFAST_KERNELS=numpy``) or the weights are not on the
        CPU: then every step takes the reference path."""
        a = self._arrays()
        native = backend.native_module()
        if native is None or array_module(self.norm.data) is not np:
            return None
        if a["decoder"] is None:
            c = self.config
            a["decoder"] = native.llama_decoder(
                (c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size,
                 c.seq_len, c.norm_eps), a["weights"], a["k"], a["v"], a["cos"], a["sin"],
                self.group_size)
        return a["decoder"]

    @property
    def compiled(self):
        """How one-token steps run: False (reference path), True (compiled, float weights) or
        the name of the compiled int8 dot product ('vnni', 'avx2' or 'scalar')."""
        decoder = self._decoder()
        return False if decoder is None else (decoder.kernel if self.group_size else True)

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
        decoder = self._decoder() if t == 1 else None
        if decoder is not None:
            out = decoder.step(int(ids[0]), start)[None]
        else:
            out = self._reference(self._arrays(), ids, start)
        object.__setattr__(self, "pos", start + t)  # a plain int: skip Module's registry
        return out

    def _reference(self, a, ids, start):
        """The forward pass with pydyfast's ops (GEMMs over all T tokens at once)."""
        c = self.config
        xp = array_module(self.norm.data)
        t, d, kv, hd, hid = len(ids), c.dim, c.kv_dim, c.head_dim, c.hidden_dim
        length = start + t
        w = a["weights"]
        cos, sin = a["cos"][start:length], a["sin"][start:length]

        def norm(x, weight):
            return F.rms_norm(Tensor._wrap(x), (d,), Tensor._wrap(weight), c.norm_eps).data

        def heads(rows, n):  # (T, n * hd) -> (n, T, hd)
            return rows.reshape(t, n, hd).swapaxes(0, 1)

        def rotate(x):
            return F.apply_rotary(Tensor._wrap(x), cos, sin, interleaved=True).data

        # query i (position start + i) sees cache positions 0 .. start + i
        mask = None if t == 1 else Tensor._wrap(
            xp.arange(length)[None, :] <= (start + xp.arange(t))[:, None])
        x = self.tok_embeddings.data[xp.asarray(ids)]                        # (T, dim)
        for li in range(c.n_layers):
            p = f"layers.{li}."
            qkv = _matmul(norm(x, w[p + "attention_norm"]), w[p + "wqkv"])  # (T, dim + 2 kv)
            q = rotate(heads(qkv[:, :d], c.n_heads))
            k_cache, v_cache = a["k"][li], a["v"][li]
            k_cache[:, start:length] = rotate(heads(qkv[:, d:d + kv], c.n_kv_heads))
            v_cache[:, start:length] = heads(qkv[:, d + kv:], c.n_kv_heads)
            if t == 1:
                att = decode_attention(q.swapaxes(0, 1), k_cache[None], v_cache[None], length)
            else:
                att = F.scaled_dot_product_attention(
                    Tensor._wrap(q), Tensor._wrap(k_cache[:, :length]),
                    Tensor._wrap(v_cache[:, :length]), attn_mask=mask, enable_gqa=True
                ).data.swapaxes(0, 1)
            x = x + _matmul(xp.ascontiguousarray(att).reshape(t, d), w[p + "wo"])
            gate_up = _matmul(norm(x, w[p + "ffn_norm"]), w[p + "w13"])      # (T, 2 hidden)
            gate, up = gate_up[:, :hid], gate_up[:, hid:]
            x = x + _matmul(gate / (1.0 + xp.exp(-gate)) * up, w[p + "w2"])  # SwiGLU
        return _matmul(norm(x, w["norm"]), w["output"])
