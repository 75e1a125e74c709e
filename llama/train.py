"""``python -m llama.train``: train a small Llama from scratch with pydyfast's autograd.

The model is llama2.c's architecture (RMSNorm, rotary grouped-query attention, SwiGLU; the
classifier shared with the token embedding); the text is the Python documentation's topics that
ship with every Python installation (``pydoc_data.topics``, about 470 kB); the tokenizer is
byte-level (llama2.c's byte-fallback pieces: <unk>, <s>, </s> and the 256 bytes). It writes a
llama2.c checkpoint (``run.c`` runs it too) and its ``tokenizer.bin`` into ``--out``, and a plot
of the loss curves beside them, so that

    python -m llama.train --out my_model
    python -m llama.infer --checkpoint my_model/model.bin --prompt "The "

generates from it. The checkpoint shipped in ``llama/assets`` (what ``python -m llama.infer``
runs without arguments) was made by ``python -m llama.train`` with its defaults.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

import pydyfast as pdf
from pydyfast import nn
from pydyfast.nn import functional as F
from pydyfast.ops.attention import apply_rotary, rope_tables

from .export import write_checkpoint, write_tokenizer
from .model import LlamaConfig

BYTE_OFFSET = 3  # ids 0, 1, 2 are <unk>, <s>, </s>; byte b is id b + 3 (llama2.c's fallback)


def byte_tokenizer_pieces():
    """The pieces of the byte-level vocabulary, in id order (259 of them)."""
    return [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % b for b in range(256)]


def corpus():
    """The text of ``pydoc_data.topics`` (standard library), as token ids (uint16)."""
    from pydoc_data import topics
    text = "\n\n".join(topics.topics[name] for name in sorted(topics.topics))
    return np.frombuffer(text.encode("utf-8"), np.uint8).astype(np.uint16) + BYTE_OFFSET


class Block(nn.Module):
    """One decoder layer, with llama2.c's parameter names."""

    def __init__(self, c):
        super().__init__()
        hd = c.dim // c.n_heads
        self.c = c
        self.attention_norm = nn.Parameter(pdf.ones(c.dim))
        self.wq = nn.Linear(c.dim, c.n_heads * hd, bias=False)
        self.wk = nn.Linear(c.dim, c.n_kv_heads * hd, bias=False)
        self.wv = nn.Linear(c.dim, c.n_kv_heads * hd, bias=False)
        self.wo = nn.Linear(c.n_heads * hd, c.dim, bias=False)
        self.ffn_norm = nn.Parameter(pdf.ones(c.dim))
        self.w1 = nn.Linear(c.dim, c.hidden_dim, bias=False)
        self.w2 = nn.Linear(c.hidden_dim, c.dim, bias=False)
        self.w3 = nn.Linear(c.dim, c.hidden_dim, bias=False)

    def forward(self, x, cos, sin):
        c = self.c
        b, t, _ = x.shape
        hd = c.dim // c.n_heads

        def heads(y, n):  # (B, T, n * hd) -> (B, n, T, hd)
            return y.reshape(b, t, n, hd).transpose(1, 2)
        h = F.rms_norm(x, (c.dim,), self.attention_norm, c.norm_eps)
        q = apply_rotary(heads(self.wq(h), c.n_heads), cos, sin)
        k = apply_rotary(heads(self.wk(h), c.n_kv_heads), cos, sin)
        v = heads(self.wv(h), c.n_kv_heads)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                             enable_gqa=c.n_kv_heads != c.n_heads)
        x = x + self.wo(att.transpose(1, 2).reshape(b, t, c.dim))
        h = F.rms_norm(x, (c.dim,), self.ffn_norm, c.norm_eps)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class TrainableLlama(nn.Module):
    """The Llama forward over whole sequences, for training: logits (B, T, vocab)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.dim)
        self.layers = nn.ModuleList([Block(config) for _ in range(config.n_layers)])
        self.norm = nn.Parameter(pdf.ones(config.dim))
        cos, sin = rope_tables(config.head_dim, config.seq_len, config.rope_theta)
        self._rope = (cos, sin)
        for name, p in self.named_parameters():  # GPT-2 style: small, scaled residual outputs
            if p.ndim == 2:
                std = 0.02 / math.sqrt(2 * config.n_layers) if name.endswith(("wo.weight",
                                                                              "w2.weight")) else 0.02
                p.data[...] = np.random.default_rng(abs(hash(name)) % 2**32).normal(
                    0.0, std, p.shape).astype(p.dtype)

    def forward(self, ids):
        t = ids.shape[1]
        cos, sin = self._rope[0][:t], self._rope[1][:t]
        x = self.tok_embeddings(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        x = F.rms_norm(x, (self.config.dim,), self.norm, self.config.norm_eps)
        return x @ self.tok_embeddings.weight.T  # classifier shared with the embedding

    def llama2c_weights(self):
        """The weights under llama2.c's names, (out, in) float32 arrays."""
        weights = {"tok_embeddings": self.tok_embeddings.weight.numpy(),
                   "norm": self.norm.numpy()}
        for i, block in enumerate(self.layers):
            weights[f"layers.{i}.attention_norm"] = block.attention_norm.numpy()
            weights[f"layers.{i}.ffn_norm"] = block.ffn_norm.numpy()
            for name in ("wq", "wk", "wv", "wo", "w1", "w2", "w3"):
                weights[f"layers.{i}.{name}"] = getattr(block, name).weight.numpy()
        return {k: np.ascontiguousarray(v, np.float32) for k, v in weights.items()}


