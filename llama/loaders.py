"""Checkpoint loaders, each chosen by the file it is given.

- llama2.c ``.bin``: the legacy header of seven int32 (dim, hidden_dim, n_layers, n_heads,
  n_kv_heads, vocab_size, seq_len; vocab_size < 0 means an unshared classifier follows the
  weights) or the versioned format (uint32 magic "ak42", int32 version 1, the seven int32, a
  uint8 shared-classifier flag, zero padding to 256 bytes), then float32 weights; version 2 is
  runq.c's int8 file (int32 group size after the flag; int8 matrices with float32 group scales).
- ``.npz`` with Hugging Face key names (``model.layers.N.self_attn.q_proj.weight``, ...), as
  llama3.np and PyDyNet use; rotary pairs interleaved (llama2.c export) unless told otherwise.
- a Hugging Face folder: ``config.json`` + ``model.safetensors``; its q/k rows use the half-split
  rotary layout and are reordered into interleaved pairs here.

Every loader checks sizes and shapes before building the model: a wrong, truncated or mismatched
file raises ``ValueError`` naming the file and what was expected, never a garbage run.
"""
import json
import os
import struct

import numpy as np

from .model import Llama, LlamaConfig
from .quant import default_group_size

AK42_MAGIC = 0x616B3432
_HEADER_FIELDS = ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                  "seq_len")
_HF_NAMES = {"input_layernorm": "attention_norm", "self_attn.q_proj": "wq",
             "self_attn.k_proj": "wk", "self_attn.v_proj": "wv", "self_attn.o_proj": "wo",
             "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "w1",
             "mlp.down_proj": "w2", "mlp.up_proj": "w3"}


def load_checkpoint(path, dtype=np.float32, n_heads=None, n_kv_heads=None, seq_len=None,
                    rotary="interleaved", quantize=None, group_size=None):
    """Read a checkpoint (see module doc) and return a :class:`Llama`.

    n_heads, n_kv_heads, seq_len : only for ``.npz`` files, whose arrays do not say them (a
    ``config.json`` beside the file is read when present). rotary : ``.npz`` q/k row layout,
    "interleaved" or "half" (Hugging Face). quantize="int8" quantizes float weights to int8 in
    groups of ``group_size`` inputs (default: the largest power of two <= 64 dividing dim and
    hidden_dim); an int8 file (llama2.c version 2) is int8 with its own group size either way.
    """
    path = os.fspath(path)
    if quantize not in (None, "int8"):
        raise ValueError(f"load_checkpoint: quantize must be None or 'int8', got {quantize!r}")
    if os.path.isdir(path):
        config, weights = read_hf_folder(path)
    elif path.endswith(".npz"):
        config, weights = read_npz(path, n_heads, n_kv_heads, seq_len, rotary)
    else:
        config, weights = read_llama2c(path)
    stored = weights.pop(_GROUP_SIZE, 0)
    if stored and group_size and group_size != stored:
        raise ValueError(f"{path}: int8 weights in groups of {stored}; cannot requantize them in "
                         f"groups of {group_size}")
    if stored:
        group_size = stored
    elif quantize:
        group_size = group_size or default_group_size(config.dim, config.hidden_dim)
    return Llama(config, weights, dtype, group_size=group_size or 0)


def _config(path, fields, shared):
    try:
        return LlamaConfig(**dict(zip(_HEADER_FIELDS, fields)), shared_classifier=shared)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a Llama checkpoint; header gives {fields}: {exc}") from None


