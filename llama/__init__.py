"""Llama-family inference on pydyfast: ``python -m llama.infer``.

>>> from llama import load_checkpoint, load_tokenizer, generate
>>> model = load_checkpoint("llama/stories15M.bin")
>>> tok = load_tokenizer("llama/tokenizer.bin")
>>> for piece in generate(model, tok, "Once upon a time", max_new_tokens=64): print(piece, end="")
"""
from .model import Llama, LlamaConfig  # noqa: F401
from .loaders import load_checkpoint  # noqa: F401
from .tokenizer import HFTokenizer, Llama2cTokenizer, load_tokenizer  # noqa: F401
from .sampling import Sampler, generate  # noqa: F401
