"""``python -m examples.transformer``: a 1-layer Transformer encoder (embedding, multi-head
self-attention, LayerNorm, feed-forward) classifying sentences as acceptable or not (PyDyNet's
CoLA example).

Reads CoLA's tokenized TSV files from ``--data DIR``; offline it learns a generated task:
well-formed sentences of a tiny grammar against the same words with two of them swapped.
Stated result: on the generated task, ``--dim 64 --epochs 10 --lr 3e-3 --batch-size 64``
reaches test accuracy >= 0.85.
"""
import sys

from . import common, datasets, models
from .training import fit


def main(argv=None, framework=None):
    """Train the transformer, print the data used and the plot path; return the history."""
    p = common.parser("transformer", __doc__, epochs=20, batch_size=128,
                      lr=5e-4, data_help="directory with CoLA's tokenized in_domain_*.tsv")
    p.add_argument("--dim", type=int, default=512, help="model width (default 512)")
    p.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    args = p.parse_args(argv)
    if args.dim % args.heads:
        p.error(f"--dim {args.dim} is not divisible by --heads {args.heads}")
    fw = common.setup(args, framework)
    x_train, y_train, x_test, y_test, vocab, description = datasets.load_sentences(args.data)
    print(f"data: {description}; {len(x_train)} train / {len(x_test)} test sentences, "
          f"vocabulary {vocab}, length {x_train.shape[1]}")
    fw.manual_seed(args.seed)
    model = fw.to_device(models.transformer_classifier(fw, vocab, x_train.shape[1], args.dim,
                                                       args.heads))
    history = fit(fw, model, (x_train, y_train, x_test, y_test), args.epochs, args.batch_size,
                  args.lr, f"{fw.name} transformer", args.quiet, args.seed,
                  extra=lambda ids: [models.padding_mask(ids)])
    print(f"final test accuracy {history['test'][-1]:.4f}")
    path = common.save_curves(common.plot_path(args, "transformer"),
                              f"{fw.name}: 1-layer Transformer, {description.split(' (')[0]}",
                              {"train": history["train"], "test": history["test"]},
                              losses={"transformer": history["loss"]})
    print(f"plot: {path}")
    return history


if __name__ == "__main__":
    main(sys.argv[1:])
