"""Issue 13 items 12 and 13: llama.infer reports bad input files in one line with exit code 2;
Llama2cTokenizer.encode is linear-logarithmic and gives exactly the greedy merges."""
import os
import random
import struct
import subprocess
import sys

import numpy as np
import pytest
from robustness.capped import ROOT

from llama.tokenizer import Llama2cTokenizer


def run_infer(*args):
    return subprocess.run([sys.executable, "-m", "llama.infer", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("make_args", [
    lambda d: ["--random-init", "-n", "1", "--tokenizer", str(d / "missing.bin")],
    lambda d: ["--checkpoint", str(_write(d / "short.bin", b"\0" * 10)), "-n", "1"],
    lambda d: ["--checkpoint", str(_write(d / "bad.bin", struct.pack("<7i", 8, 12, 10**7, 2, 1,
                                                                     11, 16))), "-n", "1"],
    lambda d: ["--random-init", "-n", "1", "--tokenizer", str(_write(d / "t.bin", b"\0" * 6))],
    lambda d: ["--checkpoint", str(_folder_with_bad_config(d)), "-n", "1"],
], ids=["missing-tokenizer", "short-checkpoint", "huge-header", "bad-tokenizer", "bad-config"])
def test_bad_files_are_one_line_and_exit_code_2(tmp_path, make_args):
    proc = run_infer(*make_args(tmp_path))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llama.infer: "), proc.stderr
    assert "Traceback" not in proc.stderr


def _write(path, data):
    path.write_bytes(data)
    return path


def _folder_with_bad_config(tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": "64"}')
    (folder / "model.safetensors").write_bytes(b"")
    return folder


def greedy_merge_reference(tok, text):
    """The definition, quadratic: merge the best-scoring adjacent pair (leftmost on ties)."""
    ids = []
    for char in (" " + text if text else ""):
        raw = char.encode("utf-8")
        ids += [tok.lookup[raw]] if raw in tok.lookup else [tok.byte_ids[b] for b in raw]
    while len(ids) > 1:
        best, best_at, best_id = -np.inf, -1, -1
        for i in range(len(ids) - 1):
            merged = tok.lookup.get(tok.pieces[ids[i]] + tok.pieces[ids[i + 1]])
            if merged is not None and tok.scores[merged] > best:
                best, best_at, best_id = tok.scores[merged], i, merged
        if best_at < 0:
            break
        ids[best_at:best_at + 2] = [best_id]
    return ids


def toy_tokenizer(tmp_path):
    """A vocabulary with ties, pieces with inner spaces and byte fallback."""
    pieces = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % b for b in range(256)] + [
        b" ", b"a", b"b", b"c", b"ab", b"bc", b"abc", b" a", b"  ", b"   ", b"a ", b"ca",
        b" ab", b"cab", b"b b", b"aa", b"aaa"]
    scores = [0.0] * 259 + [0, 0, 0, 0, 1, 1, 2, 3, 1, 0.5, 1.5, 1, 3, 2, 0.7, 1, 1]
    data = struct.pack("<i", 8) + b"".join(struct.pack("<fi", s, len(p)) + p
                                           for p, s in zip(pieces, scores))
    (tmp_path / "toy.bin").write_bytes(data)
    return Llama2cTokenizer(str(tmp_path / "toy.bin"))


def test_heap_merge_equals_the_greedy_definition(tmp_path, llama_data_or_none):
    tokenizers = [toy_tokenizer(tmp_path)]
    if llama_data_or_none:
        tokenizers.append(Llama2cTokenizer(os.path.join(llama_data_or_none, "tokenizer.bin")))
    rnd = random.Random(0)
    alphabet = "abc  \u00e9\u4e2d\n."
    for tok in tokenizers:
        for _ in range(300):
            text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
            assert tok.encode(text, bos=False) == greedy_merge_reference(tok, text), repr(text)


def test_one_megabyte_encodes_and_round_trips(tmp_path, llama_data_or_none):
    """1 MB of text (the quadratic encode took 31 s for 20,000 characters; this one about
    0.2 s for 1 MB on the development VM). The timeout bounds it without timing it."""
    path = (os.path.join(llama_data_or_none, "tokenizer.bin") if llama_data_or_none else None)
    tok = Llama2cTokenizer(path) if path else toy_tokenizer(tmp_path)
    rnd = random.Random(1)
    words = ["Once", "upon", "a", "time", "there", "was", "a", "little", "girl", "named", "Lily",
             "abc", "cab", "\u00e9t\u00e9", "  ", "\n"]
    text = " ".join(rnd.choice(words) for _ in range(250_000))[:1_000_000]
    code = ("import sys; from llama.tokenizer import Llama2cTokenizer; t = Llama2cTokenizer("
            "sys.argv[1]); text = open(sys.argv[2]).read(); ids = t.encode(text); "
            "assert t.decode(ids) == text; print(len(ids))")
    (tmp_path / "text.txt").write_text(text)
    vocab = path or str(tmp_path / "toy.bin")
    proc = subprocess.run([sys.executable, "-c", code, vocab, str(tmp_path / "text.txt")],
                          cwd=ROOT, check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 0 < int(proc.stdout) < len(text)
    assert tok.decode(tok.encode(text[:5000])) == text[:5000]


@pytest.fixture
def llama_data_or_none():
    """The real tokenizer.bin folder when PYDYFAST_LLAMA_DATA is set (CI), else None: the toy
    vocabulary alone still checks the algorithm."""
    path = os.environ.get("PYDYFAST_LLAMA_DATA")
    return path if path and os.path.isdir(path) else None
