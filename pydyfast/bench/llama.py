"""``python -m pydyfast.bench llama``: tokens/s of Llama decoding on the stories15M shape.

A greedy 256-token generation from BOS (one prefill token, then one decode step per token) with
the same random weights (dim 288, 6 layers, 6 heads, hidden 768, vocab 32000, seq_len 256,
float32) in three implementations, each in its own process:

- pydyfast: ``llama.Llama`` (fused q/k/v and w1/w3 GEMVs, preallocated KV cache);
- numpy: the plain float32 NumPy loop below (KV cache, heads vectorised), the baseline;
- torch: the same loop in PyTorch under ``no_grad`` with a KV cache, when PyTorch is installed.

Runs from any folder (``llama/`` installs as ``pydyfast.llama``). The figure is the median over
the timed generations after one warm-up generation. ``--threads N`` gives every framework the
same N BLAS/OpenMP threads (on a busy shared machine, spinning OpenMP threads of PyTorch can lose
10x; one thread each is then the fair comparison).
"""
import argparse
import json
import os
import statistics
import sys
import time

from .worker import run_worker, write_json


def _numpy_decoder(config, w):
    """Baseline: one token through a float32 NumPy Llama with a KV cache -> logits."""
    import numpy as np
    c = config
    hd, g = c.head_dim, c.n_heads // c.n_kv_heads
    freq = c.rope_theta ** (-np.arange(0, hd, 2) / hd)
    k_cache = np.zeros((c.n_layers, c.seq_len, c.n_kv_heads, hd), np.float32)
    v_cache = np.zeros_like(k_cache)

    def norm(x, weight):
        return x / np.sqrt(np.mean(x * x) + c.norm_eps) * weight

    def rope(x, pos):
        cos, sin = np.cos(pos * freq).astype(np.float32), np.sin(pos * freq).astype(np.float32)
        a, b = x[:, 0::2], x[:, 1::2]
        return np.stack([a * cos - b * sin, a * sin + b * cos], axis=-1).reshape(x.shape)

    def step(token, pos):
        x = w["tok_embeddings"][token].copy()
        for i in range(c.n_layers):
            p = f"layers.{i}."
            h = norm(x, w[p + "attention_norm"])
            q = rope((w[p + "wq"] @ h).reshape(c.n_heads, hd), pos)
            k_cache[i, pos] = rope((w[p + "wk"] @ h).reshape(c.n_kv_heads, hd), pos)
            v_cache[i, pos] = (w[p + "wv"] @ h).reshape(c.n_kv_heads, hd)
            keys = np.repeat(k_cache[i, :pos + 1], g, axis=1)       # (L, H, hd)
            vals = np.repeat(v_cache[i, :pos + 1], g, axis=1)
            s = np.einsum("hd,lhd->hl", q, keys) * np.float32(hd ** -0.5)  # stays float32
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            x = x + w[p + "wo"] @ np.einsum("hl,lhd->hd", s, vals).reshape(-1)
            h = norm(x, w[p + "ffn_norm"])
            a = w[p + "w1"] @ h
            x = x + w[p + "w2"] @ (a / (1 + np.exp(-a)) * (w[p + "w3"] @ h))
        return w["tok_embeddings"] @ norm(x, w["norm"])
    return lambda tokens: step(tokens[-1], len(tokens) - 1)


