"""The :class:`TabularModel`: a network with its preprocessing, task and target."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import numpy as np

from ..base.checks import boolean, finite_rows, number, positive_int, text
from ..base.errors import ConfigError, DataError, ModelFileError
from ..data.csvdata import column_list, place, require_pandas
from ..data.preprocess import Preprocessor
from ..data.target import class_key
from ..interop import modelfile as io_mod
from ..lrfind import lr_find as find_lr
from ..network.sequential import Sequential
from ..nn.initializers import as_generator
from ..training import losses as losses_mod
from ..training.metrics import macro_f1, r2, rmse
from . import steps
from .options import FORMAT, TASKS, VERSION, check_for_task, check_options


class TabularModel:
    """A trained network with the preprocessing and target it was trained for.

    Attributes:
        net: the :class:`~shenjing.Sequential`; input (N, F) from :meth:`transform`,
            output (N, K) class scores or (N, 1) standardised values.
        preprocessor: the fitted :class:`~shenjing.Preprocessor`.
        task: ``"classify"`` or ``"regress"``.
        target: the target column's name.
        classes: the class labels as text, in the order of the network's outputs
            (sorted; numerically when they are whole numbers), or ``None``.
        metrics: validation (or training) metrics from :meth:`fit`.
        training: what :meth:`fit` was given and saw (rows, class counts, options).
        warnings: things worth telling the user from :meth:`fit` (not saved).
    """

    def __init__(
        self,
        net: Sequential,
        preprocessor: Preprocessor,
        task: str,
        target: str,
        classes: Sequence[str] | None = None,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        metrics: dict[str, Any] | None = None,
        training: dict[str, Any] | None = None,
    ) -> None:
        if task not in TASKS:
            raise ConfigError(f"task must be 'classify' or 'regress', got {task!r}")
        self.net = net
        self.preprocessor = preprocessor
        self.task = task
        self.target = target
        self.classes = None if classes is None else [str(c) for c in classes]
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)
        self.metrics = dict(metrics or {})
        self.training = dict(training or {})
        self.warnings: list[str] = []
        #: What ``fit(..., lr_find=True)`` measured (an :class:`~shenjing.LRFindResult`).
        self.lr_find_result: Any = None

    # -- training ---------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        frame: Any,
        target: str,
        *,
        task: str | None = None,
        hidden: Sequence[int] = (64, 64),
        activation: str = "relu",
        loss: str | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        epochs: int = 50,
        batch_size: int = 32,
        validation: float = 0.2,
        seed: int = 0,
        class_weight: str | None = None,
        numeric: Iterable[str] = (),
        categorical: Iterable[str] = (),
        missing: str = "error",
        source: str = "data",
        progress: bool = False,
        callbacks: Sequence[Any] = (),
        early_stopping: int | None = None,
        drop_missing_target: bool = False,
        on_plan: Callable[[TabularModel], None] | None = None,
        checkpoint: str | None = None,
        lr_find: bool = False,
    ) -> TabularModel:
        """Train a network to predict column ``target`` of ``frame`` from the others.

        Args:
            frame: a DataFrame of text cells, as :func:`~shenjing.data.csvdata.read_csv` gives.
            target: the column to predict.
            task: ``"classify"``, ``"regress"`` or ``None`` to infer it (the reason is
                in ``training["task_reason"]``).
            hidden: widths of the hidden layers, e.g. ``(64, 64)``; ``()`` for none.
            activation: an activation name (``"relu"``, ``"tanh"``…) or ``"maxout"``
                (each hidden layer a :class:`~shenjing.Maxout` of two pieces).
            loss: for regression ``"mse"`` (default), ``"huber"`` or ``"sse"``; a
                classifier uses ``"softmax_cross_entropy"``.
            optimizer, lr, epochs, batch_size: as for :func:`shenjing.fit`.
            validation: fraction of rows held out, in [0, 1); 0 reports training metrics.
            seed: seeds the split, the initial weights and the shuffling.
            class_weight: ``None`` or ``"balanced"``: weight class k by N / (K N_k)
                over the training rows, so rare classes count as much as common ones.
            numeric, categorical, missing: as for :class:`~shenjing.Preprocessor`.
            source: the file's name, for messages.
            progress: show a progress bar (tqdm).
            callbacks: passed to :func:`shenjing.fit`.
            early_stopping: stop once the validation loss has not improved for this
                many epochs, and keep the weights of its best epoch (needs
                ``validation > 0``); ``None`` (default) trains every epoch.
            drop_missing_target: leave out the rows whose target is missing (counted
                in ``training["dropped_rows"]``) instead of refusing the table.
            on_plan: called with the model, its network still untrained, once the task,
                the split and the columns are known and before the first step (the
                CLI prints what it is about to train from it).
            checkpoint: passed to :func:`shenjing.fit`: training saves to (and resumes
                from) this file.
            lr_find: run :func:`shenjing.lr_find` on the training rows first and train
                with its suggested rate instead of ``lr``; the suggestion and its
                reason are kept in ``training["lr_find"]``, the result in
                ``model.lr_find_result``.

        Raises:
            DataError: with ``source`` first, for any problem with the data.
            ConfigError: an invalid option.
        """
        text(target, "target"), text(source, "source"), boolean(progress, "progress")
        number(lr, "lr", low=0.0, low_open=True)
        positive_int(epochs, "epochs"), positive_int(batch_size, "batch_size")
        check_options(task, hidden, activation, loss, class_weight, validation)
        stop = steps.early_stopping(early_stopping, validation)
        frame, dropped = steps.drop_missing_target(frame, target, drop_missing_target)
        task, reason, labels = steps.target_column(frame, target, task, source)
        check_for_task(task, loss, class_weight, reason)
        rng = as_generator(seed, "seed")
        classes, y, train, val = steps.split(
            len(frame), target, task, labels, validation, rng, source
        )
        pre, x = steps.preprocess(frame, target, train, numeric, categorical, missing, source)
        training: dict[str, Any] = {
            "rows": len(frame),
            "train_rows": len(train),
            "validation_rows": len(val),
            "task_reason": reason,
            "hidden": [int(h) for h in hidden],
            "activation": activation,
            "optimizer": optimizer,
            "lr": float(lr),
            "epochs": int(epochs),
            "batch_size": int(batch_size),
            "validation": float(validation),
            "seed": int(seed),
            "class_weight": class_weight,
            "missing": missing,
            "early_stopping": early_stopping,
            "dropped_rows": dropped,
        }
        target_mean, target_std = 0.0, 1.0
        if classes is not None:
            n_out = len(classes)
            loss_fn: losses_mod.Loss = steps.class_weights(
                y, train, val, classes, class_weight, training
            )
            fit_target = y
        else:
            n_out = 1
            target_mean, target_std, fit_target = steps.scale(y, train)
            loss_fn = losses_mod.get(loss or "mse")
        training["loss"] = repr(loss_fn)

        net = steps.build_network(x.shape[1], hidden, n_out, activation, rng)
        found = None
        if lr_find:
            found = find_lr(
                net,
                x[train],
                fit_target[train],
                loss=loss_fn,
                optimizer=optimizer,
                batch_size=batch_size,
                seed=seed,
            )
            lr = found.suggestion
            training["lr"] = float(lr)
            training["lr_find"] = {"suggestion": lr, "lowest": found.lowest, "reason": found.reason}
        model = cls(net, pre, task, target, classes, target_mean, target_std, {}, training)
        training = model.training  # the model's own copy, completed below
        model.warnings = list(pre.warnings)
        if on_plan is not None:
            on_plan(model)
        # The one training call; its callbacks come from the caller (e.g. a monitor).
        history = steps.train(
            net,
            x,
            fit_target,
            (train, val),
            loss_fn,
            optimizer,
            lr,
            epochs,
            batch_size,
            rng,
            [*callbacks, *stop],
            progress,
            checkpoint=checkpoint,
        )
        training["epochs_run"] = history.epochs_run
        training["final_loss"] = float(history.per_epoch["loss"][-1])
        if stop:
            training["stopped_early"] = bool(history.stopped_early)
            training["best_epoch"] = None if history.best_epoch is None else history.best_epoch + 1

        rows = val if len(val) else train
        model.metrics = {
            "on": "validation" if len(val) else "training",
            **model._score(x[rows], y[rows]),
        }
        model.warnings = list(pre.warnings)
        model.lr_find_result = found
        return model

    # -- predicting -------------------------------------------------------------------
    def transform(self, frame: Any, source: str = "data", unknown: str = "error") -> np.ndarray:
        """Raw rows → the network's input (N, F) float64, as in training.

        A column named like the target is ignored, so a labelled file can be passed.
        ``unknown``: as for :meth:`Preprocessor.transform` (``"ignore"``: an unseen
        category becomes all zeros, with a warning).
        """
        if self.target in frame.columns:
            frame = frame.drop(columns=[self.target])
        return self.preprocessor.transform(frame, source, unknown)

    def encode_target(self, series: Any, source: str = "data") -> np.ndarray:
        """The target as the network is trained on it.

        Returns:
            For a classifier, class indices (N,) into :attr:`classes`; for a regression,
            the standardised values (N, 1): ``(y - target_mean) / target_std``.

        Raises:
            DataError: a missing value, a class the model does not know, or a value that
                is not a finite number for a regression.
        """
        if not hasattr(series, "iloc"):  # a list or array: rows are counted from 0
            series = require_pandas().Series(list(series), dtype=object)
        values = list(series)
        if self.task == "classify":
            classes = cast("list[str]", self.classes)  # a classifier always has them
            index = {c: i for i, c in enumerate(classes)}
            out = np.empty(len(values), dtype=np.intp)
            for i, value in enumerate(values):
                key = class_key(value)
                if key not in index:
                    raise DataError(
                        f"{source}: target {self.target!r} has {value!r} on "
                        f"{place(series, i)}, which is not one of the classes "
                        f"{column_list(classes)}"
                    )
                out[i] = index[key]
            return out
        try:
            y = np.array([float(v) for v in values], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"target {self.target!r} must hold numbers: {exc}") from None
        if not np.isfinite(y).all():
            raise DataError(f"target {self.target!r} holds a missing or infinite value")
        return ((y - self.target_mean) / self.target_std)[:, None]

    def predict(self, frame: Any, source: str = "data") -> np.ndarray:
        """Predictions for raw rows: class labels (N,) of text, or values (N,) float64."""
        return self.predict_encoded(self.transform(frame, source))

    def predict_proba(self, frame: Any, source: str = "data") -> np.ndarray:
        """Class probabilities for raw rows: (N, K) float64, columns as :attr:`classes`."""
        if self.task != "classify":
            raise ConfigError("predict_proba needs a classifier; this model is a regression")
        return finite_rows(self.net.predict_proba(self.transform(frame, source)).astype(np.float64))

    def predict_encoded(self, x: np.ndarray) -> np.ndarray:
        """Predictions for rows already encoded by :meth:`transform`: (N, F) → (N,).

        Class labels as the target column held them, or values on the target's scale.
        """
        out = finite_rows(self.net.predict(x).astype(np.float64))
        if self.task == "classify":
            return np.array(self.classes, dtype=object)[out.argmax(axis=1)]
        return finite_rows(out[:, 0] * self.target_std + self.target_mean)

    def _score(self, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """Accuracy and macro-F1 (y: class indices), or RMSE and R² (y: raw values)."""
        out = self.net.predict(x).astype(np.float64)
        if self.task == "classify":
            pred = out.argmax(axis=1)
            return {"accuracy": float(np.mean(pred == y)), "macro_f1": macro_f1(y, pred)}
        pred = out[:, 0] * self.target_std + self.target_mean
        return {"rmse": rmse(y, pred), "r2": r2(y, pred)}

    # -- the model file -----------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """Everything but the weights, as the JSON kept in the model file."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "task": self.task,
            "target": self.target,
            "classes": self.classes,
            "target_scaling": {"mean": self.target_mean, "std": self.target_std},
            "preprocessing": self.preprocessor.to_dict(),
            "metrics": self.metrics,
            "training": self.training,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network and :meth:`metadata` to one file, atomically (:func:`sj.save`).

        Raises:
            DataError: a weight is NaN or inf (training diverged); nothing is written,
                since every prediction of such a model would be NaN.
        """
        bad = io_mod.nonfinite_parameters(self.net)
        if bad:
            raise DataError(
                f"the network's {', '.join(bad[:3])} hold NaN or inf (training diverged); "
                "the model is not saved. Try a smaller --lr"
            )
        io_mod.save(self.net, path, metadata=self.metadata())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TabularModel:
        """Read a file written by :meth:`save`.

        Raises:
            ModelFileError: the file is not a valid model file, is a plain network
                (use :func:`shenjing.load`), or its metadata is malformed or does not
                fit its network.
        """
        net = io_mod.load(path)
        try:
            bad = io_mod.nonfinite_parameters(net)
            if bad:
                raise ModelFileError(
                    f"the network's {', '.join(bad[:3])} hold NaN or inf; every prediction "
                    "would be NaN"
                )
            return cls._from_metadata(net, net.metadata)
        except ModelFileError as exc:
            raise ModelFileError(f"{os.fspath(path)}: {str(exc)[:400]}") from None

    @classmethod
    def _from_metadata(cls, net: Sequential, meta: dict[str, Any]) -> TabularModel:
        if meta.get("format") != FORMAT:
            raise ModelFileError(
                "a plain network, not a model trained from a table (read it with sj.load)"
            )
        if meta.get("version") != VERSION:
            raise ModelFileError(
                f"tabular model version {meta.get('version')!r} is not supported; "
                f"this shenjing reads version {VERSION}"
            )
        expected = {
            "format",
            "version",
            "task",
            "target",
            "classes",
            "target_scaling",
            "preprocessing",
            "metrics",
            "training",
        }
        if set(meta) != expected:
            raise ModelFileError(f"the metadata must have exactly the fields {sorted(expected)}")
        task, target, classes = meta["task"], meta["target"], meta["classes"]
        if task not in TASKS:
            raise ModelFileError(f"task must be 'classify' or 'regress', got {task!r:.40}")
        if not isinstance(target, str):
            raise ModelFileError("target must be a string")
        if task == "classify":
            if (
                not isinstance(classes, list)
                or len(classes) < 2
                or not all(isinstance(c, str) for c in classes)
                or len(set(classes)) != len(classes)
            ):
                raise ModelFileError("classes must be a list of at least two unique strings")
        elif classes is not None:
            raise ModelFileError("a regression has no classes (null)")
        scaling = meta["target_scaling"]
        if (
            not isinstance(scaling, dict)
            or set(scaling) != {"mean", "std"}
            or not all(type(v) in (int, float) and math.isfinite(v) for v in scaling.values())
            or scaling["std"] <= 0
        ):
            raise ModelFileError("target_scaling must be {mean, std} finite numbers, std > 0")
        if not isinstance(meta["metrics"], dict) or not isinstance(meta["training"], dict):
            raise ModelFileError("metrics and training must be objects")
        pre = Preprocessor.from_dict(meta["preprocessing"])
        width = len(pre.feature_names)
        n_out = len(classes) if task == "classify" else 1
        if net.input_features not in (None, width) or net.output_features(width) != n_out:
            raise ModelFileError(
                f"the network maps {net.input_features} inputs to {net.output_features(width)} "
                f"outputs, but the preprocessing makes {width} inputs and the task needs "
                f"{n_out} outputs"
            )
        return cls(
            net,
            pre,
            task,
            target,
            classes,
            scaling["mean"],
            scaling["std"],
            meta["metrics"],
            meta["training"],
        )

    def __repr__(self) -> str:
        what = f"{len(self.classes)} classes" if self.classes else "regression"
        return (
            f"TabularModel(target={self.target!r}, task={self.task!r}, {what}, "
            f"{len(self.preprocessor.input_names)} columns → "
            f"{len(self.preprocessor.feature_names)} inputs)"
        )
