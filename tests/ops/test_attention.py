"""Rotary embedding, scaled dot-product attention and KV-cache decode attention against PyTorch
and the NumPy references."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast.testing import gradcheck

from conftest import tolerances
from oracle import compare_with_torch

TF = torch.nn.functional


# ----------------------------------------------------------------------------- rotary
def _torch_rotary(x, cos, sin, interleaved):
    """Meta's complex-number form (interleaved) or Hugging Face's rotate_half form."""
    cos, sin = torch.tensor(cos, dtype=x.dtype), torch.tensor(sin, dtype=x.dtype)
    if interleaved:
        pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())
        rotated = torch.view_as_real(pairs * torch.complex(cos, sin))
        return rotated.reshape(x.shape)
    c, s = torch.cat([cos, cos], -1), torch.cat([sin, sin], -1)
    half = x.shape[-1] // 2
    return x * c + torch.cat([-x[..., half:], x[..., :half]], -1) * s


def test_rope_tables_match_llama_formula():
    cos, sin = F.rope_tables(8, 5, theta=500.0, dtype=np.float64)
    freqs = 1.0 / 500.0 ** (np.arange(0, 8, 2) / 8)
    np.testing.assert_allclose(cos, np.cos(np.arange(5)[:, None] * freqs))
    np.testing.assert_allclose(sin, np.sin(np.arange(5)[:, None] * freqs))
    assert F.rope_tables(8, 5)[0].dtype == np.float32 and cos.shape == (5, 4)


@pytest.mark.parametrize("interleaved", [True, False])
@pytest.mark.parametrize("shape", [(2, 3, 5, 8), (1, 2), (7, 6)])
def test_rotary_matches_torch(shape, interleaved, dtype, kernels):
    cos, sin = F.rope_tables(shape[-1], shape[-2] + 3, dtype=np.float64)
    cos, sin = cos[3:], sin[3:]  # positions 3.. as in a continued sequence
    x = np.random.default_rng(0).standard_normal(shape)
    compare_with_torch(lambda t: F.apply_rotary(t, cos, sin, interleaved),
                       lambda t: _torch_rotary(t, cos, sin, interleaved), [x], dtype)


def test_rotary_noncontiguous_and_tensor_tables(dtype, kernels, rng):
    x = rng.standard_normal((4, 6, 3)).astype(dtype).transpose(2, 0, 1)  # (3, 4, 6)
    cos, sin = F.rope_tables(6, 4, dtype=dtype)
    out = F.apply_rotary(pdf.Tensor(x), pdf.Tensor(cos), pdf.Tensor(sin))
    want = _torch_rotary(torch.tensor(x), cos, sin, True).numpy()
    np.testing.assert_allclose(out.numpy(), want, **tolerances(dtype))


def test_rotary_gradcheck(kernels, rng):
    cos, sin = F.rope_tables(4, 3, dtype=np.float64)
    x = pdf.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    gradcheck(lambda t: F.apply_rotary(t, cos, sin, interleaved=False), [x])


def test_rotary_bad_inputs():
    cos, sin = F.rope_tables(8, 4)
    with pytest.raises(ValueError, match="apply_rotary: expected x a Tensor .* even head_dim"):
        F.apply_rotary(pdf.Tensor(np.zeros((4, 7), np.float32)), cos, sin)
    with pytest.raises(ValueError, match=r"apply_rotary: expected cos of shape .* \(3, 4\)"):
        F.apply_rotary(pdf.Tensor(np.zeros((3, 8), np.float32)), cos, sin)
    with pytest.raises(ValueError, match="rope_tables: expected a positive even head_dim"):
        F.rope_tables(7, 4)


# ----------------------------------------------------------------------------- sdpa
def _qkv(rng, lead, H, Hkv, L, S, E, Ev):
    return [rng.standard_normal(lead + (H, L, E)), rng.standard_normal(lead + (Hkv, S, E)),
            rng.standard_normal(lead + (Hkv, S, Ev))]


@pytest.mark.parametrize("lead,H,Hkv,L,S,E,Ev", [
    ((2,), 3, 3, 5, 7, 4, 6), ((), 1, 1, 1, 1, 1, 1), ((2, 1), 4, 2, 6, 6, 8, 8),
    ((1,), 6, 1, 3, 9, 5, 2)])
@pytest.mark.parametrize("is_causal", [False, True])
def test_sdpa_matches_torch(lead, H, Hkv, L, S, E, Ev, is_causal, dtype, kernels, rng):
    gqa = H != Hkv
    compare_with_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=is_causal,
                                                       enable_gqa=gqa),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=is_causal,
                                                        enable_gqa=gqa),
        _qkv(rng, lead, H, Hkv, L, S, E, Ev), dtype)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_masks_and_scale(kind, dtype, kernels, rng):
    arrays = _qkv(rng, (2,), 2, 2, 4, 5, 3, 3)
    mask = rng.random((4, 5)) > 0.4
    mask[:, 0] = True  # every query attends somewhere
    if kind == "float":
        mask = rng.standard_normal((2, 1, 4, 5))
    compare_with_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.3),
        lambda q, k, v: TF.scaled_dot_product_attention(
            q, k, v, attn_mask=torch.tensor(mask if kind == "bool" else mask.astype(dtype)),
            scale=0.3),
        arrays, dtype)


def test_sdpa_noncontiguous(dtype, kernels, rng):
    q, k, v = (rng.standard_normal((2, 5, 3, 4)).transpose(0, 2, 1, 3) for _ in range(3))
    compare_with_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                       lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
                       [q, k, v], dtype)


def test_sdpa_gradcheck_causal_gqa(kernels, rng):
    q, k, v = (pdf.Tensor(a, requires_grad=True) for a in _qkv(rng, (1,), 4, 2, 3, 3, 2, 2))
    gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                             enable_gqa=True), [q, k, v])


def test_sdpa_dropout_zeroes_and_rescales_weights(kernels, rng):
    q, k = (pdf.Tensor(a) for a in _qkv(rng, (1,), 2, 2, 6, 6, 4, 4)[:2])
    v = pdf.Tensor(np.eye(6)[None, None].repeat(2, axis=1), requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    plain = F.scaled_dot_product_attention(q, k, v).numpy()  # v = I: the weights themselves
    dropped = out == 0
    assert 0 < dropped.mean() < 1
    np.testing.assert_allclose(out[~dropped], 2 * plain[~dropped], rtol=1e-12)


def test_sdpa_bad_inputs():
    t = pdf.Tensor(np.zeros((1, 4, 3, 2), np.float32))
    k2 = pdf.Tensor(np.zeros((1, 2, 3, 2), np.float32))
    with pytest.raises(ValueError, match="query has 4 heads and key/value 2.*enable_gqa=True"):
        F.scaled_dot_product_attention(t, k2, k2)
    with pytest.raises(ValueError, match="scaled_dot_product_attention: shapes do not match"):
        F.scaled_dot_product_attention(t, t, pdf.Tensor(np.zeros((1, 4, 5, 2), np.float32)))
    with pytest.raises(TypeError, match="one floating dtype"):
        F.scaled_dot_product_attention(t, t, t.to(dtype=np.float64))
    with pytest.raises(ValueError, match="attn_mask of shape \\(2, 2\\) does not broadcast"):
        F.scaled_dot_product_attention(t, t, t, attn_mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(t, t, t, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"dropout_p must be in \[0, 1\)"):
        F.scaled_dot_product_attention(t, t, t, dropout_p=1.0)


# ----------------------------------------------------------------------------- decode
@pytest.mark.parametrize("B,H,Hkv,max_len,length,D", [
    (1, 6, 6, 16, 9, 48), (2, 4, 2, 5, 5, 8), (1, 1, 1, 3, 1, 1), (3, 8, 1, 7, 4, 5)])
def test_decode_attention_matches_torch(B, H, Hkv, max_len, length, D, dtype, kernels, rng):
    q = rng.standard_normal((B, H, D)).astype(dtype)
    k_cache, v_cache = (rng.standard_normal((B, Hkv, max_len, D)).astype(dtype) for _ in "kv")
    out = F.decode_attention(pdf.Tensor(q), k_cache, v_cache, length)
    want = TF.scaled_dot_product_attention(
        torch.tensor(q)[:, :, None], torch.tensor(k_cache[:, :, :length]),
        torch.tensor(v_cache[:, :, :length]), enable_gqa=H != Hkv)[:, :, 0]
    assert isinstance(out, pdf.Tensor) and out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), want.numpy(), **tolerances(dtype))
    assert isinstance(F.decode_attention(pdf.Tensor(q), pdf.Tensor(k_cache), pdf.Tensor(v_cache),
                                         length), pdf.Tensor)
    arr = F.decode_attention(q, k_cache, v_cache, length, scale=0.5)  # arrays in, array out
    want = TF.scaled_dot_product_attention(
        torch.tensor(q)[:, :, None], torch.tensor(k_cache[:, :, :length]),
        torch.tensor(v_cache[:, :, :length]), scale=0.5, enable_gqa=H != Hkv)[:, :, 0]
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, want.numpy(), **tolerances(dtype))


def test_decode_attention_bad_inputs(kernels):
    q = np.zeros((1, 4, 8), np.float32)
    cache = np.zeros((1, 2, 6, 8), np.float32)
    with pytest.raises(ValueError, match=r"decode_attention: length 7 is outside \[1, max_len=6\]"):
        F.decode_attention(q, cache, cache, 7)
    with pytest.raises(ValueError, match="decode_attention: q .* does not match the caches"):
        F.decode_attention(np.zeros((1, 3, 8), np.float32), cache, cache, 2)
    with pytest.raises(TypeError, match="decode_attention: q is float32, k_cache float64"):
        F.decode_attention(q, cache.astype(np.float64), cache, 2)
    with pytest.raises(ValueError, match=r"decode_attention: expected q \(B, H, D\)"):
        F.decode_attention(q[0], cache, cache, 2)
