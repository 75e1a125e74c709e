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
import math
import os
import struct
import zipfile

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

    n_heads, n_kv_heads : only for ``.npz`` files, whose arrays do not say them (a
    ``config.json`` beside the file is read when present). seq_len : the context length for an
    ``.npz``; for the other formats a cap on the file's (the KV cache is allocated for all of
    it). rotary : ``.npz`` q/k row layout, "interleaved" or "half" (Hugging Face).
    quantize="int8" quantizes float weights to int8 in groups of ``group_size`` inputs
    (default: the largest power of two <= 64 dividing dim and hidden_dim); an int8 file
    (llama2.c version 2) is int8 with its own group size either way.
    """
    path = os.fspath(path)
    if quantize not in (None, "int8"):
        raise ValueError(f"load_checkpoint: quantize must be None or 'int8', got {quantize!r}")
    if seq_len is not None:
        _int_field(path, "seq_len", seq_len)
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
    if seq_len is not None:
        config.seq_len = min(config.seq_len, seq_len)
    _check_cache_fits(path, config, np.dtype(dtype))
    return Llama(config, weights, dtype, group_size=group_size or 0)


_MAX_FIELD = 2**31 - 1  # llama2.c stores every size as an int32; no real model comes close


def _int_field(path, field, value, low=1, high=_MAX_FIELD):
    """``value`` if it is an integer in [low, high]; else ValueError naming the file and field
    (a string "64", None, a float or a bool from a config.json are all refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{path}: field {field} is {value!r}; expected an integer in "
                         f"[{low}, {high}]")
    return int(value)


def _float_field(path, field, value):
    """``value`` as a float if it is a finite positive number; else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{path}: field {field} is {value!r}; expected a positive number")
    return float(value)


def _check_cache_fits(path, config, dtype):
    """The KV cache (and rotary table) the model allocates at its first token, checked against
    this machine's memory now, instead of an out-of-memory kill at generation time."""
    cache = (2 * config.n_layers * config.kv_dim + config.head_dim) * config.seq_len
    need = cache * dtype.itemsize
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > have:
        raise ValueError(f"{path}: seq_len {config.seq_len} needs a {need / 2**30:.1f} GiB KV "
                         f"cache, more than this machine's {have / 2**30:.1f} GiB; pass "
                         f"seq_len= (a shorter context) to load_checkpoint")


def _config(path, fields, shared):
    for name, value in zip(_HEADER_FIELDS, fields):
        _int_field(path, name, value)
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
        offset = 256
    else:
        if len(head) < 28:
            raise ValueError(f"{path}: {len(head)} bytes is too short for a llama2.c header")
        fields = list(struct.unpack("<7i", head[:28]))
        shared = fields[5] > 0
        fields[5] = abs(fields[5])
        config = _config(path, fields, shared)
        offset = 28
    expected = offset + 4 * _llama2c_weight_count(config, legacy=offset == 28)
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but a llama2.c checkpoint with {config} has "
                         f"{expected} bytes ({'truncated' if size < expected else 'extra data'};"
                         f" wrong file or format?)")
    # Only now, with the sizes matching the file, build the per-layer names and shapes.
    order = legacy_order(config) if offset == 28 else ak42_order(config)
    shapes = config.weight_shapes()
    shapes.update(_legacy_rope_shapes(config))
    data = np.memmap(path, dtype="<f4", mode="r", offset=offset)
    weights, at = {}, 0
    for name in order:
        n = int(np.prod(shapes[name]))
        weights[name] = data[at:at + n].reshape(shapes[name])
        at += n
    return config, weights


