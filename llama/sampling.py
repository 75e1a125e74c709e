"""Choosing the next token from logits, and the generation loop."""
import numpy as np

from pydyfast import no_grad
from pydyfast.backend import array_module

from .tokenizer import TextStream


class Sampler:
    """Next-token choice: greedy at temperature 0, else sampling from softmax(logits / T),
    restricted to the ``top_k`` most likely tokens (0: all) and to the smallest set whose
    probability reaches ``top_p`` (1.0: all). ``seed`` makes the choice reproducible."""

    def __init__(self, temperature=1.0, top_p=0.9, top_k=0, seed=None):
        # written as "not (valid)" so that NaN, which fails every comparison, is refused too
        if not temperature >= 0 or not 0.0 < top_p <= 1.0 or not top_k >= 0:
            raise ValueError(f"Sampler: need temperature >= 0, 0 < top_p <= 1, top_k >= 0; got "
                             f"temperature={temperature}, top_p={top_p}, top_k={top_k}")
        self.temperature, self.top_p, self.top_k = temperature, top_p, top_k
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits):
        """Token id for logits (vocab,) (a numpy or cupy array)."""
        if array_module(logits) is not np:
            logits = logits.get()
        if self.temperature == 0:
            return int(np.argmax(logits))
        z = logits.astype(np.float64) / self.temperature
        order = np.argsort(-z, kind="stable")
        if self.top_k:
            order = order[:self.top_k]
        p = np.exp(z[order] - z[order[0]])
        p /= p.sum()
        if self.top_p < 1.0:  # keep the head of the sorted list whose mass reaches top_p
            keep = int(np.searchsorted(np.cumsum(p), self.top_p)) + 1
            order, p = order[:keep], p[:keep] / p[:keep].sum()
        return int(order[self.rng.choice(len(order), p=p)])


def generate_ids(model, prompt_ids, max_new_tokens, sampler, eos_id=None):
    """Yield up to ``max_new_tokens`` new ids after ``prompt_ids``, stopping after ``eos_id`` or
    at the model's context length. The prompt goes through the model in one call (prefill)."""
    if not prompt_ids:
        raise ValueError("generate: the prompt needs at least one token (e.g. BOS)")
    limit = model.config.seq_len - len(prompt_ids)
    if limit < 0:
        raise ValueError(f"generate: a prompt of {len(prompt_ids)} tokens exceeds the context of "
                         f"{model.config.seq_len}")
    with no_grad():
        model.reset()
        logits = model.logits(np.asarray(prompt_ids))[-1]
        for i in range(min(max_new_tokens, limit + 1)):
            token = sampler(logits)
            yield token
            if token == eos_id or i + 1 == min(max_new_tokens, limit + 1):
                return
            logits = model.logits(np.array([token]))[0]


def generate(model, tokenizer, prompt="", max_new_tokens=256, sampler=None):
    """Yield the text of the continuation of ``prompt`` piece by piece (stops at EOS)."""
    sampler = sampler or Sampler(temperature=0.0)
    prompt_ids = tokenizer.encode(prompt, bos=True)
    stream = TextStream(tokenizer, prompt_ids)
    for token in generate_ids(model, prompt_ids, max_new_tokens, sampler, tokenizer.eos_id):
        if token != tokenizer.eos_id:
            yield stream.push(token)
