"""The steps of :meth:`TabularModel.fit <shenjing.tabular.TabularModel.fit>`, in order.

target → split → preprocess → class weights (a classifier) or scale (a regression) →
build → train; :meth:`TabularModel._score <shenjing.tabular.TabularModel>` scores last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..base.checks import positive_int
from ..base.errors import ConfigError, DataError
from ..data.csvdata import column_list, nearest
from ..data.preprocess import Preprocessor
from ..data.target import infer_task, sorted_classes, stratified_split
from ..network.builder import mlp
from ..network.sequential import Sequential
from ..nn.initializers import Seed
from ..training import losses as losses_mod
from ..training import optim
from ..training.callbacks import EarlyStopping
from ..training.losses import SoftmaxCrossEntropy


def early_stopping(patience: int | None, validation: float) -> list[EarlyStopping]:
    """Step 0: the early-stopping callback asked for (on the validation loss), or none."""
    if patience is None:
        return []
    if validation == 0:
        raise ConfigError(
            "early_stopping watches the validation loss, and validation=0 holds no rows "
            "out; use validation=0.2, say"
        )
    return [EarlyStopping("val_loss", positive_int(patience, "early_stopping"))]


def drop_missing_target(frame: Any, target: str, drop: bool) -> tuple[Any, int]:
    """Step 0: the frame without the rows whose target is missing, when ``drop``.

    The rows keep their index (their line in the file), so later messages still point
    at the right line. Returns the frame and how many rows were dropped.
    """
    if not drop or target not in frame.columns:
        return frame, 0
    present = frame[target].notna()
    return frame[present], int((~present).sum())


def target_column(
    frame: Any, target: str, task: str | None, source: str
) -> tuple[str, str, np.ndarray]:
    """Step 1: check the target column; (task, the reason for it, labels or values)."""
    columns = list(frame.columns)
    if target not in columns:
        raise DataError(
            f"{source}: no column {target!r} to predict; the columns are "
            f"{column_list(columns)}.{nearest(target, columns)}"
        )
    if len(frame) < 2:
        raise DataError(f"{source}: {len(frame)} row is too few to train on")
    return infer_task(frame[target], target, task, source)


def split(
    n: int,
    target: str,
    task: str,
    labels: np.ndarray,
    validation: float,
    rng: np.random.Generator,
    source: str,
) -> tuple[list[str] | None, np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: (classes, y, train rows, validation rows); y is class indices or values."""
    if task == "classify":
        classes = sorted_classes(labels)
        if len(classes) < 2:
            raise DataError(
                f"{source}: target {target!r} has one class only ({classes[0]!r} in all "
                f"{n} rows); a classifier needs at least two"
            )
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[v] for v in labels], dtype=np.intp)
        train, val = stratified_split(n, y, validation, rng, source)
        return classes, y, train, val
    y = labels.astype(np.float64)
    train, val = stratified_split(n, None, validation, rng, source)
    return None, y, train, val


def preprocess(
    frame: Any,
    target: str,
    train: np.ndarray,
    numeric: Iterable[str],
    categorical: Iterable[str],
    missing: str,
    source: str,
) -> tuple[Preprocessor, np.ndarray]:
    """Step 3: the preprocessor fitted on the training rows, and every row encoded."""
    features = frame.drop(columns=[target])
    pre = Preprocessor(numeric, categorical, missing).fit(features, train, source)
    return pre, pre.transform(features, source)


def class_weights(
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    classes: list[str],
    class_weight: str | None,
    training: dict[str, Any],
) -> SoftmaxCrossEntropy:
    """Step 4 of a classifier: the class counts (into ``training``) and its loss.

    ``class_weight="balanced"`` weights class k by N / (K N_k) over the training rows; a
    class absent from the training rows gets weight 0.
    """
    n_out = len(classes)
    train_counts = np.bincount(y[train], minlength=n_out)
    training["class_counts"] = {
        "train": dict(zip(classes, train_counts.tolist(), strict=True)),
        "validation": dict(
            zip(classes, np.bincount(y[val], minlength=n_out).tolist(), strict=True)
        ),
    }
    weights = None
    if class_weight == "balanced":
        safe = np.maximum(train_counts, 1)
        weights = np.where(train_counts > 0, len(train) / (n_out * safe), 0.0)
        training["class_weights"] = dict(zip(classes, weights.tolist(), strict=True))
    return SoftmaxCrossEntropy(class_weight=weights)


def scale(y: np.ndarray, train: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Step 4 of a regression: the training rows' mean and std, and the scaled (N, 1) target."""
    seen = y[train]
    mean = float(seen.mean())
    std = float(seen.std())
    std = std if std > 0 else 1.0
    return mean, std, ((y - mean) / std)[:, None]


def build_network(
    n_in: int, hidden: Sequence[int], n_out: int, activation: str, seed: Seed
) -> Sequential:
    """``n_in`` → hidden widths (each followed by ``activation``) → ``n_out`` raw outputs.

    With ``activation="maxout"`` each hidden layer is a two-piece :class:`~shenjing.Maxout`
    (its own non-linearity). Every layer draws its weights from the one ``seed``.

    Example:
        >>> build_network(3, [8, 4], 2, "tanh", seed=0)
        Sequential(Linear(3 -> 8), Tanh(), Linear(8 -> 4), Tanh(), Linear(4 -> 2))
    """
    return mlp(n_in, hidden, n_out, activation=activation, seed=seed)


def train(
    net: Sequential,
    x: np.ndarray,
    fit_target: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray],
    loss: losses_mod.Loss,
    optimizer: str,
    lr: float,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    callbacks: Sequence[Any],
    progress: bool,
    checkpoint: Any = None,
) -> Any:
    """Step 6: the one training call (validated on the held-out rows, if any)."""
    train_rows, val = rows
    val_data = (x[val], fit_target[val]) if len(val) else None
    return net.fit(
        x[train_rows],
        fit_target[train_rows],
        loss=loss,
        optimizer=optim.get(optimizer, lr=lr),
        epochs=epochs,
        batch_size=batch_size,
        seed=rng,
        validation_data=val_data,
        callbacks=callbacks,
        progress=progress,
        checkpoint=checkpoint,
    )
