"""``python -m pydyfast.bench llama``: tokens/s of Llama decoding on the stories15M shape.

A greedy generation of 256 tokens from BOS with the same random weights (dim 288, 6 layers, 6
heads, hidden 768, vocab 32000, seq_len 256; an unshared random classifier whose BOS row is zero,
so that greedy decoding never stops early), written as llama2.c files: float32 (version 0) and
int8 (version 2, groups of 32). Each implementation runs in its own process, at each thread
count of ``--threads``:

- run.c / runq.c: llama2.c's C programs (float32 / int8), compiled here with
  ``gcc -Ofast -march=native -fopenmp`` from the llama2.c source folder given by ``--llama2c DIR``
  or ``$PYDYFAST_LLAMA2C`` (the binaries are cached under ``~/.cache/pydyfast/llama2c``); skipped,
  with a message, when no source is found. Their own "achieved tok/s" is the figure. Each is
  also built with IEEE float semantics (``-O3 -march=native -ffp-contract=off``), run once for
  its text only: -Ofast reassociates sums and approximates 1/sqrt, exp and pow, so its text is
  that compiler's and CPU's; the IEEE build's text is what the arithmetic gives, and the
  "same text as" column names which of the two a row matches.
- pydyfast, pydyfast-int8: ``llama.Llama`` loading those two files (one compiled call per token);
- numpy: the plain float32 NumPy loop below (KV cache, heads vectorised);
- torch: the same loop in PyTorch under ``no_grad`` with a KV cache, when PyTorch is installed.

tokens/s is counted as run.c counts it (from the second token on). The figure is the median of
``--repeat`` generations (after one warm-up for the Python ones). Runs from any folder.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from .worker import run_worker, write_json

FLOAT32_FILE, INT8_FILE, TOKENIZER_FILE = "stories15M_random.bin", "stories15M_random_q8.bin", \
    "tokenizer.bin"
GROUP_SIZE = 32  # runq.c's export rule for dim 288: the largest power of two <= 64 dividing it
PROGRAMS = {"run.c": ("run.c", FLOAT32_FILE), "runq.c": ("runq.c", INT8_FILE)}
PYTHON_FRAMEWORKS = ("pydyfast", "pydyfast-int8", "numpy", "torch")


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
        return w.get("output", w["tok_embeddings"]) @ norm(x, w["norm"])
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
        return w.get("output", w["tok_embeddings"]) @ torch.nn.functional.rms_norm(
            x, (c.dim,), w["norm"], c.norm_eps)

    def run(tokens):
        with torch.no_grad():
            return step(tokens[-1], len(tokens) - 1).numpy()
    return run


def write_model(folder):
    """The benchmark's checkpoint files and a 32000-piece byte-level tokenizer in ``folder``."""
    import numpy as np

    from pydyfast.llama.export import write_checkpoint, write_tokenizer
    from pydyfast.llama.model import LlamaConfig, random_weights
    config = LlamaConfig(shared_classifier=False)  # stories15M
    weights = random_weights(config, seed=0)
    output = np.random.default_rng(1).standard_normal((config.vocab_size, config.dim))
    weights["output"] = (output * 0.02).astype(np.float32)
    weights["output"][1] = 0  # BOS never wins: greedy decoding runs to the end
    write_checkpoint(os.path.join(folder, FLOAT32_FILE), config, weights, version=0)
    write_checkpoint(os.path.join(folder, INT8_FILE), config, weights, version=2,
                     group_size=GROUP_SIZE)
    pieces = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % b for b in range(256)]
    pieces += [b"<%d>" % i for i in range(len(pieces), config.vocab_size)]
    write_tokenizer(os.path.join(folder, TOKENIZER_FILE), pieces, [0.0] * len(pieces))
    return config, weights


def _worker(framework, folder, tokens, repeat):
    import numpy as np

    from pydyfast.llama.loaders import load_checkpoint, read_llama2c
    if framework.startswith("pydyfast"):
        name = INT8_FILE if framework == "pydyfast-int8" else FLOAT32_FILE
        model = load_checkpoint(os.path.join(folder, name))

        def decoder(ids):
            if len(ids) == 1:
                model.reset()
            return model.logits(np.array(ids[-1:]))[-1]
    else:
        config, weights = read_llama2c(os.path.join(folder, FLOAT32_FILE))
        weights = {k: np.ascontiguousarray(v) for k, v in weights.items()}
        decoder = {"numpy": _numpy_decoder, "torch": _torch_decoder}[framework](config, weights)

    def generate(n):
        ids, start = [1], None
        for i in range(n):
            ids.append(int(np.argmax(decoder(ids))))
            if i == 0:  # as run.c: the clock starts after the first token
                start = time.perf_counter()
        return ids, (n - 1) / (time.perf_counter() - start)
    generate(16)  # warm-up
    runs = [generate(tokens) for _ in range(repeat)]
    return {"tokens_per_s": statistics.median(r[1] for r in runs), "ids": runs[-1][0][1:]}


def _llama2c_source(path):
    """The llama2.c source folder: --llama2c, $PYDYFAST_LLAMA2C, or None."""
    path = path or os.environ.get("PYDYFAST_LLAMA2C")
    if path and not all(os.path.exists(os.path.join(path, f)) for f in ("run.c", "runq.c")):
        raise SystemExit(f"pydyfast.bench llama: {path} has no run.c and runq.c (a llama2.c "
                         f"source folder is expected)")
    return path


# -Ofast: the speed anchors, as llama2.c's README builds them. IEEE: the text anchors.
BUILDS = {"": ["-Ofast"], "-ieee": ["-O3", "-ffp-contract=off"]}


