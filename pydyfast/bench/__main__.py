"""``python -m pydyfast.bench COMMAND [options]``: each command is the module of that name
in this package, with a ``main(argv)`` function."""
import importlib
import sys

COMMANDS = {
    "overhead": "per-op autograd overhead on tiny tensors, beside numpy and torch",
    "kernels": "compiled CPU/CUDA kernels beside their numpy reference and torch",
    "llama": "tokens/s of Llama decoding (stories15M shape)",
    "train": "seconds per training step of the example models beside torch and PyDyNet "
             "(--contend, --breakdown)",
    "distributed": "all-reduce bandwidth, DDP step time and overlap with 1 and 2 MPI processes",
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m pydyfast.bench COMMAND [options]\n\ncommands:")
        for name, doc in COMMANDS.items():
            print(f"  {name:9s} {doc}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        module = importlib.import_module(f"pydyfast.bench.{argv[0]}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pydyfast.bench.{argv[0]}":
            raise
        print(f"pydyfast.bench: the '{argv[0]}' benchmark is not available in this build")
        return 2
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