def batches(data, batch_size, seq_len, rng):
    """Random windows of ``seq_len + 1`` tokens: inputs and next-token targets."""
    starts = rng.integers(0, len(data) - seq_len - 1, batch_size)
    windows = np.stack([data[s:s + seq_len + 1] for s in starts]).astype(np.int64)
    return windows[:, :-1], windows[:, 1:]


def evaluate(model, data, batch_size, seq_len, batches_n=4, seed=1234):
    rng = np.random.default_rng(seed)
    total = 0.0
    with pdf.no_grad():
        for _ in range(batches_n):
            x, y = batches(data, batch_size, seq_len, rng)
            logits = model(pdf.tensor(x))
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           pdf.tensor(y.reshape(-1))).item())
    return total / batches_n


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m llama.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="llama_pydoc", help="output folder (default ./llama_pydoc)")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--hidden-dim", type=int, default=384)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=256, help="context (tokens) of training and "
                   "of the model")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def _progress(total, quiet):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return None if quiet else tqdm(total=total, desc="llama.train", dynamic_ncols=True)


def _plot(path, history):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=80)
    ax.plot(*zip(*history["train"]), lw=0.8, label="train")
    ax.plot(*zip(*history["valid"]), marker=".", label="held out")
    ax.set(xlabel="step", ylabel="cross-entropy (nats/byte)", title="llama.train on pydoc topics")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def train(args):
    """Train; returns (model, config, history {'train': [(step, loss)], 'valid': [...]})."""
    if args.threads:
        pdf.set_num_threads(args.threads)
    pdf.manual_seed(args.seed)
    np.random.seed(args.seed)
    data = corpus()
    split = int(0.95 * len(data))
    train_data, valid_data = data[:split], data[split:]
    config = LlamaConfig(dim=args.dim, hidden_dim=args.hidden_dim, n_layers=args.layers,
                         n_heads=args.heads, n_kv_heads=args.kv_heads,
                         vocab_size=len(byte_tokenizer_pieces()), seq_len=args.seq_len,
                         shared_classifier=True)
    model = TrainableLlama(config)
    opt = pdf.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    rng = np.random.default_rng(args.seed)
    history = {"train": [], "valid": []}
    bar = _progress(args.steps, args.quiet)
    for step in range(1, args.steps + 1):
        warm = min(1.0, step / args.warmup)
        decay = 0.5 * (1 + math.cos(math.pi * min(1.0, step / args.steps)))
        for group in opt.param_groups:
            group["lr"] = args.lr * warm * (0.1 + 0.9 * decay)
        x, y = batches(train_data, args.batch_size, args.seq_len, rng)
        logits = model(pdf.tensor(x))
        loss = F.cross_entropy(logits.reshape(-1, config.vocab_size), pdf.tensor(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        history["train"].append((step, float(loss.item())))
        if step % args.eval_every == 0 or step == args.steps:
            history["valid"].append((step, evaluate(model, valid_data, args.batch_size,
                                                    args.seq_len)))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history['train'][-1][1]:.3f}",
                            valid=f"{history['valid'][-1][1]:.3f}" if history["valid"] else "-")
    if bar is not None:
        bar.close()
    return model, config, history


def save(model, config, folder):
    """model.bin (llama2.c version 0) and tokenizer.bin in ``folder``; returns both paths."""
    os.makedirs(folder, exist_ok=True)
    checkpoint = write_checkpoint(os.path.join(folder, "model.bin"), config,
                                  model.llama2c_weights(), version=0)
    pieces = byte_tokenizer_pieces()
    tokenizer = write_tokenizer(os.path.join(folder, "tokenizer.bin"), pieces,
                                [0.0] * len(pieces))
    return checkpoint, tokenizer


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    start = time.perf_counter()
    model, config, history = train(args)
    minutes = (time.perf_counter() - start) / 60
    checkpoint, tokenizer = save(model, config, args.out)
    plot = _plot(os.path.join(args.out, "loss.png"), history)
    print(f"trained {sum(p.numel() for p in model.parameters())} parameters for {args.steps} "
          f"steps in {minutes:.1f} min; final train loss {history['train'][-1][1]:.3f}, held-out "
          f"loss {history['valid'][-1][1]:.3f} nats/byte")
    print(f"wrote {checkpoint}, {tokenizer}" + (f", {plot}" if plot else " (no plot: "
                                                   "pip install matplotlib)"))
    print(f"try: python -m llama.infer --checkpoint {checkpoint} --prompt \"The \"")
    return model, config, history


if __name__ == "__main__":
    main()
