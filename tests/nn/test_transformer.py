"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against torch: same weights
(loaded from torch's state dict, so the keys must match), outputs, attention weights, input and
parameter gradients, masks, both layouts, and bad arguments. Dropout is 0 so runs agree."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
from pydyfast import nn

from nn.layer_oracle import compare_module


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_self_attention(batch_first, need_weights, dtype, kernels, rng):
    m, t = nn.MultiheadAttention(8, 2, batch_first=batch_first), \
        torch.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    x = rng.standard_normal((3, 5, 8))
    out = compare_module(m, t, [x], dtype, output_index=0,  # (x, x, x): the self-attention path
                         call=lambda x: m(x, x, x, need_weights=need_weights),
                         torch_call=lambda x: t(x, x, x, need_weights=need_weights))
    assert out.shape == (3, 5, 8)


def test_mha_cross_attention_with_masks_and_weights(dtype, kernels, rng):
    m, t = nn.MultiheadAttention(6, 3, batch_first=True), torch.nn.MultiheadAttention(
        6, 3, batch_first=True)
    q, kv = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 6))
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    causal = np.triu(np.ones((4, 5), bool), 1)

    def call(mod, tensor):
        def run(q, k, v):
            out, w = mod(q, k, v, key_padding_mask=tensor(pad), attn_mask=tensor(causal),
                         average_attn_weights=False)
            return out, w
        return run
    compare_module(m, t, [q, kv, kv], dtype, output_index=0, call=call(m, pdf.tensor),
                   torch_call=call(t, torch.tensor))
    out, w = m(pdf.tensor(q.astype(dtype)), pdf.tensor(kv.astype(dtype)),
               pdf.tensor(kv.astype(dtype)), key_padding_mask=pad)
    _, tw = t(torch.tensor(q.astype(dtype)), torch.tensor(kv.astype(dtype)),
              torch.tensor(kv.astype(dtype)), key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-6)
    assert not np.any(w.numpy()[1, :, 3:])  # padded keys get no attention


def test_mha_float_mask_and_fused_path_agree(rng):
    m = nn.MultiheadAttention(4, 2).double()
    x = pdf.tensor(rng.standard_normal((5, 2, 4)))
    mask = rng.standard_normal((5, 5))
    fused = m(x, x, x, attn_mask=mask, need_weights=False)[0]
    composed = m(x, x, x, attn_mask=mask, need_weights=True)[0]
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-12, atol=1e-12)


def test_mha_unbatched(dtype, rng):
    m, t = nn.MultiheadAttention(4, 1), torch.nn.MultiheadAttention(4, 1)
    compare_module(m, t, [rng.standard_normal((3, 4))] * 3, dtype, output_index=0)


def test_mha_state_dict_keys():
    m, t = nn.MultiheadAttention(8, 4), torch.nn.MultiheadAttention(8, 4)
    assert list(m.state_dict()) == list(t.state_dict())
    assert not np.any(m.in_proj_bias.numpy()) and not np.any(m.out_proj.bias.numpy())


def test_mha_bad_arguments():
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be divisible by num_heads \(4\)"):
        nn.MultiheadAttention(6, 4)
    m = nn.MultiheadAttention(4, 2)
    with pytest.raises(ValueError, match="MultiheadAttention: query"):
        m(pdf.zeros(3, 2, 5), pdf.zeros(3, 2, 5), pdf.zeros(3, 2, 5))
    x = pdf.zeros(3, 2, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(3, 2\), expected \(2, 3\)"):
        m(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(2, 2\), expected \(3, 3\)"):
        m(x, x, x, attn_mask=np.zeros((2, 2), bool))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(norm_first, activation, dtype, kernels, rng):
    kwargs = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=True,
                  norm_first=norm_first)
    m = nn.TransformerEncoderLayer(8, 2, **kwargs)
    t = torch.nn.TransformerEncoderLayer(8, 2, **kwargs)
    pad = np.array([[False] * 6, [False] * 4 + [True] * 2])
    compare_module(m, t, [rng.standard_normal((2, 6, 8))], dtype,
                   call=lambda x: m(x, src_key_padding_mask=pad),
                   torch_call=lambda x: t(x, src_key_padding_mask=torch.tensor(pad)))


def test_encoder_stack_with_causal_mask(dtype, kernels, rng):
    layer = dict(d_model=8, nhead=4, dim_feedforward=12, dropout=0.0)
    m = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer), 2, norm=nn.LayerNorm(8))
    t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer), 2,
                                    norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    causal = np.triu(np.ones((5, 5), bool), 1)
    compare_module(m, t, [rng.standard_normal((5, 3, 8))], dtype,
                   call=lambda x: m(x, mask=causal),
                   torch_call=lambda x: t(x, mask=torch.tensor(causal)))
    assert m.layers[0].linear1.weight is not m.layers[1].linear1.weight  # independent copies


def test_encoder_dropout_only_in_training(rng):
    m = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = pdf.tensor(rng.standard_normal((4, 2, 8)).astype(np.float32))
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), m(x).numpy())
    m.train()
    assert not np.allclose(m(x).numpy(), m(x).numpy())


def test_encoder_layer_bad_activation():
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
