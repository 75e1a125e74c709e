"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder (PyTorch's parameter
names and state-dict keys: in_proj_weight, in_proj_bias, out_proj.*, linear1, norm1, ...)."""
import copy
import math

import numpy as np

from ...backend import array_module
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ._params import empty_parameter, factory_kwargs, zeros_parameter
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def _additive_mask(mask, dtype, xp, op):
    """A boolean mask (True = may not attend) or a float mask (added) as a float array."""
    m = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype == np.bool_:
        return xp.where(m, dtype.type(-np.inf), dtype.type(0))
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: masks must be boolean or floating point, got dtype {m.dtype}")
    return m.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size embed_dim / num_heads:
    softmax(q k^T / sqrt(d) + mask) v, with q, k, v = the input projections and the heads
    joined by ``out_proj``.

    query (L, N, E), key and value (S, N, E); (N, L, E) and (N, S, E) with ``batch_first``;
    unbatched (L, E) works too. ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N * num_heads, L, S): boolean (True = masked) or float (added to the scores).
    Returns (output like query, weights (N, L, S) averaged over heads, or (N, H, L, S), or
    None when ``need_weights`` is False).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False,
                 device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs("MultiheadAttention", device, dtype)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim, self.batch_first = embed_dim // num_heads, batch_first
        self.in_proj_weight = empty_parameter(3 * embed_dim, embed_dim, **factory)
        init.xavier_uniform_(self.in_proj_weight)
        self.register_parameter("in_proj_bias", zeros_parameter(3 * embed_dim, **factory)
                                if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **factory)
        if bias:
            init.zeros_(self.out_proj.bias)

    def _projections(self, query, key, value):
        w, b, e = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if query is key and key is value:  # self-attention: one GEMM for q, k and v
            return F.linear(query, w, b).split(3, axis=-1)
        parts = [(w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e])
                 for i in range(3)]
        return [F.linear(x, pw, pb) for x, (pw, pb) in zip((query, key, value), parts)]

    def _mask(self, attn_mask, key_padding_mask, is_causal, n, length, source, like):
        """The additive mask for scores (N, H, L, S), or None."""
        xp, dtype = array_module(like), like.dtype
        total = None
        if attn_mask is None and is_causal:
            attn_mask = xp.triu(xp.ones((length, source), dtype=bool), 1)
        if attn_mask is not None:
            m = _additive_mask(attn_mask, dtype, xp, "MultiheadAttention")
            if m.shape == (length, source):
                total = m
            elif m.shape == (n * self.num_heads, length, source):
                total = m.reshape(n, self.num_heads, length, source)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask of shape {m.shape}, expected "
                                 f"({length}, {source}) or ({n * self.num_heads}, {length}, "
                                 f"{source})")
        if key_padding_mask is not None:
            m = _additive_mask(key_padding_mask, dtype, xp, "MultiheadAttention")
            if m.shape != (n, source):
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {m.shape}, "
                                 f"expected ({n}, {source})")
            m = m.reshape(n, 1, 1, source)
            total = m if total is None else total + m
        return total

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        unbatched = query.ndim == 2
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim \
                or query.shape[-1] != self.embed_dim or key.shape[-1] != self.embed_dim \
                or value.shape[-1] != self.embed_dim or key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiheadAttention: query {query.shape}, key {key.shape}, value "
                             f"{value.shape}; expected 3-D (or unbatched 2-D) inputs ending in "
                             f"embed_dim={self.embed_dim}, key and value of the same shape")
        self_attention = query is key and key is value
        if unbatched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = (key_padding_mask.data if isinstance(key_padding_mask, Tensor)
                                    else np.asarray(key_padding_mask))[None]
        elif not self.batch_first:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        if self_attention:
            key = value = query
        n, length, source, h, d = (query.shape[0], query.shape[1], key.shape[1],
                                   self.num_heads, self.head_dim)
        q, k, v = self._projections(query, key, value)
        q = q.reshape(n, length, h, d).swapaxes(1, 2)
        k = k.reshape(n, source, h, d).swapaxes(1, 2)
        v = v.reshape(n, source, h, d).swapaxes(1, 2)
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, length, source, q.data)
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:  # the weights are wanted: compose softmax(q k^T / sqrt d + mask) v
            scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(d))
            if mask is not None:
                scores = scores + Tensor._wrap(mask)
            weights = F.softmax(scores, dim=-1)
            out = F.dropout(weights, dropout_p) @ v
        else:  # the fused attention kernel never materialises the weights for backward
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        out = self.out_proj(out.swapaxes(1, 2).reshape(n, length, self.embed_dim))
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        if weights is None:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights.squeeze(0) if unbatched else weights)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with dropout, a residual connection and
    LayerNorm; ``norm_first`` normalizes before each block (pre-LN) instead of after.

    post-LN: x = norm1(x + sa(x)); x = norm2(x + ff(x)).
    pre-LN:  x = x + sa(norm1(x)); x = x + ff(norm2(x)).
    ff(x) = dropout2(linear2(dropout(activation(linear1(x))))).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs("TransformerEncoderLayer", device, dtype)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or "
                                 f"a callable, got {activation!r}")
            activation = _ACTIVATIONS[activation]
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """``num_layers`` independent copies of ``encoder_layer`` applied in turn (keys
    layers.0.*, layers.1.*, ...), then the optional final ``norm``."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)
