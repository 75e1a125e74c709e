"""``python -m examples.autodiff1d``: gradient descent on a convex function of one variable,
with the gradient from autograd, and the path plotted (PyDyNet's autodiff example).

f(x) = (x - 1)^2 + exp(-x) / 2, convex (f'' = 2 + exp(-x) / 2 > 0), started at x = -2.
Stated result: after the default 60 steps with lr 0.1, |f'(x)| < 1e-4.
"""
import sys

import numpy as np

from . import common


def f(lib, x):
    """The objective for any array library with ``exp`` (pydyfast, torch or numpy)."""
    return (x - 1) ** 2 + lib.exp(-x) * 0.5


def descend(fw, start, steps, lr):
    """Plain gradient descent; returns the visited points and the last gradient."""
    x = fw.tensor(np.array(start), requires_grad=True)
    path = [float(start)]
    for _ in range(steps):
        x.grad = None
        f(fw.lib, x).backward()
        gradient = float(x.grad.item())
        x = fw.tensor(np.array(path[-1] - lr * gradient), requires_grad=True)
        path.append(float(x.item()))
    x.grad = None
    f(fw.lib, x).backward()
    return np.array(path), float(x.grad.item())


def main(argv=None, framework=None):
    """Descend, print the minimum found and the plot path; return (path, last gradient)."""
    p = common.parser("autodiff1d", __doc__, epochs=60, lr=0.1)
    p.add_argument("--start", type=float, default=-2.0)
    args = p.parse_args(argv)
    fw = common.setup(args, framework)
    path, gradient = descend(fw, args.start, args.epochs, args.lr)
    print(f"{fw.name}: x = {path[-1]:.6f} after {args.epochs} steps, f'(x) = {gradient:.2e}")

    def draw(ax):
        grid = np.linspace(min(path.min(), -2.5), 3, 200)
        ax.plot(grid, f(np, grid), color="tab:gray", label="f(x)")
        ax.plot(path, f(np, path), ".-", color="tab:red", ms=4, lw=0.7, label="descent path")
        ax.set(xlabel="x", ylabel="f(x)")
        ax.legend()
        ax.grid(alpha=0.3)

    out = common.save_descent(common.plot_path(args, "autodiff1d"),
                              r"$f(x)=(x-1)^2+e^{-x}/2$, gradient descent", draw)
    print(f"plot: {out}")
    return path, gradient


if __name__ == "__main__":
    main(sys.argv[1:])
