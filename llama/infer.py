"""``python -m llama.infer``: generate text with a Llama checkpoint, streaming to the terminal.

    python -m llama.infer                        # the small model shipped in llama/assets
    python -m llama.infer --checkpoint stories15M.bin --prompt "Once upon a time" -t 0.8
    python -m llama.infer --random-init          # stories15M architecture, random weights: speed

Without ``--checkpoint`` it runs the model that ``python -m llama.train`` made on the Python
documentation (llama/assets/pydoc: 0.8M parameters, byte-level, its tokenizer beside it).
"""
import argparse
import os
import sys
import time

from .loaders import load_checkpoint
from .model import Llama, LlamaConfig
from .quant import default_group_size
from .sampling import Sampler, generate, generate_ids
from .tokenizer import load_tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "assets", "pydoc", "model.bin")
WHERE_TO_GET = """\
llama.infer: no checkpoint at {checkpoint}.
Get stories15M.bin and tokenizer.bin from the llama2.c project
(https://github.com/karpathy/llama2.c: stories15M.bin from
https://huggingface.co/karpathy/tinyllamas, tokenizer.bin from the repository), place them in
{here}/ or pass --checkpoint PATH --tokenizer PATH. Or run --random-init to see the speed of
the stories15M architecture with random weights."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m llama.infer", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=SHIPPED,
                   help="llama2.c .bin, .npz with Hugging Face keys, or a Hugging Face folder")
    p.add_argument("--tokenizer", help="tokenizer.bin or tokenizer.json (default: beside the "
                   "checkpoint, else llama/tokenizer.bin)")
    p.add_argument("--prompt", default=None, help="text to continue (default: start from BOS; "
                   "'The ' for the shipped model)")
    p.add_argument("-n", "--max-tokens", type=int, default=256, help="new tokens at most")
    p.add_argument("-t", "--temperature", type=float, default=1.0, help="0 = greedy")
    p.add_argument("--top-p", type=float, default=0.9)
    p.add_argument("--top-k", type=int, default=0, help="0 = no top-k cut")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--n-heads", type=int, help=".npz only: number of attention heads")
    p.add_argument("--quantize", choices=["int8"], help="int8 weights (runq.c's group-wise "
                   "format; an int8 llama2.c file is int8 without this)")
    p.add_argument("--group-size", type=int, default=None,
                   help="inputs per int8 scale (default: the largest power of two <= 64 "
                   "dividing dim and hidden_dim)")
    p.add_argument("--random-init", action="store_true",
                   help="stories15M architecture with random weights (no checkpoint needed)")
    return p.parse_args(argv)


def _find_tokenizer(args):
    if args.tokenizer:
        return args.tokenizer
    folder = args.checkpoint if os.path.isdir(args.checkpoint) else os.path.dirname(
        os.path.abspath(args.checkpoint))
    for candidate in (os.path.join(folder, "tokenizer.json"), os.path.join(folder, "tokenizer.bin"),
                      os.path.join(HERE, "tokenizer.bin")):
        if os.path.exists(candidate):
            return candidate
    return None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = LlamaConfig()
    group_size = 0
    if args.quantize:
        group_size = args.group_size or default_group_size(config.dim, config.hidden_dim)
    if args.random_init:
        model = Llama.random(config, seed=0 if args.seed is None else args.seed,
                             dtype=args.dtype, group_size=group_size)
    elif not os.path.exists(args.checkpoint):
        print(WHERE_TO_GET.format(checkpoint=args.checkpoint, here=HERE), file=sys.stderr)
        return 2
    else:
        model = load_checkpoint(args.checkpoint, dtype=args.dtype, n_heads=args.n_heads,
                                quantize=args.quantize, group_size=args.group_size)
    if args.device != "cpu":
        model.to(device=args.device)
    tokenizer_path = _find_tokenizer(args)
    tokenizer = load_tokenizer(tokenizer_path) if tokenizer_path else None
    if tokenizer is None:
        why = "no tokenizer.bin or tokenizer.json was found beside the checkpoint or in " + HERE
    elif tokenizer.vocab_size != model.config.vocab_size:
        why = (f"tokenizer {tokenizer_path} has {tokenizer.vocab_size} tokens, the model "
               f"{model.config.vocab_size}")
        tokenizer = None
    if tokenizer is None:
        if args.prompt:  # a prompt cannot be encoded without the model's vocabulary
            print(f"llama.infer: cannot encode --prompt: {why}; pass --tokenizer PATH with the "
                  f"model's vocabulary, or leave out --prompt to generate token ids",
                  file=sys.stderr)
            return 2
        print(f"llama.infer: {why}; printing token ids", file=sys.stderr)
    if args.prompt is None:
        args.prompt = "The " if args.checkpoint == SHIPPED and tokenizer is not None else ""
    sampler = Sampler(args.temperature, args.top_p, args.top_k, args.seed)

    start = time.perf_counter()
    count = 0
    if tokenizer is None:  # no vocabulary: show ids, which is enough to see the speed
        pieces = (f"{token} " for token in generate_ids(model, [1], args.max_tokens, sampler, 2))
    else:
        print(args.prompt, end="", flush=True)
        pieces = generate(model, tokenizer, args.prompt, args.max_tokens, sampler)
    for piece in pieces:
        count += 1
        print(piece, end="", flush=True)
    elapsed = time.perf_counter() - start
    print(f"\nToken count: {count}, elapsed: {elapsed:.2f} s, "
          f"{count / max(elapsed, 1e-9):.1f} tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
