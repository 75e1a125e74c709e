"""Every loader on files written here, checked against the plain-PyTorch forward; bad files."""
import json
import struct

import numpy as np
import pytest

from llama.export import write_checkpoint
from llama.loaders import load_checkpoint

from oracle import compare_with_torch

TOKENS = [1, 5, 36, 0, 17, 17, 2, 9, 30]


HF_KEYS = {"attention_norm": "input_layernorm", "wq": "self_attn.q_proj",
           "wk": "self_attn.k_proj", "wv": "self_attn.v_proj", "wo": "self_attn.o_proj",
           "ffn_norm": "post_attention_layernorm", "w1": "mlp.gate_proj", "w2": "mlp.down_proj",
           "w3": "mlp.up_proj"}


def to_half_split(w, heads):
    """Interleaved rotary rows -> Hugging Face's half-split rows (its conversion 'permute')."""
    return w.reshape(heads, -1, 2, w.shape[1]).swapaxes(1, 2).reshape(w.shape)


def hf_arrays(config, weights, half_split):
    out = {"model.embed_tokens.weight": weights["tok_embeddings"],
           "model.norm.weight": weights["norm"],
           "lm_head.weight": weights.get("output", weights["tok_embeddings"])}
    for name, value in weights.items():
        if name.startswith("layers."):
            _, i, short = name.split(".")
            if half_split and short in ("wq", "wk"):
                value = to_half_split(value, config.n_heads if short == "wq" else config.n_kv_heads)
            out[f"model.layers.{i}.{HF_KEYS[short]}.weight"] = np.ascontiguousarray(value)
    return out


def hf_config(config):
    return {"model_type": "llama", "hidden_size": config.dim,
            "intermediate_size": config.hidden_dim, "num_hidden_layers": config.n_layers,
            "num_attention_heads": config.n_heads, "num_key_value_heads": config.n_kv_heads,
            "vocab_size": config.vocab_size, "max_position_embeddings": config.seq_len,
            "rms_norm_eps": config.norm_eps, "rope_theta": config.rope_theta,
            "tie_word_embeddings": config.shared_classifier}


def with_hf_qk_rows(weights, hf):
    """``weights`` with q/k rows as written to the Hugging Face file (half-split layout)."""
    layers = {int(k.split(".")[2]) for k in hf if k.startswith("model.layers.")}
    return dict(weights, **{f"layers.{i}.{n}": hf[f"model.layers.{i}.self_attn.{k}.weight"]
                            for i in layers for n, k in (("wq", "q_proj"), ("wk", "k_proj"))})


def write_hf_folder(folder, config, weights):
    from safetensors.numpy import save_file
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(hf_config(config)))
    save_file(hf_arrays(config, weights, half_split=True), str(folder / "model.safetensors"))
    return folder


def check_against_torch(model, config, weights, torch_reference, interleaved=True,
                        dtype=np.float32):
    """Prefill of most of TOKENS, then one decode step, against the whole-sequence oracle
    (computed in float64, compared in the model's dtype)."""
    def ours(tokens):
        ids = tokens.numpy()
        return np.concatenate([model.logits(ids[:-1]), model.logits(ids[-1:])])

    def theirs(tokens):
        return torch_reference(config, weights, tokens.numpy(), interleaved).astype(dtype)
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    compare_with_torch(ours, theirs, [np.array(TOKENS)], dtype, grad=False, tol=tol)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "unshared"])
@pytest.mark.parametrize("fmt", ["legacy", "ak42"])
def test_llama2c_formats(tmp_path, small_config, small_weights, torch_reference, fmt, shared,
                         dtype):
    small_config.shared_classifier = shared
    if shared:
        del small_weights["output"]
    path = tmp_path / "model.bin"
    write_checkpoint(path, small_config, small_weights, version=0 if fmt == "legacy" else 1)
    if fmt == "legacy":  # negative vocab size in the header <=> unshared classifier
        assert (struct.unpack("<7i", path.read_bytes()[:28])[5] < 0) == (not shared)
    model = load_checkpoint(path, dtype=dtype)
    assert model.config == small_config
    assert (model.output is model.tok_embeddings) == shared
    check_against_torch(model, small_config, small_weights, torch_reference, dtype=dtype)