def _torch_decoder(config, weights):
    """The same loop in PyTorch (no_grad, KV cache) -> logits as numpy."""
    import torch
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    c = config
    w = {k: torch.from_numpy(v) for k, v in weights.items()}
    hd, g = c.head_dim, c.n_heads // c.n_kv_heads
    freq = c.rope_theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    k_cache = torch.zeros(c.n_layers, c.n_kv_heads, c.seq_len, hd)
    v_cache = torch.zeros_like(k_cache)

    def rope(x, pos):
        cos, sin = torch.cos(pos * freq).float(), torch.sin(pos * freq).float()
        a, b = x[:, 0::2], x[:, 1::2]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).reshape(x.shape)

    def step(token, pos):
        x = w["tok_embeddings"][token]
        for i in range(c.n_layers):
            p = f"layers.{i}."
            h = torch.nn.functional.rms_norm(x, (c.dim,), w[p + "attention_norm"], c.norm_eps)
            q = rope((w[p + "wq"] @ h).reshape(c.n_heads, hd), pos)
            k_cache[i, :, pos] = rope((w[p + "wk"] @ h).reshape(c.n_kv_heads, hd), pos)
            v_cache[i, :, pos] = (w[p + "wv"] @ h).reshape(c.n_kv_heads, hd)
            att = torch.nn.functional.scaled_dot_product_attention(
                q[:, None], k_cache[i, :, :pos + 1].repeat_interleave(g, 0),
                v_cache[i, :, :pos + 1].repeat_interleave(g, 0))
            x = x + w[p + "wo"] @ att.reshape(-1)
            h = torch.nn.functional.rms_norm(x, (c.dim,), w[p + "ffn_norm"], c.norm_eps)
            x = x + w[p + "w2"] @ (torch.nn.functional.silu(w[p + "w1"] @ h) * (w[p + "w3"] @ h))
        return w["tok_embeddings"] @ torch.nn.functional.rms_norm(x, (c.dim,), w["norm"],
                                                                  c.norm_eps)

    def run(tokens):
        with torch.no_grad():
            return step(tokens[-1], len(tokens) - 1).numpy()
    return run


def _pydyfast_decoder(config, weights):
    import numpy as np

    from pydyfast.llama.model import Llama
    model = Llama(config, weights)

    def run(tokens):
        if len(tokens) == 1:
            model.reset()
        return model.logits(np.array(tokens[-1:]))[-1]
    return run


def _worker(framework, tokens, repeat):
    import numpy as np

    from pydyfast.llama.model import LlamaConfig, random_weights
    config = LlamaConfig()  # stories15M
    weights = random_weights(config, seed=0)
    decoder = {"pydyfast": _pydyfast_decoder, "numpy": _numpy_decoder,
               "torch": _torch_decoder}[framework](config, weights)

    def generate(n):
        ids = [1]
        for _ in range(n):
            ids.append(int(np.argmax(decoder(ids))))
        return ids
    generate(16)  # warm-up
    rates, ids = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ids = generate(tokens)
        rates.append(tokens / (time.perf_counter() - t0))
    return {"framework": framework, "tokens_per_s": statistics.median(rates), "ids": ids[1:33]}


def run(frameworks, tokens, repeat, threads=None):
    results = {}
    for fw in frameworks:
        figures, stderr = run_worker("llama", [fw, "--tokens", tokens, "--repeat", repeat],
                                     threads)
        if figures is None:
            if fw == "torch" and "No module named 'torch'" in stderr:
                continue
            raise RuntimeError(f"llama worker {fw} failed:\n{stderr}")
        results[fw] = figures
    return results


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench llama", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=256, help="tokens per generation (<= 256)")
    p.add_argument("--repeat", type=int, default=3, help="timed generations (median reported)")
    p.add_argument("--threads", type=int, help="BLAS/OpenMP threads of every framework "
                   "(default: each library's own default)")
    p.add_argument("--frameworks", default="pydyfast,numpy,torch",
                   help="comma-separated subset to run (numpy, the baseline, always runs)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.tokens = min(args.tokens, 256)  # positions 0 .. 255 fill the 256-token context
    if args.worker:
        print(json.dumps(_worker(args.worker, args.tokens, args.repeat)))
        return 0
    wanted = set(args.frameworks.split(",")) | {"numpy"}
    res = run([fw for fw in ("pydyfast", "numpy", "torch") if fw in wanted], args.tokens,
              args.repeat, args.threads)
    base = res["numpy"]["tokens_per_s"]
    print(f"Llama decoding, stories15M shape, random float32 weights, greedy {args.tokens} tokens "
          f"(median of {args.repeat}; threads: {args.threads or 'library defaults'})")
    print(f"{'framework':<12}{'tokens/s':>10}{'x numpy':>10}  same ids as pydyfast")
    for fw, r in res.items():
        same = r["ids"] == res["pydyfast"]["ids"] if "pydyfast" in res else "-"
        print(f"{fw:<12}{r['tokens_per_s']:>10.1f}{r['tokens_per_s'] / base:>10.2f}  {same}")
    write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
