"""Embedding: a lookup table of vectors indexed by integers."""
import numpy as np

from .. import functional as F
from .. import init
from ._params import empty_parameter, factory_kwargs
from .module import Module


class Embedding(Module):
    """indices (*) -> (*, embedding_dim); weight (num_embeddings, embedding_dim) ~ N(0, 1).

    Row ``padding_idx`` starts at zero and receives no gradient (a padding token's vector).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs("Embedding", device, dtype)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = empty_parameter(num_embeddings, embedding_dim, **factory)
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a copy of the 2-D ``embeddings``; frozen (no grad) by default."""
        data = embeddings.numpy() if hasattr(embeddings, "numpy") else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-D array, got shape "
                             f"{data.shape}")
        m = cls(*data.shape, padding_idx=padding_idx)
        m.weight.data = np.array(data, dtype=data.dtype)
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
