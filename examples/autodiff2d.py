"""``python -m examples.autodiff2d``: gradient descent on a convex function of two variables,
with the gradient from autograd, and the path drawn over the contours (PyDyNet's example).

f(x, y) = x^2 + 3 y^2 + x y - x + exp((x - y) / 2) / 4, convex (a positive definite quadratic
plus the exponential of a linear function), started at (-3, 2).
Stated result: after the default 100 steps with lr 0.1, the gradient norm is below 1e-4.
"""
import sys

import numpy as np

from . import common


def f(lib, x, y):
    """The objective for any array library with ``exp`` (pydyfast, torch or numpy)."""
    return x * x + 3 * y * y + x * y - x + lib.exp((x - y) * 0.5) * 0.25


def descend(fw, start, steps, lr):
    """Gradient descent on (x, y); returns the path (steps + 1, 2) and the last gradient."""
    point = np.array(start, dtype=np.float64)
    path = [point]
    for step in range(steps + 1):
        xy = fw.tensor(point, requires_grad=True)
        f(fw.lib, xy[0], xy[1]).backward()
        gradient = fw.to_numpy(xy.grad).astype(np.float64)
        if step < steps:
            point = point - lr * gradient
            path.append(point)
    return np.array(path), gradient


def main(argv=None, framework=None):
    """Descend, print the minimum found and the plot path; return (path, last gradient)."""
    p = common.parser("autodiff2d", __doc__, epochs=100, lr=0.1)
    p.add_argument("--start", type=float, nargs=2, default=[-3.0, 2.0])
    args = p.parse_args(argv)
    fw = common.setup(args, framework)
    path, gradient = descend(fw, args.start, args.epochs, args.lr)
    x, y = path[-1]
    print(f"{fw.name}: (x, y) = ({x:.6f}, {y:.6f}) after {args.epochs} steps, "
          f"|grad| = {np.linalg.norm(gradient):.2e}")

    def draw(ax):
        gx, gy = np.meshgrid(np.linspace(-3.5, 2, 120), np.linspace(-2, 2.5, 120))
        ax.contour(gx, gy, f(np, gx, gy), levels=25, linewidths=0.5, cmap="viridis")
        ax.plot(path[:, 0], path[:, 1], ".-", color="tab:red", ms=3, lw=0.7,
                label="descent path")
        ax.set(xlabel="x", ylabel="y")
        ax.legend()

    out = common.save_descent(common.plot_path(args, "autodiff2d"),
                              "gradient descent on a convex f(x, y)", draw)
    print(f"plot: {out}")
    return path, gradient


if __name__ == "__main__":
    main(sys.argv[1:])
