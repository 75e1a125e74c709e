"""Tokenizers: llama2.c's ``tokenizer.bin`` (exact, byte-level) and Hugging Face ``tokenizer.json``.

Both give ``encode(text, bos=True, eos=False) -> list[int]``, ``decode(ids) -> str`` and
``bos_id``/``eos_id``; :class:`TextStream` turns ids arriving one by one into text pieces.
"""
import codecs
import heapq
import os
import struct

import numpy as np

_SEGMENT_CACHE_SIZE = 65536  # encoded words kept (text repeats words; cleared when full)


def _fallback_byte(piece):
    """The byte a ``<0xNN>`` byte-fallback piece stands for, else None (also for ``<0xZZ>``)."""
    if len(piece) == 6 and piece.startswith(b"<0x") and piece.endswith(b">"):
        try:
            return bytes([int(piece[3:5], 16)])
        except ValueError:
            return None
    return None


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
        self._score_list = self.scores.tolist()  # Python floats: fast in the merge heap
        self._bytes_before_space = {p[i] for p in pieces for i in range(len(p) - 1)
                                    if p[i + 1] == 0x20}
        self._segment_cache = {}
        self.lookup = {}
        for i, piece in enumerate(pieces):
            self.lookup.setdefault(piece, i)
        self.byte_ids = [self.lookup.get(b"<0x%02X>" % b) for b in range(256)]
        # decoded bytes of every id: byte-fallback pieces stand for their byte
        self.token_bytes = [_fallback_byte(p) or p for p in pieces]
        for special in (self.bos_id, self.eos_id):
            self.token_bytes[special] = b""

    @property
    def vocab_size(self):
        return len(self.pieces)

    def encode(self, text, bos=True, eos=False):
        ids = []
        for segment in self._segments(" " + text if text else ""):
            ids.extend(self._encode_segment(segment))
        return [self.bos_id] * bos + ids + [self.eos_id] * eos

    def _segments(self, text):
        """``text`` cut before spaces that no merge can cross, so that each segment can be
        merged (and cached) alone with the same result as merging the whole text.

        Every merged token is a piece, so a boundary is never crossed when no piece holds the
        byte on its left followed by a space (for tinyllamas' vocabulary that is every space
        after a letter); a space after a byte that can precede one stays inside its segment.
        """
        words = text.split(" ")
        segment = [words[0]]
        for word in words[1:]:
            last = segment[-1]
            if last and self._last_byte(last[-1]) not in self._bytes_before_space:
                yield " ".join(segment)
                segment = ["", word]
            else:
                segment.append(word)
        yield " ".join(segment)

    def _last_byte(self, char):
        raw = char.encode("utf-8")
        return raw[-1] if raw in self.lookup else ord(">")  # byte fallback ends in "<0xNN>"

    def _encode_segment(self, segment):
        cached = self._segment_cache.get(segment)
        if cached is not None:
            return cached
        ids = []
        for char in segment:
            raw = char.encode("utf-8")
            if raw in self.lookup:
                ids.append(self.lookup[raw])
            elif all(self.byte_ids[b] is not None for b in raw):
                ids.extend(self.byte_ids[b] for b in raw)
            else:
                raise ValueError(f"tokenizer: {char!r} is not in the vocabulary and it has no "
                                 f"byte-fallback pieces")
        self._merge(ids)
        if len(self._segment_cache) >= _SEGMENT_CACHE_SIZE:
            self._segment_cache.clear()
        self._segment_cache[segment] = ids
        return ids

    def _merge(self, ids):
        """Merge the best-scoring adjacent pair (the leftmost of equal scores) until no
        concatenation is a piece, in place.

        A heap of merge candidates over a linked list of the current tokens: each merge pops
        one candidate and pushes at most two (with its new neighbours), so n characters take
        O(n log n) instead of the O(n^2) of rescanning every pair. A candidate is stale when
        either of its tokens has changed since it was pushed; merged pieces are strictly longer
        than their parts, so an unchanged (position, token) pair means an unchanged token.
        """
        n = len(ids)
        if n < 2:
            return
        pieces, lookup, scores = self.pieces, self.lookup, self._score_list
        tokens = list(ids)
        nxt = list(range(1, n + 1))  # n marks the end
        prv = list(range(-1, n - 1))

        def candidate(left, right):
            merged = lookup.get(pieces[tokens[left]] + pieces[tokens[right]])
            if merged is None:
                return None
            # Positions only ever shrink to their left node's index, so the index orders
            # candidates left to right: equal scores merge leftmost first, as a rescan would.
            return (-scores[merged], left, right, tokens[left], tokens[right], merged)

        heap = [c for c in (candidate(i, i + 1) for i in range(n - 1)) if c is not None]
        heapq.heapify(heap)
        alive = [True] * n
        while heap:
            _, left, right, left_token, right_token, merged = heapq.heappop(heap)
            if (not alive[left] or not alive[right] or nxt[left] != right
                    or tokens[left] != left_token or tokens[right] != right_token):
                continue
            tokens[left] = merged
            alive[right] = False
            after = nxt[right]
            nxt[left] = after
            if after < n:
                prv[after] = left
            before = prv[left]
            for a, b in ((before, left), (left, after)):
                if a >= 0 and b < n and (c := candidate(a, b)) is not None:
                    heapq.heappush(heap, c)
        ids[:] = [tokens[i] for i in range(n) if alive[i]]

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
