"""``python -m examples.readme_images``: rerun the examples with the README's settings and write
their plots into docs/images/ (the README's pictures), about 4 minutes on 2 cores.

The examples themselves write into the working directory; this is the one command that changes
the tracked images.
"""
import argparse
import importlib
import os
import sys

IMAGES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                      "images")
# example -> the arguments the README's pictures were made with
RUNS = {
    "autodiff1d": [],
    "autodiff2d": [],
    "mnist": ["--epochs", "5"],
    "dropout_bn": [],
    "ts_prediction": [],
    "transformer": ["--dim", "128", "--epochs", "12", "--lr", "2e-3", "--batch-size", "64"],
}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m examples.readme_images", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"examples to rerun (default all: {', '.join(RUNS)})")
    args = p.parse_args(argv)
    unknown = [name for name in args.names if name not in RUNS]
    if unknown:
        p.error(f"unknown example(s) {unknown}; choose from {list(RUNS)}")
    for name in args.names or RUNS:
        print(f"== python -m examples.{name} {' '.join(RUNS[name])}", flush=True)
        module = importlib.import_module(f"examples.{name}")
        module.main([*RUNS[name], "--plot", os.path.join(IMAGES, f"{name}.png")])


if __name__ == "__main__":
    main(sys.argv[1:])
