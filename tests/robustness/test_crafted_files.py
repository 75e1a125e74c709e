"""Crafted files for every loader (issue 13 items 2 and 3): pdf.load, llama2.c legacy / ak42 v1 /
ak42 v2, npz and Hugging Face folders (config.json + safetensors), tokenizer.bin and
tokenizer.json. Every file is loaded in one child process with its memory capped, so an
unbounded allocation or a crash fails these tests instead of the machine; each must raise the
loader's documented error naming the file (RuntimeError for pdf.load, ValueError for llama)."""
import io
import json
import struct
import zipfile

import numpy as np
import pytest
from robustness.capped import assert_no_signal, run_capped

from llama.loaders import _HF_NAMES, AK42_MAGIC
from llama.model import LlamaConfig, random_weights

SMALL = LlamaConfig(dim=8, hidden_dim=12, n_layers=2, n_heads=2, n_kv_heads=1, vocab_size=11,
                    seq_len=16)
HF_KEY = {short: long for long, short in _HF_NAMES.items()}


# ----------------------------------------------------------------------------- builders
def npy_bytes(array=None, header=None):
    """An .npy member: ``array``'s bytes under its own header, or under ``header`` (a dict
    literal claiming another shape)."""
    buf = io.BytesIO()
    np.save(buf, np.zeros(2) if array is None else array)
    raw = buf.getvalue()
    if header is None:
        return raw
    text = repr(header).encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + raw[128:]


