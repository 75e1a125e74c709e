"""The training loop shared by the examples (and by every framework they run on)."""
import numpy as np

from .common import progress


def batches(n, batch_size, rng=None):
    """Index arrays covering ``range(n)`` in batches, shuffled when ``rng`` is given."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def predict(fw, model, inputs, batch_size, extra=None):
    """Model outputs for numpy ``inputs`` in eval mode without autograd, as one numpy array.
    ``extra(batch)`` gives additional forward arguments from a batch of inputs (the
    transformer's padding mask)."""
    model.eval()
    outputs = []
    with fw.no_grad():
        for index in batches(len(inputs), batch_size):
            outputs.append(fw.to_numpy(forward(fw, model, inputs[index], extra)))
    model.train()
    return np.concatenate(outputs)


def forward(fw, model, batch, extra=None):
    """``model(batch, *extra(batch))`` on tensors made from the numpy ``batch``."""
    args = [fw.tensor(a) for a in extra(batch)] if extra else []
    return model(fw.tensor(batch), *args)


def accuracy(outputs, labels):
    return float((outputs.argmax(-1) == labels).mean())


def fit(fw, model, data, epochs, batch_size, lr, name, quiet=False, seed=0, extra=None,
        classify=True):
    """Train ``model`` with Adam on ``data = (x_train, y_train, x_test, y_test)``.

    Cross-entropy with accuracy per epoch when ``classify``, else mean squared error. One tqdm
    bar per epoch shows the running loss (and accuracy). Returns the history: ``loss`` (mean
    training loss per epoch) and ``train``/``test`` (accuracy, or MSE on the whole set).
    """
    x_train, y_train, x_test, y_test = data
    criterion = fw.nn.CrossEntropyLoss() if classify else fw.nn.MSELoss()
    optimizer = fw.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    score = accuracy if classify else (lambda out, y: float(((out - y) ** 2).mean()))
    history = {"loss": [], "train": [], "test": []}
    model.train()
    for epoch in range(1, epochs + 1):
        bar = progress(batches(len(x_train), batch_size, rng), f"{name} epoch {epoch}/{epochs}",
                       quiet)
        losses, right, seen = [], 0, 0
        for index in bar:
            output = forward(fw, model, x_train[index], extra)
            loss = criterion(output, fw.tensor(y_train[index]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            postfix = {"loss": f"{np.mean(losses):.4f}"}
            if classify:
                right += int((fw.to_numpy(output).argmax(-1) == y_train[index]).sum())
                seen += len(index)
                postfix["acc"] = f"{right / seen:.3f}"
            bar.set_postfix(**postfix)
        bar.close()
        history["loss"].append(float(np.mean(losses)))
        for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            history[split].append(score(predict(fw, model, x, 4 * batch_size, extra), y))
        if not quiet:
            label = "accuracy" if classify else "MSE"
            print(f"  {name}: train {label} {history['train'][-1]:.4f}, "
                  f"test {label} {history['test'][-1]:.4f}")
    return history

