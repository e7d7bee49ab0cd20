"""One browser session: its data, its network, its optimizer, and training by epochs.

A :class:`Session` knows nothing of the web: the server makes one per connected page
and drops it when the page goes away. Every change comes in as a configuration checked
by :func:`~.config.parse_config` or as a bounded weight edit.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..base.errors import ConfigError
from ..diagnosis.diagnostics import diagnose
from ..diagnosis.monitor import Monitor
from ..diagnosis.report import DiagnosticReport
from ..diagnosis.stats import build_report
from ..interop.modelfile import save
from ..network.fit import fit
from ..network.sequential import Sequential
from . import data, train
from .config import LOSSES, UPLOAD, Config, parse_config
from .upload import Points

#: Fields whose change keeps the network and its training so far (the optimizer's
#: settings are changed in place, so its state is kept too).
TRAINING_FIELDS = ("lr", "momentum", "batch", "regularization", "reg_rate", "resolution")
#: Fields that make new points.
DATA_FIELDS = ("problem", "dataset", "noise", "train_percent", "seed")
#: The largest weight or bias a click may set.
MAX_WEIGHT = 100.0
#: Monitor interval: larger than any epoch, so it records each epoch's first step only.
_ONCE = 10**9


@dataclass
class Split:
    """The points a session trains and tests on (raw points on the plane)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str] | None  # class names, or None for regression
    description: str


