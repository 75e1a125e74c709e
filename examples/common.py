"""What every example shares: its command line, the per-epoch progress bar and the plots."""
import argparse
import importlib.util
import os
import textwrap

import numpy as np

# What the examples import besides pydyfast: the `examples` extra of pyproject.toml.
EXTRAS = {"matplotlib": "matplotlib", "sklearn": "scikit-learn", "tqdm": "tqdm"}


def parser(prog, doc, epochs, lr, batch_size=None, data_help=None):
    """An ``argparse`` parser with the options every example takes; ``--help`` shows ``doc``
    (the example's module docstring) whole.

    ``--device cpu|cuda``, ``--epochs``, ``--lr``, ``--seed``, ``--threads``, ``--batch-size``
    (examples that train on batches),
    ``--plot PATH`` (default ``<prog>.png`` in the working directory), ``--framework`` (pydyfast
    by default; ``examples.pytorch`` sets torch), and ``--data DIR`` when the example can read
    real data.
    """
    p = argparse.ArgumentParser(prog=f"python -m examples.{prog}",
                                description=textwrap.dedent(doc).strip(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--epochs", type=int, default=epochs, help=f"default {epochs}")
    if batch_size is not None:
        p.add_argument("--batch-size", type=int, default=batch_size, help=f"default {batch_size}")
    p.add_argument("--lr", type=float, default=lr, help=f"learning rate, default {lr}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--plot", default=None, help=f"PNG path (default ./{prog}.png)")
    p.add_argument("--framework", default="pydyfast", choices=["pydyfast", "torch", "pydynet"])
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    if data_help:
        p.add_argument("--data", metavar="DIR", default=None, help=data_help)
    return p


def require_extras():
    """Stop with one line naming the extra to install when an example's imports are missing."""
    missing = [package for module, package in EXTRAS.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        raise SystemExit(f"the examples need {', '.join(missing)}: "
                         f"pip install \".[examples]\" (from the repository root)")


def setup(args, framework=None):
    """The :class:`Framework` the example runs on (``framework`` overrides ``--framework``, as
    ``examples.pytorch`` does), with ``--threads`` applied. Checks the examples' extras first,
    so that a missing one stops the run before it starts."""
    require_extras()
    from .frameworks import Framework
    args.framework = framework or args.framework
    fw = Framework(args.framework, args.device)
    if args.threads:
        fw.set_num_threads(args.threads)
    return fw


def plot_path(args, prog):
    """Where the example writes its PNG: ``--plot`` or ``<prog>[_torch].png`` in the working
    directory (``python -m examples.readme_images`` writes the README's into docs/images)."""
    if args.plot:
        return args.plot
    suffix = "" if args.framework == "pydyfast" else f"_{args.framework}"
    return f"{prog}{suffix}.png"


def progress(iterable, desc, quiet=False, total=None):
    """A tqdm bar (plain iteration with ``--quiet`` or when tqdm is missing)."""
    if quiet:
        return _Silent(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent(iterable)
    return tqdm(iterable, desc=desc, total=total, leave=True, dynamic_ncols=True)


class _Silent:
    """The part of tqdm's interface that the examples call, doing nothing."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, **_):
        pass

    def close(self):
        pass


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only: the examples run headless
    import matplotlib.pyplot as plt
    return plt


def save_curves(path, title, curves, ylabel="accuracy", losses=None, extra=None):
    """Learning curves as a small PNG: ``losses`` ({label: training loss per epoch}) on the
    left, the named ``curves`` ({label: values per epoch}) on the right; ``extra(ax)`` may draw
    a third panel. Returns the path written."""
    plt = _pyplot()
    panels = 1 + (losses is not None) + (extra is not None)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.2), dpi=80)
    axes = np.atleast_1d(axes)
    k = 0
    if losses is not None:
        for label, values in losses.items():
            axes[0].plot(np.arange(1, len(values) + 1), values, label=label)
        axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log")
        axes[0].legend()
        k = 1
    for label, values in curves.items():
        axes[k].plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
    axes[k].set(xlabel="epoch", ylabel=ylabel)
    axes[k].legend()
    if extra is not None:
        extra(axes[k + 1])
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(_fit(title, fig), fontsize=10)
    fig.tight_layout()
    return _save(fig, plt, path)


def _fit(title, fig):
    """The title wrapped to the figure's width, so that no line is clipped at the edges
    (about 11 characters of a 10-point font per inch)."""
    return textwrap.fill(title, int(fig.get_figwidth() * 11))


def _save(fig, plt, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def save_descent(path, title, draw):
    """A one-panel PNG drawn by ``draw(ax)`` (the autodiff examples' descent paths)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.6), dpi=80)
    draw(ax)
    ax.set_title(_fit(title, fig), fontsize=10)
    fig.tight_layout()
    return _save(fig, plt, path)