def test_npz_hf_keys(tmp_path, small_config, small_weights, torch_reference):
    path = tmp_path / "model.npz"
    np.savez(path, **hf_arrays(small_config, small_weights, half_split=False))
    model = load_checkpoint(path, n_heads=small_config.n_heads, seq_len=small_config.seq_len)
    assert (model.config.n_kv_heads, model.config.hidden_dim) == (2, 100)
    check_against_torch(model, small_config, small_weights, torch_reference)


def test_npz_reads_config_json_beside_it(tmp_path, small_config, small_weights, torch_reference):
    hf = hf_arrays(small_config, small_weights, half_split=True)
    np.savez(tmp_path / "model.npz", **hf)
    (tmp_path / "config.json").write_text(json.dumps(hf_config(small_config)))
    model = load_checkpoint(tmp_path / "model.npz", rotary="half")
    assert model.config.n_heads == 6
    hf_weights = with_hf_qk_rows(small_weights, hf)
    check_against_torch(model, small_config, hf_weights, torch_reference, interleaved=False)


def test_hf_folder_half_split_rotary(tmp_path, small_config, small_weights, torch_reference):
    folder = write_hf_folder(tmp_path / "hf", small_config, small_weights)
    model = load_checkpoint(folder)
    # the oracle reads the half-split rows as written and rotates halves, as Hugging Face does
    hf = hf_arrays(small_config, small_weights, half_split=True)
    hf_weights = with_hf_qk_rows(small_weights, hf)
    assert not np.allclose(hf_weights["layers.0.wq"], small_weights["layers.0.wq"])
    check_against_torch(model, small_config, hf_weights, torch_reference, interleaved=False)


def test_hf_folder_tied_embeddings(tmp_path, small_config, small_weights):
    small_config.shared_classifier = True
    del small_weights["output"]
    model = load_checkpoint(write_hf_folder(tmp_path / "hf", small_config, small_weights))
    assert model.output is model.tok_embeddings


# ------------------------------------------------------------------------------- bad files
def test_truncated_legacy_file(tmp_path, small_config, small_weights):
    path = tmp_path / "model.bin"
    write_checkpoint(path, small_config, small_weights, version=0)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(ValueError, match=r"model\.bin: .* bytes.*truncated"):
        load_checkpoint(path)


def test_legacy_file_with_extra_bytes(tmp_path, small_config, small_weights):
    path = tmp_path / "model.bin"
    write_checkpoint(path, small_config, small_weights, version=0)
    path.write_bytes(path.read_bytes() + b"\0" * 8)
    with pytest.raises(ValueError, match="extra data"):
        load_checkpoint(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"hello, this is a text file and not a model at all")
    with pytest.raises(ValueError, match="not a Llama checkpoint"):
        load_checkpoint(path)
    path.write_bytes(b"tiny")
    with pytest.raises(ValueError, match="too short"):
        load_checkpoint(path)


def test_ak42_other_version(tmp_path, small_config, small_weights):
    path = tmp_path / "model.bin"
    write_checkpoint(path, small_config, small_weights, version=1)
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack("<i", 3)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="version 3 is not supported"):
        load_checkpoint(path)


def test_npz_without_heads(tmp_path, small_config, small_weights):
    np.savez(tmp_path / "m.npz", **hf_arrays(small_config, small_weights, half_split=False))
    with pytest.raises(ValueError, match="number of attention heads"):
        load_checkpoint(tmp_path / "m.npz")


def test_npz_wrong_shape_and_missing(tmp_path, small_config, small_weights):
    arrays = hf_arrays(small_config, small_weights, half_split=False)
    arrays["model.layers.1.mlp.up_proj.weight"] = np.zeros((99, 48), np.float32)
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(ValueError,
                       match=r"layers\.1\.w3' has shape \(99, 48\), expected \(100, 48\)"):
        load_checkpoint(tmp_path / "m.npz", n_heads=6)
    del arrays["model.layers.1.mlp.up_proj.weight"]
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(ValueError, match=r"missing weights.*layers\.1\.w3"):
        load_checkpoint(tmp_path / "m.npz", n_heads=6)


def test_hf_folder_missing_file_and_mismatch(tmp_path, small_config, small_weights):
    folder = write_hf_folder(tmp_path / "hf", small_config, small_weights)
    cfg = hf_config(small_config)
    cfg["num_hidden_layers"] = 3
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="says 3 layers"):
        load_checkpoint(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="model.safetensors is missing"):
        load_checkpoint(folder)
