"""Benchmark cases of the attention family, float32, at the stories15M shape (dim 288, 6 heads of
48, 256 positions).

rope_causal_prefill: rotary on q and k, then causal scaled dot-product attention over a
256-token prompt, q/k/v (1, 6, 256, 48); forward and backward.
decode_step: one new token against a KV cache (1, 6, 256, 48) filled to 200 positions,
inference only; torch runs scaled_dot_product_attention on the cache slices.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case

_HEADS, _HEAD_DIM, _SEQ, _DECODE_LENGTH = 6, 48, 256, 200


def _rope_causal_prefill(framework, device):
    import pydyfast.functional as F
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((1, _HEADS, _SEQ, _HEAD_DIM)).astype(np.float32)
              for _ in range(3)]
    cos, sin = F.rope_tables(_HEAD_DIM, _SEQ)

    def ours(q, k, v):
        q, k = F.apply_rotary(q, cos, sin), F.apply_rotary(k, cos, sin)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    def theirs(q, k, v):
        import torch
        import torch.nn.functional as TF
        rotation = torch.complex(torch.tensor(cos), torch.tensor(sin))

        def rotary(x):  # Meta's llama: pairs (x[2i], x[2i+1]) as complex numbers
            pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
            return torch.view_as_real(pairs * rotation).reshape(x.shape)
        return TF.scaled_dot_product_attention(rotary(q), rotary(k), v, is_causal=True)

    return op_case(framework, device, arrays, ours, theirs)


def _decode_step(framework, device):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, _HEADS, _HEAD_DIM)).astype(np.float32)
    k_cache, v_cache = (rng.standard_normal((1, _HEADS, _SEQ, _HEAD_DIM)).astype(np.float32)
                        for _ in "kv")
    if framework == "torch":
        import torch
        import torch.nn.functional as TF
        if device != "cpu":
            raise NotImplementedError("the decode case is measured on the CPU")
        tq, tk, tv = torch.tensor(q)[:, :, None], torch.tensor(k_cache), torch.tensor(v_cache)

        def forward():
            with torch.no_grad():
                return TF.scaled_dot_product_attention(tq, tk[:, :, :_DECODE_LENGTH],
                                                       tv[:, :, :_DECODE_LENGTH])
        return {"forward": forward}
    import pydyfast
    import pydyfast.functional as F
    if device != "cpu":
        raise NotImplementedError("the decode case is measured on the CPU")
    pydyfast.backend.set_kernels("numpy" if framework == "numpy" else "native")
    tq = pydyfast.Tensor(q)
    return {"forward": lambda: F.decode_attention(tq, k_cache, v_cache, _DECODE_LENGTH)}


CASES = [
    KernelCase("rope_causal_prefill", f"q/k/v (1, {_HEADS}, {_SEQ}, {_HEAD_DIM}), rotary + "
               f"causal, f32", _rope_causal_prefill),
    KernelCase("decode_step", f"q (1, {_HEADS}, {_HEAD_DIM}), cache (1, {_HEADS}, {_SEQ}, "
               f"{_HEAD_DIM}) at length {_DECODE_LENGTH}, f32", _decode_step),
]