def build_programs(source):
    """Compile run.c and runq.c in both BUILDS (cached by source and flags); {name: binary}."""
    import hashlib
    cache = os.path.join(os.path.expanduser("~"), ".cache", "pydyfast", "llama2c")
    os.makedirs(cache, exist_ok=True)
    binaries = {}
    for name, (src, _) in PROGRAMS.items():
        text = open(os.path.join(source, src), "rb").read()
        for suffix, flags in BUILDS.items():
            digest = hashlib.sha256(text + " ".join(flags).encode()).hexdigest()[:12]
            binary = os.path.join(cache, f"{src[:-2]}{suffix}-{digest}")
            if not os.path.exists(binary):
                cmd = ["gcc", *flags, "-march=native", "-fopenmp", os.path.join(source, src),
                       "-lm", "-o", binary]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode:
                    raise SystemExit(f"pydyfast.bench llama: {' '.join(cmd)} failed:\n"
                                     f"{proc.stderr}")
            binaries[name + suffix] = binary
    return binaries


def run_program(binary, model, folder, tokens, threads):
    """llama2.c's figure and text for one greedy generation."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([binary, model, "-z", os.path.join(folder, TOKENIZER_FILE), "-t", "0",
                           "-n", str(tokens), "-i", ""], capture_output=True, text=True,
                          env=env, timeout=600)
    found = re.search(r"achieved tok/s: ([0-9.]+)", proc.stdout + proc.stderr)
    if proc.returncode or not found:
        raise RuntimeError(f"{binary} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return float(found.group(1)), proc.stdout[:found.start()].strip()


def run(frameworks, tokens, repeat, thread_counts, source=None):
    """{(framework, threads): {"tokens_per_s", "ids" or "text"}} for every pair that ran."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        write_model(folder)
        binaries = build_programs(source) if source else {}
        for threads in thread_counts:
            for fw in frameworks:
                if fw in PROGRAMS:
                    if fw not in binaries:
                        continue
                    rates, text = [], ""
                    for _ in range(repeat):
                        rate, text = run_program(binaries[fw], os.path.join(
                            folder, PROGRAMS[fw][1]), folder, tokens, threads)
                        rates.append(rate)
                    _, ieee_text = run_program(binaries[fw + "-ieee"], os.path.join(
                        folder, PROGRAMS[fw][1]), folder, tokens, threads)
                    results[fw, threads] = {"tokens_per_s": statistics.median(rates),
                                            "text": text, "ieee_text": ieee_text}
                    continue
                figures, stderr = run_worker("llama", [fw, "--folder", folder, "--tokens", tokens,
                                                       "--repeat", repeat], threads)
                if figures is None:
                    if fw == "torch" and "No module named 'torch'" in stderr:
                        continue
                    raise RuntimeError(f"llama worker {fw} failed:\n{stderr}")
                results[fw, threads] = figures
        if results:
            from pydyfast.llama.tokenizer import Llama2cTokenizer
            tokenizer = Llama2cTokenizer(os.path.join(folder, TOKENIZER_FILE))
            for r in results.values():  # the text run.c would print for the same ids
                if "ids" in r:
                    r["text"] = tokenizer.decode(r.pop("ids")).strip()
    return results


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pydyfast.bench llama", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=256, help="tokens per generation (<= 256)")
    p.add_argument("--repeat", type=int, default=3, help="timed generations (median reported)")
    p.add_argument("--threads", default="1,2", help="thread counts to run, e.g. 1,2")
    p.add_argument("--frameworks", default="run.c,runq.c,pydyfast,pydyfast-int8,numpy,torch",
                   help="comma-separated subset to run")
    p.add_argument("--llama2c", metavar="DIR", help="llama2.c source folder (run.c, runq.c); "
                   "default $PYDYFAST_LLAMA2C")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.tokens = min(args.tokens, 256)  # positions 0 .. 255 fill the 256-token context
    if args.worker:
        print(json.dumps(_worker(args.worker, args.folder, args.tokens, args.repeat)))
        return 0
    wanted = args.frameworks.split(",")
    unknown = set(wanted) - set(PROGRAMS) - set(PYTHON_FRAMEWORKS)
    if unknown:
        p.error(f"unknown frameworks {sorted(unknown)}")
    source = _llama2c_source(args.llama2c)
    if source is None and set(wanted) & set(PROGRAMS):
        print("run.c/runq.c skipped: give the llama2.c source folder with --llama2c DIR or "
              "PYDYFAST_LLAMA2C", file=sys.stderr)
    threads = [int(t) for t in args.threads.split(",")]
    res = run(wanted, args.tokens, args.repeat, threads, source)
    print(f"Llama decoding, stories15M shape, random weights, greedy {args.tokens} tokens "
          f"(median of {args.repeat}); ratios against llama2.c at the same thread count "
          f"(float32 rows: run.c, int8 rows: runq.c)")
    print(f"{'framework':<15}{'threads':>8}{'tokens/s':>10}{'x llama2.c':>12}  same text as")
    for (fw, t), r in res.items():
        anchor = res.get(("runq.c" if "int8" in fw or fw == "runq.c" else "run.c", t))
        ratio = f"{r['tokens_per_s'] / anchor['tokens_per_s']:.2f}" if anchor else "-"
        same = "-" if anchor is None or anchor is r else (
            "llama2.c" if anchor["text"] == r["text"] else
            "llama2.c IEEE build" if anchor["ieee_text"] == r["text"] else "DIFFERENT")
        print(f"{fw:<15}{t:>8}{r['tokens_per_s']:>10.1f}{ratio:>12}  {same}")
    write_json(args.json, {f"{fw}@{t}": r for (fw, t), r in res.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
