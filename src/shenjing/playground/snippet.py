"""The Python program that rebuilds and retrains the page's network with shenjing.

It makes the same points (or reads the same CSV), the same network from the same seed,
and trains it for the epochs run so far with the same settings: with no weight edited
and no training setting changed on the way, it ends with the page's weights, bit for
bit (see :mod:`.train`).
"""

from __future__ import annotations

from .config import UPLOAD
from .session import Session


def snippet(session: Session) -> str:
    """The program, as text; the page shows it and copies it."""
    c = session.config
    lines = [
        "# Rebuild and retrain the playground's network with shenjing.",
        "import numpy as np",
        "import shenjing as sj",
        "from shenjing.playground import data, train",
    ]
    if c.dataset == UPLOAD:
        lines += [
            "from shenjing.playground.upload import read_points",
            "",
            "# The file you uploaded (a header, two feature columns, a label or target):",
            'with open("your-data.csv", "rb") as f:',
            "    points = read_points(f.read())",
            "x, y = points.x, points.y",
        ]
    else:
        noise = c.noise / 100
        lines += ["", f'x, y = data.dataset("{c.dataset}", noise={noise!r}, seed={c.seed})']
    split = f"data.split(x, y, {c.train_percent}, seed={c.seed})"
    lines += [
        f"(x_train, y_train), (x_test, y_test) = {split}",
        f"features = {list(c.features)!r}",
    ]
    classes = len(session.data.classes) if session.data.classes else 2
    width = 1 if c.problem == "regression" or c.loss != "softmax_cross_entropy" else classes
    lines.append(
        f"net = sj.mlp(len(features), {list(c.hidden)!r}, {width}, "
        f'activation="{c.activation}", seed={c.seed}, dtype="float64")'
    )
    if c.optimizer == "sgd":
        lines.append(f"optimizer = sj.SGD(lr={c.lr!r}, momentum={c.momentum!r})")
    else:
        lines.append(f'optimizer = sj.optim.get("{c.optimizer}", lr={c.lr!r})')
    callbacks = (
        f'[train.Regularization("{c.regularization}", {c.reg_rate!r})]'
        if c.regularization != "none" and c.reg_rate > 0
        else "[]"
    )
    epochs = max(session.epoch, 1)
    lines += [
        "history = net.fit(",
        "    data.features(x_train, features),",
        "    y_train,",
        f'    loss="{c.loss}",',
        "    optimizer=optimizer,",
        f"    epochs={epochs},",
        f"    batch_size={c.batch},",
        f"    seed=np.random.default_rng({c.seed}),",
        f"    callbacks={callbacks},",
        ")",
        'print("train loss", net.evaluate(data.features(x_train, features), y_train)["loss"])',
        'print("test loss ", net.evaluate(data.features(x_test, features), y_test)["loss"])',
        "print(sj.diagnose(net, data.features(x_train, features), y_train))",
        "",
    ]
    return "\n".join(lines)
