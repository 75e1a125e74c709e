"""Tokenizers: llama2.c's ``tokenizer.bin`` (exact, byte-level) and Hugging Face ``tokenizer.json``.

Both give ``encode(text, bos=True, eos=False) -> list[int]``, ``decode(ids) -> str`` and
``bos_id``/``eos_id``; :class:`TextStream` turns ids arriving one by one into text pieces.
"""
import codecs
import os
import struct

import numpy as np


class Llama2cTokenizer:
    """SentencePiece-BPE vocabulary in llama2.c's ``tokenizer.bin`` format.

    File: int32 max_token_length, then per token float32 score, int32 byte length, the bytes
    (pieces with '▁' already turned into ' '; ``<0xNN>`` pieces for byte fallback).

    encode: a leading ' ' (SentencePiece's dummy prefix) when the text is not empty, one piece per
    UTF-8 character (or its bytes as ``<0xNN>`` when the character is not in the vocabulary),
    then repeatedly merge the adjacent pair whose concatenation is the highest-scoring piece.
    decode: concatenate the pieces' bytes and drop the dummy-prefix space at the start; every
    other character is kept, so decode(encode(text)) == text.
    """

    bos_id, eos_id = 1, 2

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        pieces, scores, at = [], [], 4
        while at < len(data):
            if at + 8 > len(data):
                raise ValueError(f"{path}: truncated llama2.c tokenizer at byte {at}")
            score, length = struct.unpack_from("<fi", data, at)
            if length < 0 or at + 8 + length > len(data):
                raise ValueError(f"{path}: token {len(pieces)} claims {length} bytes at byte "
                                 f"{at}; truncated or not a llama2.c tokenizer.bin")
            pieces.append(data[at + 8:at + 8 + length])
            scores.append(score)
            at += 8 + length
        if len(pieces) < 3:
            raise ValueError(f"{path}: not a llama2.c tokenizer.bin ({len(data)} bytes)")
        self.pieces, self.scores = pieces, np.asarray(scores, np.float32)
        self.lookup = {}
        for i, piece in enumerate(pieces):
            self.lookup.setdefault(piece, i)
        self.byte_ids = [self.lookup.get(b"<0x%02X>" % b) for b in range(256)]
        # decoded bytes of every id: byte-fallback pieces stand for their byte
        self.token_bytes = [bytes([int(p[3:5], 16)]) if len(p) == 6 and p.startswith(b"<0x")
                            and p.endswith(b">") else p for p in pieces]
        for special in (self.bos_id, self.eos_id):
            self.token_bytes[special] = b""

    @property
    def vocab_size(self):
        return len(self.pieces)

    def encode(self, text, bos=True, eos=False):
        ids = []
        for char in (" " + text if text else ""):
            raw = char.encode("utf-8")
            if raw in self.lookup:
                ids.append(self.lookup[raw])
            elif all(self.byte_ids[b] is not None for b in raw):
                ids.extend(self.byte_ids[b] for b in raw)
            else:
                raise ValueError(f"tokenizer: {char!r} is not in the vocabulary and it has no "
                                 f"byte-fallback pieces")
        self._merge(ids)
        return [self.bos_id] * bos + ids + [self.eos_id] * eos

    def _merge(self, ids):
        """Merge the best-scoring adjacent pair until no concatenation is a piece (in place)."""
        pieces, lookup, scores = self.pieces, self.lookup, self.scores
        while len(ids) > 1:
            best, best_at, best_id = -np.inf, -1, -1
            for i in range(len(ids) - 1):
                merged = lookup.get(pieces[ids[i]] + pieces[ids[i + 1]])
                if merged is not None and scores[merged] > best:
                    best, best_at, best_id = scores[merged], i, merged
            if best_at < 0:
                return
            ids[best_at:best_at + 2] = [best_id]

    def decode_bytes(self, ids):
        raw = b"".join(self.token_bytes[i] for i in ids)
        return raw[1:] if raw.startswith(b" ") else raw

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


class HFTokenizer:
    """A Hugging Face ``tokenizer.json`` through the ``tokenizers`` package."""

    def __init__(self, path):
        from tokenizers import Tokenizer
        try:
            self.tok = Tokenizer.from_file(os.fspath(path))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception
            raise ValueError(f"{path}: cannot read a Hugging Face tokenizer.json: {exc}") from None
        vocab = self.tok.get_vocab()
        self.bos_id = next((vocab[t] for t in ("<s>", "<|begin_of_text|>") if t in vocab), None)
        self.eos_id = next((vocab[t] for t in ("</s>", "<|end_of_text|>", "<|eot_id|>")
                            if t in vocab), None)

    @property
    def vocab_size(self):
        return self.tok.get_vocab_size()

    def encode(self, text, bos=True, eos=False):
        ids = self.tok.encode(text, add_special_tokens=False).ids
        return ([self.bos_id] if bos and self.bos_id is not None else []) + ids + (
            [self.eos_id] if eos and self.eos_id is not None else [])

    def decode(self, ids):
        return self.tok.decode(list(ids), skip_special_tokens=True)


def load_tokenizer(path):
    """A tokenizer for ``path``: a ``tokenizer.json`` (or a folder holding one) or a llama2.c
    ``tokenizer.bin``."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    if path.endswith(".json"):
        return HFTokenizer(path)
    return Llama2cTokenizer(path)


class TextStream:
    """Text of generated ids as they arrive: ``push(id)`` returns the new characters.

    A character split over several byte tokens comes out once its last byte has arrived; the
    pieces add up to ``decode(prefix_ids + ids)`` minus ``decode(prefix_ids)`` (the prompt).
    """

    def __init__(self, tokenizer, prefix_ids=()):
        self.tokenizer = tokenizer
        self.ids = list(prefix_ids)
        self.text = tokenizer.decode(self.ids)
        if isinstance(tokenizer, Llama2cTokenizer):
            self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self._started = any(tokenizer.token_bytes[i] for i in self.ids)

    def push(self, token):
        if isinstance(self.tokenizer, Llama2cTokenizer):
            raw = self.tokenizer.token_bytes[token]
            if not self._started and raw:  # the dummy-prefix space of the first piece
                raw, self._started = raw[1:] if raw.startswith(b" ") else raw, True
            return self._utf8.decode(raw)
        # Other tokenizers: decode the whole output, hold back an unfinished character.
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids)
        if text.endswith("\ufffd"):
            return ""
        new, self.text = text[len(self.text):], text
        return new