def _llama2c_weight_count(config, legacy):
    """The float32 count of a llama2.c file of ``config``, by arithmetic: a header claiming
    10**7 layers is checked against the file size without building 10**7 names."""
    d, h, kv, v = config.dim, config.hidden_dim, config.kv_dim, config.vocab_size
    per_layer = 2 * d + 2 * d * d + 2 * kv * d + 3 * h * d  # 2 norms, wq wo, wk wv, w1 w2 w3
    count = v * d + config.n_layers * per_layer + d + (0 if config.shared_classifier else v * d)
    return count + (2 * config.seq_len * (config.head_dim // 2) if legacy else 0)


_GROUP_SIZE = "group_size"  # the weights entry that an int8 file adds: its group size


def _read_version2(path, config, group_size, size):
    """runq.c's int8 file: float32 norms, then per matrix int8 values and float32 scales per
    group of ``group_size`` inputs; matrices come back as (int8 (out, in), scales) pairs, and
    ``weights["group_size"]`` says the group size."""
    # Sizes by arithmetic first (every matrix has dim or hidden_dim inputs), as for version 1:
    # a header claiming 10**7 layers must not build 10**7 names before the size check.
    if group_size <= 0 or config.dim % group_size or config.hidden_dim % group_size:
        raise ValueError(f"{path}: group size {group_size} must be positive and divide every "
                         f"matrix's inputs ({config.dim} and {config.hidden_dim})")
    norm_floats = (2 * config.n_layers + 1) * config.dim
    matrix_values = _llama2c_weight_count(config, legacy=False) - norm_floats
    expected = 256 + 4 * norm_floats + matrix_values + 4 * matrix_values // group_size
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but an int8 llama2.c checkpoint (version 2, "
                         f"group size {group_size}) with {config} has {int(expected)} bytes "
                         f"({'truncated' if size < expected else 'extra data'})")
    shapes = config.weight_shapes()
    layers = range(config.n_layers)
    norms = ([f"layers.{i}.attention_norm" for i in layers] + [f"layers.{i}.ffn_norm"
                                                               for i in layers] + ["norm"])
    matrices = ["tok_embeddings"] + [f"layers.{i}.{w}" for w in
                                     ("wq", "wk", "wv", "wo", "w1", "w2", "w3") for i in layers]
    matrices += [] if config.shared_classifier else ["output"]
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
                weights[f"layers.{int(layer)}.{_HF_NAMES[name]}"] = value
    if rotary not in ("interleaved", "half"):
        raise ValueError(f"rotary must be 'interleaved' or 'half', got {rotary!r}")
    if "output" in weights and "tok_embeddings" in weights and np.array_equal(
            weights["output"], weights["tok_embeddings"]):
        del weights["output"]
    config.shared_classifier = "output" not in weights
    shapes = config.weight_shapes()
    missing = [k for k in shapes if k not in weights]
    if missing:
        raise ValueError(f"{path}: missing weights for {config}: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    for name, shape in shapes.items():
        _check_weight(path, name, weights[name], shape)
    if rotary == "half":
        for i in range(config.n_layers):
            for name, heads in (("wq", config.n_heads), ("wk", config.n_kv_heads)):
                key = f"layers.{i}.{name}"
                w = np.asarray(weights[key])
                weights[key] = (w.reshape(heads, 2, -1, w.shape[-1]).swapaxes(1, 2)
                                .reshape(w.shape))
    return weights


def _check_weight(path, name, array, shape=None):
    """A weight must be a floating-point array (of ``shape`` when given)."""
    if np.dtype(array.dtype).kind != "f":
        raise ValueError(f"{path}: weight '{name}' has dtype {array.dtype}, expected float16, "
                         f"float32 or float64")
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise ValueError(f"{path}: weight '{name}' has shape {tuple(array.shape)}, expected "
                         f"{tuple(shape)}")


def _count_layers(path, arrays):
    """The number of layers, from keys model.layers.<N>.*: N must run 0 .. n-1."""
    layers = set()
    for key in arrays:
        if key.startswith("model.layers."):
            index = key.split(".")[2]
            if not index.isdigit():
                raise ValueError(f"{path}: key {key} does not name a layer number")
            layers.add(int(index))
    if "model.embed_tokens.weight" not in arrays or not layers:
        raise ValueError(f"{path}: no 'model.embed_tokens.weight' / 'model.layers.N.*' arrays; "
                         f"not a Llama checkpoint with Hugging Face key names")
    if layers != set(range(len(layers))):
        raise ValueError(f"{path}: layer numbers must run 0 .. {len(layers) - 1}, got "
                         f"{sorted(layers)[:5]} ... {max(layers)}")
    return len(layers)


def _hf_matrix(path, arrays, key):
    """The 2-D float array ``key`` (a missing key or a 1-D embedding is a ValueError)."""
    if key not in arrays:
        raise ValueError(f"{path}: array {key} is missing")
    _check_weight(path, key, arrays[key])
    if arrays[key].ndim != 2:
        raise ValueError(f"{path}: array {key} has shape {arrays[key].shape}; expected 2-D")
    return arrays[key]


def _hf_config(path, hf):
    """Checked fields of a Hugging Face config.json (``hf`` must be a JSON object)."""
    if not isinstance(hf, dict):  # a ValueError like every other malformed file
        raise ValueError(  # noqa: TRY004
            f"{path}: expected a JSON object, got {type(hf).__name__}")
    fields = {}
    for field in ("num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                  "hidden_size", "intermediate_size", "num_hidden_layers", "vocab_size"):
        if hf.get(field) is not None or (field in hf and field != "num_key_value_heads"):
            fields[field] = _int_field(path, field, hf[field])
    for field in ("rms_norm_eps", "rope_theta"):
        if field in hf:
            fields[field] = _float_field(path, field, hf[field])
    return fields


def read_npz(path, n_heads=None, n_kv_heads=None, seq_len=None, rotary="interleaved"):
    """(config, weights) of an ``.npz`` with Hugging Face key names."""
    from pydyfast.serialization import read_npz_arrays
    try:
        # float weights deflate ~1.1x: 16x is generous for them and stops a zip bomb
        arrays = read_npz_arrays(path, path, max_expansion=16)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read as .npz: {exc}") from None
    side = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
    hf = _hf_config(side, _read_json(side)) if os.path.exists(side) else {}
    n_heads = n_heads or hf.get("num_attention_heads")
    if not n_heads:
        raise ValueError(f"{path}: an .npz does not record the number of attention heads; pass "
                         f"n_heads= (--n-heads) or put a Hugging Face config.json beside it")
    n_heads = _int_field(path, "n_heads", n_heads)
    n_layers = _count_layers(path, arrays)
    vocab, dim = _hf_matrix(path, arrays, "model.embed_tokens.weight").shape
    kv_rows = _hf_matrix(path, arrays, "model.layers.0.self_attn.k_proj.weight").shape[0]
    hidden = _hf_matrix(path, arrays, "model.layers.0.mlp.gate_proj.weight").shape[0]
    n_kv_heads = (n_kv_heads or hf.get("num_key_value_heads")
                  or kv_rows // max(dim // n_heads, 1))
    config = _config(path, (dim, hidden, n_layers, n_heads, n_kv_heads, vocab,
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
    raw = _read_json(config_path)
    hf = _hf_config(config_path, raw)
    if raw.get("model_type", "llama") != "llama":
        raise ValueError(f"{config_path}: model_type {raw.get('model_type')!r} is not 'llama'")
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
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{config_path}: {exc}") from None
    if _count_layers(tensors_path, arrays) != config.n_layers:
        raise ValueError(f"{path}: config.json says {config.n_layers} layers, model.safetensors "
                         f"holds {_count_layers(tensors_path, arrays)}")
    return config, _from_hf_names(tensors_path, arrays, config, "half")