class Session:
    """A network being trained on the playground's points.

    Args:
        config: the starting configuration (default :class:`Config`).
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.points: Points | None = None
        self.playing = False
        self.data = self._make_data()
        self.reset()

    # -- changes ------------------------------------------------------------------
    def configure(self, raw: Any) -> list[str]:
        """Apply a (partial) configuration; returns notices for the page.

        Raises:
            ConfigError: a field out of bounds, or the uploaded dataset asked for
                before any upload; the session is then unchanged.
        """
        new = parse_config(raw, self.config)
        notices: list[str] = []
        if new.dataset == UPLOAD:
            if self.points is None:
                raise ConfigError("upload a CSV file first, then choose the dataset 'upload'")
            if new.problem != self.points.problem:
                raise ConfigError(
                    f"the uploaded file is a {self.points.problem} problem; choose that type"
                )
        new, note = _fit_loss(new, self._classes_for(new))
        notices += note
        old = self.config
        self.config = new
        if any(getattr(old, f) != getattr(new, f) for f in DATA_FIELDS):
            self.data = self._make_data()
        fields = [f for f in Config.__dataclass_fields__ if f not in TRAINING_FIELDS]
        if any(getattr(old, f) != getattr(new, f) for f in fields):
            self.reset()
        elif old.optimizer == new.optimizer:
            self.optimizer.lr = new.lr
            if hasattr(self.optimizer, "momentum"):
                self.optimizer.momentum = new.momentum
        return notices

    def use_points(self, points: Points) -> list[str]:
        """Train on uploaded points from now on (the dataset becomes ``"upload"``)."""
        change: dict[str, Any] = {"problem": points.problem, "dataset": UPLOAD}
        if self.config.loss not in LOSSES[points.problem]:
            change["loss"] = LOSSES[points.problem][0]
        old = self.points
        self.points = points
        try:
            notices = self.configure(change)
        except Exception:
            self.points = old  # all or nothing
            raise
        self.data = self._make_data()
        self.reset()
        return [points.describe(), *notices]

    def reset(self) -> None:
        """A fresh network from the seed, a fresh optimizer, step 0."""
        classes = len(self.data.classes) if self.data.classes else 2
        self.net: Sequential = train.build_network(self.config, classes)
        self.optimizer = train.build_optimizer(self.config)
        self.rng = np.random.default_rng(self.config.seed)
        self.epoch = 0
        self.step = 0
        self._update_ratios: list[dict[str, float]] = [{} for _ in self.net.layers]

    def set_parameter(self, layer: Any, name: Any, index: Any, value: Any) -> None:
        """Set one weight (``name="W"``, ``index=[row, col]``) or bias (``"b"``, ``[unit]``).

        Raises:
            ConfigError: no such parameter, or a value that is not a finite number
                within ±:data:`MAX_WEIGHT`.
        """
        if not isinstance(layer, int) or not 0 <= layer < len(self.net.layers):
            raise ConfigError(f"layer must be a layer index below {len(self.net.layers)}")
        params = self.net.layers[layer].params
        if name not in ("W", "b") or name not in params:
            raise ConfigError(f"layer {layer} has no parameter {name!r}")
        array = params[name]
        ok = isinstance(index, list) and len(index) == array.ndim
        ok = ok and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n
            for i, n in zip(index, array.shape, strict=True)
        )
        if not ok:
            raise ConfigError(f"index must be a list of {array.ndim} indices within {array.shape}")
        valid = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not valid or not math.isfinite(value) or abs(value) > MAX_WEIGHT:
            raise ConfigError(f"value must be a finite number within ±{MAX_WEIGHT:g}")
        array[tuple(index)] = value

    # -- training ---------------------------------------------------------------------
    def train_epoch(self) -> None:
        """One epoch of ``fit`` over the training points (see :mod:`.train`).

        Raises:
            DivergenceError: the loss became inf or NaN; the network keeps its last
                finite weights and the session stops playing.
        """
        monitor = Monitor(every=_ONCE)
        try:
            history = fit(
                self.net,
                self.inputs(self.data.x_train),
                self.data.y_train,
                loss=self.config.loss,
                optimizer=self.optimizer,
                epochs=1,
                batch_size=self.config.batch,
                seed=self.rng,
                callbacks=train.callbacks(self.config),
                monitor=monitor,
            )
        except Exception:
            self.playing = False
            raise
        self.epoch += 1
        self.step += len(history.loss)
        if monitor.record.reports:
            self._update_ratios = [lay.update_ratios for lay in monitor.record.last.layers]

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """The switched-on features of the points ``x``: (N, 2) → (N, F)."""
        return data.features(x, self.config.features)

    def measure(self) -> tuple[DiagnosticReport, float, float]:
        """Diagnose the network on the training points; the train and test losses.

        Returns ``(report, train_loss, test_loss)``; the report's update ratios are those
        of the last epoch's first step, so its findings include them.
        """
        d, loss = self.data, self.config.loss
        x_train = self.inputs(d.x_train)
        with np.errstate(over="ignore", invalid="ignore"):
            report = diagnose(self.net, x_train, d.y_train, loss=loss)
            test = self.net.evaluate(self.inputs(d.x_test), d.y_test, loss=loss)["loss"]
        for lay, ratios in zip(report.layers, self._update_ratios, strict=True):
            lay.update_ratios = dict(ratios)
        report = build_report(report.layers, report.rows, report.loss)
        return report, float(report.loss or 0.0), float(test)

    # -- files --------------------------------------------------------------------------
    def model_file(self) -> bytes:
        """The network as a ``.shj`` model file, with the configuration as metadata."""
        meta = {"playground": self.config.to_dict(), "epochs": self.epoch}
        return self._written(lambda path: save(self.net, path, metadata=meta), "model.shj")

    def onnx_file(self) -> bytes:
        """The network as ONNX (needs ``onnx``: ImportError saying so)."""
        from ..interop.onnx_export import export_onnx

        return self._written(lambda path: export_onnx(self.net, path), "model.onnx")

    @staticmethod
    def _written(write: Any, name: str) -> bytes:
        # The server picks the file name, in a folder of its own; no request names a path.
        with tempfile.TemporaryDirectory(prefix="shenjing-playground-") as folder:
            path = os.path.join(folder, name)
            write(path)
            with open(path, "rb") as f:
                return f.read()

    # -- data ---------------------------------------------------------------------------
    def _classes_for(self, config: Config) -> int:
        if config.problem == "regression":
            return 0
        if config.dataset == UPLOAD and self.points is not None and self.points.classes:
            return len(self.points.classes)
        return 2

    def _make_data(self) -> Split:
        c = self.config
        if c.dataset == UPLOAD:
            if self.points is None:  # configure refuses this; a guard for direct use
                raise ConfigError("no uploaded points")
            x, y, classes = self.points.x, self.points.y, self.points.classes
            description = self.points.describe()
        else:
            x, y = data.dataset(c.dataset, noise=c.noise / 100, seed=c.seed)
            classes = ["0", "1"] if c.problem == "classification" else None
            description = f"{c.dataset}, {len(x)} points, noise {c.noise} %"
        (xtr, ytr), (xte, yte) = data.split(x, y, c.train_percent, seed=c.seed)
        return Split(xtr, ytr, xte, yte, classes, description)


def _fit_loss(config: Config, classes: int) -> tuple[Config, list[str]]:
    """Switch to softmax cross-entropy when the data has more classes than the loss fits."""
    if classes > 2 and config.loss != "softmax_cross_entropy":
        note = f"{classes} classes: the loss is now softmax cross-entropy"
        return replace(config, loss="softmax_cross_entropy"), [note]
    return config, []
