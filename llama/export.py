"""Writing llama2.c files: checkpoints (legacy version 0, float32 ``ak42`` version 1, int8
version 2 as runq.c reads it) and ``tokenizer.bin``. ``llama.loaders`` reads all of them back.

Layouts (little-endian):
- version 0: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size negated when the
  classifier is not shared, seq_len), then float32 tensors in ``loaders.legacy_order``.
- version 1: uint32 magic "ak42", int32 1, the 7 int32, uint8 shared flag, zero padding to 256
  bytes, then float32 tensors in ``loaders.ak42_order``.
- version 2: as version 1 with version 2 and an int32 group size after the flag; then the norms
  (float32: attention norms, ffn norms, final norm), then per quantized tensor (token table, wq,
  wk, wv, wo, w1, w2, w3 per layer, output when not shared) its int8 values and float32 scales.
"""
import struct

import numpy as np

from . import quant
from .loaders import AK42_MAGIC, ak42_order, legacy_order

Q8_ORDER = ("wq", "wk", "wv", "wo", "w1", "w2", "w3")


def _header(config, version, extra=b""):
    fields = (config.dim, config.hidden_dim, config.n_layers, config.n_heads, config.n_kv_heads,
              config.vocab_size, config.seq_len)
    head = struct.pack("<Ii7iB", AK42_MAGIC, version, *fields, int(config.shared_classifier))
    return (head + extra).ljust(256, b"\0")


def _float32(array):
    return np.ascontiguousarray(array, "<f4").tobytes()


def write_checkpoint(path, config, weights, version=0, group_size=None):
    """Write ``weights`` (llama2.c names, float arrays) of ``config`` as a llama2.c checkpoint.

    version 0 and 1 are float32 (run.c reads both); version 2 is int8 in groups of
    ``group_size`` inputs (default: the largest power of two <= 64 dividing dim and hidden_dim),
    quantized as llama2.c's export.py does, which runq.c reads. Returns ``path``.
    """
    rope = np.zeros((config.seq_len, config.head_dim // 2), np.float32)  # unused by readers
    with open(path, "wb") as f:
        if version == 0:
            vocab = config.vocab_size if config.shared_classifier else -config.vocab_size
            f.write(struct.pack("<7i", config.dim, config.hidden_dim, config.n_layers,
                                config.n_heads, config.n_kv_heads, vocab, config.seq_len))
            for name in legacy_order(config):
                f.write(_float32(weights.get(name, rope)))
        elif version == 1:
            f.write(_header(config, 1))
            for name in ak42_order(config):
                f.write(_float32(weights[name]))
        elif version == 2:
            group_size = group_size or quant.default_group_size(config.dim, config.hidden_dim)
            f.write(_header(config, 2, struct.pack("<i", group_size)))
            layers = range(config.n_layers)
            for name in [f"layers.{i}.attention_norm" for i in layers] + [
                    f"layers.{i}.ffn_norm" for i in layers] + ["norm"]:
                f.write(_float32(weights[name]))
            names = ["tok_embeddings"] + [f"layers.{i}.{w}" for w in Q8_ORDER for i in layers]
            for name in names + ([] if config.shared_classifier else ["output"]):
                q, scales = quant.quantize(weights[name], group_size)
                f.write(q.tobytes() + _float32(scales))
        else:
            raise ValueError(f"write_checkpoint: version {version} is not 0, 1 or 2")
    return path


def write_tokenizer(path, pieces, scores):
    """Write a llama2.c ``tokenizer.bin``: int32 longest piece, then per piece float32 score,
    int32 byte length and the bytes. Returns ``path``."""
    if len(pieces) != len(scores):
        raise ValueError(f"write_tokenizer: {len(pieces)} pieces but {len(scores)} scores")
    with open(path, "wb") as f:
        f.write(struct.pack("<i", max(len(p) for p in pieces)))
        for piece, score in zip(pieces, scores):
            f.write(struct.pack("<fi", score, len(piece)) + piece)
    return path