def write_zip(path, members, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def manifest_member(root, **extra):
    text = json.dumps({"format": "pydyfast", "version": 1, "root": root, **extra})
    return npy_bytes(np.frombuffer(text.encode(), np.uint8))


def manifest_text(text):
    return npy_bytes(np.frombuffer(text.encode(), np.uint8))


def deep_manifest(depth):
    return ('{"format": "pydyfast", "version": 1, "root": ' + '{"list": [' * depth
            + '{"value": 1}' + "]}" * depth + "}")


def bomb(mebibytes):
    """An .npy of zeros that deflates from ``mebibytes`` MiB to a few hundred KiB."""
    return npy_bytes(np.zeros(mebibytes * 2**20, np.uint8))


def write_llama2c(path, fields, shared=1, version=None, body_bytes=None, group=0):
    """A llama2.c file: legacy header (version None) or ak42 ``version`` (2: int8 in groups of
    ``group``); ``body_bytes`` of zeros after the header (the float32 size when None)."""
    if version is None:
        header = struct.pack("<7i", *fields)
    else:
        header = struct.pack("<Ii7iBi", AK42_MAGIC, version, *fields, shared,
                             group).ljust(256, b"\0")
    if body_bytes is None:
        body_bytes = 4 * sum(int(np.prod(s)) for s in SMALL.weight_shapes().values())
        if version is None:
            body_bytes += 4 * 2 * SMALL.seq_len * SMALL.head_dim // 2
    path.write_bytes(header + bytes(body_bytes))
    return path


def hf_arrays(weights=None):
    weights = weights or random_weights(SMALL)
    out = {"model.embed_tokens.weight": weights["tok_embeddings"],
           "model.norm.weight": weights["norm"]}
    for name, value in weights.items():
        if name.startswith("layers."):
            _, i, short = name.split(".")
            out[f"model.layers.{i}.{HF_KEY[short]}.weight"] = np.ascontiguousarray(value)
    return out


def hf_config(**change):
    config = {"model_type": "llama", "hidden_size": SMALL.dim,
              "intermediate_size": SMALL.hidden_dim, "num_hidden_layers": SMALL.n_layers,
              "num_attention_heads": SMALL.n_heads, "num_key_value_heads": SMALL.n_kv_heads,
              "vocab_size": SMALL.vocab_size, "max_position_embeddings": SMALL.seq_len,
              "rms_norm_eps": 1e-5}
    config.update(change)
    return config


def write_hf(folder, config=None, arrays=None, raw_config=None):
    from safetensors.numpy import save_file
    folder.mkdir()
    (folder / "config.json").write_text(raw_config if raw_config is not None
                                        else json.dumps(config or hf_config()))
    save_file(arrays if arrays is not None else hf_arrays(), str(folder / "model.safetensors"))
    return folder


def write_npz(path, arrays, compress=False):
    return write_zip(path, {f"{k}.npy": npy_bytes(v) for k, v in arrays.items()},
                     zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)


def tokenizer_bin(path, pieces, claim=None):
    """A tokenizer.bin of (score, bytes) pieces; ``claim`` overrides the last length field."""
    out = struct.pack("<i", 16)
    for i, piece in enumerate(pieces):
        length = claim if claim is not None and i == len(pieces) - 1 else len(piece)
        out += struct.pack("<fi", 0.0, length) + piece
    path.write_bytes(out)
    return path


def without(mapping, *keys):
    return {k: v for k, v in mapping.items() if k not in keys}


def replaced(mapping, key, value):
    return dict(mapping, **{key: value})


# (id, loader, builder(tmp) -> path, expected error type, message fragment)
CASES = [
    # pdf.load (item 3)
    ("pdf-deep-manifest", "pdf", lambda d: write_zip(d / "deep.npz", {
        "__pydyfast__.npy": manifest_text(deep_manifest(100_000))}), "RuntimeError", "deep.npz"),
    ("pdf-deep-decoded", "pdf", lambda d: write_zip(d / "deep2.npz", {
        "__pydyfast__.npy": manifest_text(deep_manifest(200))}), "RuntimeError", "deeper"),
    ("pdf-manifest-list", "pdf", lambda d: write_zip(d / "list.npz", {
        "__pydyfast__.npy": manifest_text("[1, 2]")}), "RuntimeError", "list.npz"),
    ("pdf-manifest-null", "pdf", lambda d: write_zip(d / "null.npz", {
        "__pydyfast__.npy": manifest_text("null")}), "RuntimeError", "null.npz"),
    ("pdf-root-string", "pdf", lambda d: write_zip(d / "root.npz", {
        "__pydyfast__.npy": manifest_member("x")}), "RuntimeError", "non-empty object"),
    ("pdf-dict-not-pairs", "pdf", lambda d: write_zip(d / "pairs.npz", {
        "__pydyfast__.npy": manifest_member({"dict": [[1, 2, 3]]})}), "RuntimeError", "pairs"),
    ("pdf-missing-array", "pdf", lambda d: write_zip(d / "missing.npz", {
        "__pydyfast__.npy": manifest_member({"tensor": "a7"})}), "RuntimeError", "a7"),
    ("pdf-header-1TiB", "pdf", lambda d: write_zip(d / "tib.npz", {
        "__pydyfast__.npy": manifest_member({"array": "a0"}),
        "a0.npy": npy_bytes(np.zeros(2), {"descr": "<f8", "fortran_order": False,
                                          "shape": (2**37,)})}), "RuntimeError", "claims shape"),
    ("pdf-zip-bomb", "pdf", lambda d: write_zip(d / "bomb.npz", {
        "__pydyfast__.npy": manifest_member({"array": "a0"}), "a0.npy": bomb(64)},
        zipfile.ZIP_DEFLATED), "RuntimeError", "expands"),
    ("pdf-object-array", "pdf", lambda d: write_zip(d / "obj.npz", {
        "__pydyfast__.npy": manifest_member({"array": "a0"}),
        "a0.npy": npy_bytes(np.zeros(1), {"descr": "|O", "fortran_order": False,
                                          "shape": (1,)})}), "RuntimeError", "obj.npz"),
    # llama2.c legacy (v0), ak42 v1 and v2 (item 2)
    ("v0-ten-million-layers", "llama", lambda d: write_llama2c(
        d / "layers.bin", (8, 12, 10**7, 2, 1, 11, 16), body_bytes=2**20), "ValueError",
     "layers.bin"),
    ("v0-seq-len-2**31", "llama", lambda d: write_llama2c(
        d / "seq.bin", (8, 12, 2, 2, 1, 11, 2**31 - 1)), "ValueError", "seq.bin"),
    ("v0-negative-dim", "llama", lambda d: write_llama2c(
        d / "neg.bin", (-8, 12, 2, 2, 1, 11, 16)), "ValueError", "field dim"),
    ("v0-vocab-int-min", "llama", lambda d: write_llama2c(
        d / "vocab.bin", (8, 12, 2, 2, 1, -2**31, 16)), "ValueError", "field vocab_size"),
    ("v1-ten-million-layers", "llama", lambda d: write_llama2c(
        d / "v1layers.bin", (8, 12, 10**7, 2, 1, 11, 16), version=1, body_bytes=2**20),
     "ValueError", "v1layers.bin"),
    ("v1-seq-len-2**31", "llama", lambda d: write_llama2c(
        d / "v1seq.bin", (8, 12, 2, 2, 1, 11, 2**31 - 1), version=1), "ValueError", "KV cache"),
    ("v1-truncated-header", "llama", lambda d: (d / "v1short.bin").write_bytes(
        struct.pack("<Ii", AK42_MAGIC, 1) + bytes(20)) and d / "v1short.bin", "ValueError",
     "truncated"),
    ("v2-group-size-0", "llama", lambda d: write_llama2c(
        d / "v2.bin", (8, 12, 2, 2, 1, 11, 16), version=2), "ValueError", "group size 0"),
    ("v2-ten-million-layers", "llama", lambda d: write_llama2c(
        d / "v2layers.bin", (8, 12, 10**7, 2, 1, 11, 16), version=2, group=4,
        body_bytes=2**20), "ValueError", "version 2, group size 4"),
    ("v3-unsupported", "llama", lambda d: write_llama2c(
        d / "v3.bin", (8, 12, 2, 2, 1, 11, 16), version=3), "ValueError", "version 3"),
    # .npz with Hugging Face keys
    ("npz-1d-embedding", "llama", lambda d: write_npz(d / "emb.npz", replaced(
        hf_arrays(), "model.embed_tokens.weight", np.zeros(11, np.float32))), "ValueError",
     "expected 2-D"),
    ("npz-missing-k-proj", "llama", lambda d: write_npz(d / "nok.npz", without(
        hf_arrays(), "model.layers.0.self_attn.k_proj.weight")), "ValueError", "k_proj"),
    ("npz-layer-abc", "llama", lambda d: write_npz(d / "abc.npz", replaced(
        hf_arrays(), "model.layers.abc.mlp.up_proj.weight", np.zeros((12, 8), np.float32))),
     "ValueError", "model.layers.abc"),
    ("npz-layer-1e9", "llama", lambda d: write_npz(d / "far.npz", replaced(
        hf_arrays(), "model.layers.1000000000.mlp.up_proj.weight",
        np.zeros((12, 8), np.float32))), "ValueError", "layer numbers"),
    ("npz-int32-weight", "llama", lambda d: write_npz(d / "int.npz", replaced(
        hf_arrays(), "model.layers.1.mlp.up_proj.weight", np.zeros((12, 8), np.int32))),
     "ValueError", "int32"),
    ("npz-zip-bomb", "llama", lambda d: write_zip(d / "bomb.npz", {
        "model.embed_tokens.weight.npy": bomb(64)}, zipfile.ZIP_DEFLATED), "ValueError",
     "expands"),
    ("npz-header-1TiB", "llama", lambda d: write_zip(d / "tib.npz", {
        "model.embed_tokens.weight.npy": npy_bytes(np.zeros(2), {
            "descr": "<f4", "fortran_order": False, "shape": (2**20, 2**20)})}), "ValueError",
     "claims shape"),
    # Hugging Face folders: config.json fields and safetensors weights
    ("hf-config-list", "llama", lambda d: write_hf(d / "hf1", raw_config="[1, 2]"),
     "ValueError", "JSON object"),
    ("hf-hidden-size-string", "llama", lambda d: write_hf(
        d / "hf2", hf_config(hidden_size="64")), "ValueError", "field hidden_size"),
    ("hf-hidden-size-null", "llama", lambda d: write_hf(
        d / "hf3", hf_config(hidden_size=None)), "ValueError", "field hidden_size"),
    ("hf-eps-string", "llama", lambda d: write_hf(
        d / "hf4", hf_config(rms_norm_eps="small")), "ValueError", "field rms_norm_eps"),
    ("hf-layers-1e7", "llama", lambda d: write_hf(
        d / "hf5", hf_config(num_hidden_layers=10**7)), "ValueError", "layers"),
    ("hf-missing-k-proj", "llama", lambda d: write_hf(d / "hf6", arrays=without(
        hf_arrays(), "model.layers.1.self_attn.k_proj.weight")), "ValueError", "layers.1.wk"),
    ("hf-int32-weight", "llama", lambda d: write_hf(d / "hf7", arrays=replaced(
        hf_arrays(), "model.norm.weight", np.zeros(8, np.int32))), "ValueError", "int32"),
    ("hf-safetensors-header-lies", "llama", lambda d: (
        write_hf(d / "hf8"), (d / "hf8" / "model.safetensors").write_bytes(
            struct.pack("<Q", 2**40) + b"{}")) and d / "hf8", "ValueError", "safetensors"),
    # tokenizers
    ("tokenizer-bin-claims-2GiB", "tokenizer", lambda d: tokenizer_bin(
        d / "big.bin", [b"<unk>", b"<s>", b"</s>", b"a"], claim=2**31 - 1), "ValueError",
     "big.bin"),
    ("tokenizer-bin-negative", "tokenizer", lambda d: tokenizer_bin(
        d / "neg.bin", [b"<unk>", b"<s>", b"</s>", b"a"], claim=-5), "ValueError", "neg.bin"),
    ("tokenizer-bin-too-short", "tokenizer", lambda d: tokenizer_bin(
        d / "short.bin", [b"a"]), "ValueError", "short.bin"),
    ("tokenizer-json-garbage", "tokenizer", lambda d: (d / "tokenizer.json").write_text(
        '{"model": [' * 5000) and d / "tokenizer.json", "ValueError", "tokenizer.json"),
]

CHILD = """
import json, sys
path_of = json.loads(sys.argv[1])
out = {}
for case, (loader, path) in path_of.items():
    try:
        if loader == "pdf":
            import pydyfast
            pydyfast.load(path)
        elif loader == "llama":
            from llama.loaders import load_checkpoint
            load_checkpoint(path, n_heads=2 if path.endswith(".npz") else None)
        else:
            from llama.tokenizer import load_tokenizer
            load_tokenizer(path)
        out[case] = "no error"
    except Exception as exc:
        out[case] = type(exc).__name__ + ": " + " ".join(str(exc).split())[:400]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Build every crafted file, load them all in one capped child: case id -> error text."""
    folder = tmp_path_factory.mktemp("crafted")
    paths = {}
    for case, loader, build, _, _ in CASES:
        sub = folder / case
        sub.mkdir()
        paths[case] = (loader, str(build(sub)))
    proc = run_capped(CHILD, json.dumps(paths), timeout=600)
    assert_no_signal(proc)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case,error,fragment", [(c, e, f) for c, _, _, e, f in CASES],
                         ids=[c[0] for c in CASES])
