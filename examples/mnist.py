"""``python -m examples.mnist``: the 3-layer MLP and LeNet-5 on MNIST (PyDyNet's mnist example).

Reads the MNIST IDX files from ``--data DIR``; offline it trains on scikit-learn's bundled digits
upsampled to 28x28. Stated result: on the offline digits, ``--model mlp --epochs 3`` and
``--model lenet --epochs 3`` both reach test accuracy >= 0.90.
"""
import sys

from . import common, datasets, models
from .training import fit

BUILDERS = {"mlp": models.mlp, "lenet": models.lenet}


def main(argv=None, framework=None):
    """Train the chosen model(s), print the data used and the plot path; return the histories."""
    p = common.parser("mnist", __doc__, epochs=10, batch_size=128, lr=1e-3,
                      data_help="directory with MNIST's four *-ubyte.gz files")
    p.add_argument("--model", choices=["mlp", "lenet", "both"], default="both")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    args = p.parse_args(argv)
    fw = common.setup(args, framework)
    *data, description = datasets.load_mnist(args.data)
    if args.limit:
        data[0], data[1] = data[0][:args.limit], data[1][:args.limit]
    print(f"data: {description}; {len(data[0])} train / {len(data[2])} test images")
    names = ["mlp", "lenet"] if args.model == "both" else [args.model]
    histories, curves = {}, {}
    for name in names:
        fw.manual_seed(args.seed)
        model = fw.to_device(BUILDERS[name](fw))
        histories[name] = fit(fw, model, data, args.epochs, args.batch_size, args.lr,
                              f"{fw.name} {name}", args.quiet, args.seed)
        curves[f"{name} train"] = histories[name]["train"]
        curves[f"{name} test"] = histories[name]["test"]
        print(f"{name}: final test accuracy {histories[name]['test'][-1]:.4f}")
    path = common.save_curves(common.plot_path(args, "mnist"),
                              f"{fw.name}: MLP and LeNet-5 on {description.split(' (')[0]}",
                              curves,
                              losses={n: h["loss"] for n, h in histories.items()})
    print(f"plot: {path}")
    return histories


if __name__ == "__main__":
    main(sys.argv[1:])