def read_llama2c(path):
    """(config, weights) of a llama2.c checkpoint, legacy or ``ak42`` version 1 (memory-mapped)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(256)
    if len(head) >= 8 and struct.unpack("<I", head[:4])[0] == AK42_MAGIC:
        version = struct.unpack("<i", head[4:8])[0]
        if version not in (1, 2):
            raise ValueError(f"{path}: llama2.c 'ak42' format version {version} is not supported"
                             f" (version 1: float32, version 2: int8)")
        if len(head) < 256:
            raise ValueError(f"{path}: truncated 'ak42' header ({len(head)} of 256 bytes)")
        fields = struct.unpack("<7i", head[8:36])
        config = _config(path, fields, bool(head[36]))
        if version == 2:
            return config, _read_version2(path, config, struct.unpack("<i", head[37:41])[0], size)
        order = ak42_order(config)
        offset = 256
    else:
        if len(head) < 28:
            raise ValueError(f"{path}: {len(head)} bytes is too short for a llama2.c header")
        fields = list(struct.unpack("<7i", head[:28]))
        shared = fields[5] > 0
        fields[5] = abs(fields[5])
        config = _config(path, fields, shared)
        order = legacy_order(config)
        offset = 28
    shapes = config.weight_shapes()
    shapes.update(_legacy_rope_shapes(config))
    expected = offset + 4 * sum(int(np.prod(shapes[name])) for name in order)
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but a llama2.c checkpoint with {config} has "
                         f"{expected} bytes ({'truncated' if size < expected else 'extra data'};"
                         f" wrong file or format?)")
    data = np.memmap(path, dtype="<f4", mode="r", offset=offset)
    weights, at = {}, 0
    for name in order:
        n = int(np.prod(shapes[name]))
        weights[name] = data[at:at + n].reshape(shapes[name])
        at += n
    return config, weights


_GROUP_SIZE = "group_size"  # the weights entry that an int8 file adds: its group size


def _read_version2(path, config, group_size, size):
    """runq.c's int8 file: float32 norms, then per matrix int8 values and float32 scales per
    group of ``group_size`` inputs; matrices come back as (int8 (out, in), scales) pairs, and
    ``weights["group_size"]`` says the group size."""
    shapes = config.weight_shapes()
    layers = range(config.n_layers)
    norms = ([f"layers.{i}.attention_norm" for i in layers] + [f"layers.{i}.ffn_norm"
                                                               for i in layers] + ["norm"])
    matrices = ["tok_embeddings"] + [f"layers.{i}.{w}" for w in
                                     ("wq", "wk", "wv", "wo", "w1", "w2", "w3") for i in layers]
    matrices += [] if config.shared_classifier else ["output"]
    if group_size <= 0 or any(shapes[m][1] % group_size for m in matrices):
        raise ValueError(f"{path}: group size {group_size} must be positive and divide every "
                         f"matrix's inputs ({config.dim} and {config.hidden_dim})")
    expected = 256 + 4 * sum(config.dim for _ in norms) + sum(
        int(np.prod(shapes[m])) * (1 + 4 / group_size) for m in matrices)
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but an int8 llama2.c checkpoint (version 2, "
                         f"group size {group_size}) with {config} has {int(expected)} bytes "
                         f"({'truncated' if size < expected else 'extra data'})")
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=256)
    weights, at = {}, 0
    for name in norms:
        weights[name] = raw[at:at + 4 * config.dim].view("<f4")
        at += 4 * config.dim
    for name in matrices:
        rows, cols = shapes[name]
        q = raw[at:at + rows * cols].view(np.int8).reshape(rows, cols)
        at += rows * cols
        scales = raw[at:at + 4 * rows * cols // group_size].view("<f4")
        weights[name] = (q, scales.reshape(rows, cols // group_size))
        at += 4 * rows * cols // group_size
    weights[_GROUP_SIZE] = group_size
    return weights


def _legacy_rope_shapes(config):
    # The legacy format stores llama2.c's unused freq_cis tables; they are skipped on reading.
    half = (config.seq_len, config.head_dim // 2)
    return {"freq_cis_real": half, "freq_cis_imag": half}


def _per_layer(config, *names):
    return [f"layers.{i}.{name}" for name in names for i in range(config.n_layers)]


def legacy_order(config):
    order = (["tok_embeddings"] + _per_layer(config, "attention_norm", "wq", "wk", "wv", "wo",
                                             "ffn_norm", "w1", "w2", "w3")
             + ["norm", "freq_cis_real", "freq_cis_imag"])
    return order + ([] if config.shared_classifier else ["output"])


def ak42_order(config):
    order = (_per_layer(config, "attention_norm", "ffn_norm") + ["norm", "tok_embeddings"]
             + _per_layer(config, "wq", "wk", "wv", "wo", "w1", "w2", "w3"))
    return order + ([] if config.shared_classifier else ["output"])


def _from_hf_names(path, arrays, config, rotary):
    """Rename Hugging Face keys to llama2.c names; reorder half-split q/k rows to interleaved."""
    weights = {}
    for key, value in arrays.items():
        if key == "model.embed_tokens.weight":
            weights["tok_embeddings"] = value
        elif key == "model.norm.weight":
            weights["norm"] = value
        elif key == "lm_head.weight":
            weights["output"] = value
        elif key.startswith("model.layers.") and key.endswith(".weight"):
            layer, _, name = key[len("model.layers."):-len(".weight")].partition(".")
            if name in _HF_NAMES:
                weights[f"layers.{layer}.{_HF_NAMES[name]}"] = value
    if rotary not in ("interleaved", "half"):
        raise ValueError(f"rotary must be 'interleaved' or 'half', got {rotary!r}")
    if rotary == "half":
        for i in range(config.n_layers):
            for name, heads in (("wq", config.n_heads), ("wk", config.n_kv_heads)):
                key = f"layers.{i}.{name}"
                if key in weights:
                    w = np.asarray(weights[key])
                    weights[key] = (w.reshape(heads, 2, -1, w.shape[-1]).swapaxes(1, 2)
                                    .reshape(w.shape))
    if "output" in weights and "tok_embeddings" in weights and np.array_equal(
            weights["output"], weights["tok_embeddings"]):
        del weights["output"]
    config.shared_classifier = "output" not in weights
    missing = [k for k in config.weight_shapes() if k not in weights]
    if missing:
        raise ValueError(f"{path}: missing weights for {config}: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    return weights


def _count_layers(path, arrays):
    layers = {int(k.split(".")[2]) for k in arrays if k.startswith("model.layers.")}
    if "model.embed_tokens.weight" not in arrays or not layers:
        raise ValueError(f"{path}: no 'model.embed_tokens.weight' / 'model.layers.N.*' arrays; "
                         f"not a Llama checkpoint with Hugging Face key names")
    return max(layers) + 1


def read_npz(path, n_heads=None, n_kv_heads=None, seq_len=None, rotary="interleaved"):
    """(config, weights) of an ``.npz`` with Hugging Face key names."""
    try:
        arrays = dict(np.load(path))
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read as .npz: {exc}") from None
    side = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
    hf = _read_json(side) if os.path.exists(side) else {}
    n_heads = n_heads or hf.get("num_attention_heads")
    if not n_heads:
        raise ValueError(f"{path}: an .npz does not record the number of attention heads; pass "
                         f"n_heads= (--n-heads) or put a Hugging Face config.json beside it")
    embed = arrays.get("model.embed_tokens.weight")
    n_layers = _count_layers(path, arrays)
    dim = embed.shape[1]
    kv_rows = arrays["model.layers.0.self_attn.k_proj.weight"].shape[0]
    n_kv_heads = n_kv_heads or hf.get("num_key_value_heads") or kv_rows // (dim // n_heads)
    config = _config(path, (dim, arrays["model.layers.0.mlp.gate_proj.weight"].shape[0],
                            n_layers, n_heads, n_kv_heads, embed.shape[0],
                            seq_len or hf.get("max_position_embeddings", 2048)), True)
    config.norm_eps = hf.get("rms_norm_eps", config.norm_eps)
    config.rope_theta = hf.get("rope_theta", config.rope_theta)
    return config, _from_hf_names(path, arrays, config, rotary)


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read JSON: {exc}") from None


def read_hf_folder(path):
    """(config, weights) of a Hugging Face folder with config.json and model.safetensors."""
    config_path = os.path.join(path, "config.json")
    tensors_path = os.path.join(path, "model.safetensors")
    for needed in (config_path, tensors_path):
        if not os.path.exists(needed):
            raise ValueError(f"{path}: a Hugging Face model folder needs config.json and "
                             f"model.safetensors; {os.path.basename(needed)} is missing")
    hf = _read_json(config_path)
    if hf.get("model_type", "llama") != "llama":
        raise ValueError(f"{config_path}: model_type {hf.get('model_type')!r} is not 'llama'")
    from safetensors.numpy import load_file
    try:
        arrays = load_file(tensors_path)
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(f"{tensors_path}: cannot read safetensors (float32/float16 only): "
                         f"{exc}") from None
    try:
        config = LlamaConfig(
            dim=hf["hidden_size"], hidden_dim=hf["intermediate_size"],
            n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"],
            n_kv_heads=hf.get("num_key_value_heads") or hf["num_attention_heads"],
            vocab_size=hf["vocab_size"], seq_len=hf.get("max_position_embeddings", 2048),
            norm_eps=hf.get("rms_norm_eps", 1e-6), rope_theta=hf.get("rope_theta", 10000.0))
    except KeyError as exc:
        raise ValueError(f"{config_path}: missing field {exc}") from None
    if _count_layers(tensors_path, arrays) != config.n_layers:
        raise ValueError(f"{path}: config.json says {config.n_layers} layers, model.safetensors "
                         f"holds {_count_layers(tensors_path, arrays)}")
    return config, _from_hf_names(tensors_path, arrays, config, "half")