def test_crafted_file_gives_the_documented_error(outcomes, case, error, fragment):
    assert outcomes[case].startswith(error + ": "), outcomes[case]
    assert fragment in outcomes[case], outcomes[case]


def test_good_files_still_load(tmp_path):
    """The checks refuse what is wrong, not what is right: a valid file of each kind loads."""
    import pydyfast
    from llama.loaders import load_checkpoint
    pydyfast.save({"w": np.arange(3.0), "n": [1, None]}, tmp_path / "ok.npz")
    assert pydyfast.load(tmp_path / "ok.npz")["n"] == [1, None]
    for model in (load_checkpoint(write_llama2c(tmp_path / "v0.bin", (8, 12, 2, 2, 1, 11, 16))),
                  load_checkpoint(write_llama2c(tmp_path / "v1.bin", (8, 12, 2, 2, 1, 11, 16),
                                                version=1)),
                  load_checkpoint(write_npz(tmp_path / "m.npz", hf_arrays()), n_heads=2),
                  load_checkpoint(write_npz(tmp_path / "z.npz", hf_arrays(), compress=True),
                                  n_heads=2),
                  load_checkpoint(write_hf(tmp_path / "hf"))):
        assert model.config.dim == 8 and model.config.n_layers == 2


def test_seq_len_caps_the_context_of_a_checkpoint(tmp_path):
    from llama.loaders import load_checkpoint
    path = write_llama2c(tmp_path / "long.bin", (8, 12, 2, 2, 1, 11, 2**31 - 1), version=1)
    assert load_checkpoint(path, seq_len=64).config.seq_len == 64
