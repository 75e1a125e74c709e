"""``python -m examples.ts_prediction``: a GRU forecasting the next value of a noisy sine series
(PyDyNet's time-series example; the series is made in the script).

Stated result: ``--epochs 10`` brings the test MSE below 0.02 (the noise alone gives 0.0025).
"""
import sys

from . import common, datasets, models
from .training import fit, predict


def main(argv=None, framework=None):
    """Train the GRU, print the data used and the plot path; return the history."""
    p = common.parser("ts_prediction", __doc__, epochs=30, batch_size=64,
                      lr=1e-2)
    p.add_argument("--window", type=int, default=40, help="input steps per forecast")
    args = p.parse_args(argv)
    fw = common.setup(args, framework)
    *data, description = datasets.load_series(args.window)
    print(f"data: {description}; {len(data[0])} train / {len(data[2])} test windows")
    fw.manual_seed(args.seed)
    model = fw.to_device(models.gru_regressor(fw))
    history = fit(fw, model, data, args.epochs, args.batch_size, args.lr, f"{fw.name} gru",
                  args.quiet, args.seed, classify=False)
    print(f"final test MSE {history['test'][-1]:.5f}")
    x_test, y_test = data[2][:200], data[3][:200]
    forecast = predict(fw, model, x_test, 256)

    def draw_forecast(ax):
        ax.plot(y_test[:, 0], color="tab:red", lw=0.8, label="series")
        ax.plot(forecast[:, 0], color="tab:blue", lw=0.8, ls="-.", label="GRU forecast")
        ax.set(xlabel="test step", ylabel="value", ylim=(-2, 1.6))
        ax.legend(loc="upper center", ncol=2, fontsize=8)

    path = common.save_curves(common.plot_path(args, "ts_prediction"),
                              f"{fw.name}: GRU forecasting a noisy sine series",
                              {"train": history["train"], "test": history["test"]},
                              ylabel="MSE", losses={"GRU": history["loss"]},
                              extra=draw_forecast)
    print(f"plot: {path}")
    return history


if __name__ == "__main__":
    main(sys.argv[1:])
