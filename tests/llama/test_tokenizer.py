"""llama2.c tokenizer.bin against sentencepiece on tokenizer.model; streaming; HF tokenizer.json."""
import os

import pytest

from llama.tokenizer import HFTokenizer, Llama2cTokenizer, TextStream, load_tokenizer

TEXTS = [
    "Once upon a time, there was a little girl named Lily.",
    "his toy",  # PyDyNet's sample printed "hi toy": every character must come back
    " leading space", "  two leading spaces", "trailing space ", "a\nnew line\n\nand tabs\t!",
    "héllo wörld, ça va? 你好，世界 🦙🚀 Ωμέγα", "\u00a0non-breaking\u2009thin",
    "x", "42 + 7 = 49; e^(iπ) = -1", "CamelCaseWordsAndALLCAPS", "<s> </s> <0x41> tags as text",
]


@pytest.fixture(scope="module")
def tok(llama_data):
    return Llama2cTokenizer(os.path.join(llama_data, "tokenizer.bin"))


@pytest.fixture(scope="module")
def sp(llama_data):
    spm = pytest.importorskip("sentencepiece")
    return spm.SentencePieceProcessor(model_file=os.path.join(llama_data, "tokenizer.model"))


@pytest.mark.parametrize("text", TEXTS)
def test_encode_matches_sentencepiece(tok, sp, text):
    assert tok.encode(text, bos=False) == sp.encode(text)


@pytest.mark.parametrize("text", TEXTS + [""])
def test_decode_round_trip_and_sentencepiece(tok, sp, text):
    ids = tok.encode(text, bos=True, eos=True)
    assert ids[0] == tok.bos_id == sp.bos_id() and ids[-1] == tok.eos_id == sp.eos_id()
    assert tok.decode(ids) == text
    assert tok.decode(ids) == sp.decode(ids)


def test_byte_fallback(tok, sp):
    ids = tok.encode("🦙", bos=False)
    assert [tok.pieces[i] for i in ids[1:]] == [b"<0xF0>", b"<0x9F>", b"<0xA6>", b"<0x99>"]
    assert tok.decode(ids) == "🦙" == sp.decode(ids)


def test_decode_of_sentencepiece_ids(tok, sp):
    text = "Tim and his toy car went to the park. They played all day!"
    assert tok.decode(sp.encode(text)) == text


@pytest.fixture(scope="module")
def toy_tok(toy_tokenizer_file):
    return Llama2cTokenizer(toy_tokenizer_file)


@pytest.mark.parametrize("prompt", ["", "Once upon"])
def test_stream_pieces_add_up_to_decode(toy_tok, prompt):
    tok = toy_tok
    prompt_ids = tok.encode(prompt, bos=True)
    new = tok.encode(" a time 🦙 his toy, 你好", bos=False)
    stream = TextStream(tok, prompt_ids)
    pieces = [stream.push(i) for i in new]
    assert "".join(pieces) == tok.decode(prompt_ids + new)[len(tok.decode(prompt_ids)):]
    assert "\ufffd" not in "".join(pieces)  # a split emoji comes out whole, once complete


def test_truncated_tokenizer_file(tmp_path, toy_tokenizer_file):
    data = open(toy_tokenizer_file, "rb").read()
    (tmp_path / "t.bin").write_bytes(data[:1000])
    with pytest.raises(ValueError, match="truncated"):
        Llama2cTokenizer(tmp_path / "t.bin")


@pytest.fixture
def hf_tokenizer_file(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "hello": 3, "world": 4, "his": 5, "toy": 6}
    t = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    t.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    t.add_special_tokens(["<s>", "</s>"])
    path = tmp_path / "tokenizer.json"
    t.save(str(path))
    return path


def test_hf_tokenizer_json(hf_tokenizer_file):
    tok = load_tokenizer(hf_tokenizer_file.parent)  # a folder holding tokenizer.json
    assert isinstance(tok, HFTokenizer) and (tok.bos_id, tok.eos_id) == (1, 2)
    assert tok.encode("hello his toy", bos=True, eos=True) == [1, 3, 5, 6, 2]
    assert tok.decode([1, 3, 5, 6, 2]) == "hello his toy"
    stream = TextStream(tok, [1])
    assert "".join(stream.push(i) for i in [3, 5, 6]).split() == ["hello", "his", "toy"]


def test_bad_tokenizer_json(tmp_path):
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read a Hugging Face tokenizer.json"):
        load_tokenizer(tmp_path / "tokenizer.json")
