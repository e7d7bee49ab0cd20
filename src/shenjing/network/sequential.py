"""A network as a plain sequence of layers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..base import stable as _stable
from ..base.checks import as_dtype, as_float_array, check_rows, positive_int
from ..base.errors import ConfigError, DTypeError, ShapeError, StateError
from ..nn.initializers import Seed, as_generator
from ..nn.layer import Layer, Parameter
from ..nn.neuron import Neuron
from ..training import losses as losses_mod
from ..training import metrics as metrics_mod

#: Rows per chunk when predicting or evaluating without a batch size: bounds the
#: memory of the layers' work buffers whatever the dataset's size.
PREDICT_BATCH = 1024


class Sequential(Layer):
    """Layers applied one after another: ``y = layer_n(… layer_1(layer_0(x)))``.

    Forward:  x_{i+1} = layers[i].forward(x_i)
    Backward: d_i = layers[i].backward(d_{i+1}), from the last layer to the first
              (the chain rule, one layer at a time)

    The output of a network is raw scores: a classifier's last layer is a ``Linear``,
    and its loss (``"softmax_cross_entropy"``, ``"binary_cross_entropy"``) or
    ``predict_proba`` applies softmax or sigmoid.

    Args:
        *layers: layers, or one list of them. Each layer object may appear only once.

    Shape:
        x: (N, D) → y: (N, M), D the first layer's input width.

    Example:
        >>> net = Sequential(Linear(2, 8, seed=0), ReLU(), Linear(8, 1, seed=1))
        >>> net.forward(np.zeros((5, 2))).shape
        (5, 1)
    """

    def __init__(self, *layers: Layer | Sequence[Layer]) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ConfigError("Sequential needs at least one layer")
        seen: set[int] = set()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise DTypeError(f"layer {i} must be a shenjing Layer, got {type(layer).__name__}")
            if isinstance(layer, Neuron):  # one number per sample, not a row of features
                raise ConfigError(
                    f"layer {i} is a Neuron, which gives one value per sample rather than a "
                    "row of features; in a network use Linear(D, 1) and an activation"
                )
            if id(layer) in seen:
                raise ConfigError(
                    f"layer {i} ({layer!r}) appears twice; each position needs its own "
                    "object because a layer caches its input for backward"
                )
            seen.add(id(layer))
        self.layers: list[Layer] = list(layers)
        self._check_widths()
        self._check_dtypes()
        #: The loss of the last ``fit``, used by ``evaluate`` when none is given.
        self.loss: losses_mod.Loss | None = None
        #: Free-form JSON-able data kept with the model by ``sj.save``.
        self.metadata: dict[str, Any] = {}

    # -- structure ------------------------------------------------------------------
    def _check_widths(self) -> None:
        width: int | None = None
        source = 0  # the layer that set the current width (activations keep it)
        for i, layer in enumerate(self.layers):
            need = layer.input_features
            if need is not None and width is not None and need != width:
                raise ShapeError(
                    f"layer {i} ({layer!r}) expects {need} input features, but layer "
                    f"{source} ({self.layers[source]!r}) gives {width}"
                )
            new_width = layer.output_features(width)
            if new_width != width or need is not None:
                source = i
            width = new_width

    def _check_dtypes(self) -> None:
        dtypes = {layer.dtype for layer in self.layers if layer.dtype is not None}
        if len(dtypes) > 1:
            raise DTypeError(
                f"layers mix dtypes {sorted(d.name for d in dtypes)}; convert them with "
                "Sequential(...).astype('float32') or build them with one dtype"
            )

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    @property
    def input_features(self) -> int | None:
        for layer in self.layers:
            if layer.input_features is not None:
                return layer.input_features
        return None

    def output_features(self, in_features: int | None = None) -> int | None:
        width = in_features if in_features is not None else self.input_features
        for layer in self.layers:
            width = layer.output_features(width)
        return width

    @property
    def dtype(self) -> np.dtype | None:
        """The parameters' dtype, or ``None`` for a network without parameters."""
        for layer in self.layers:
            if layer.dtype is not None:
                return layer.dtype
        return None

    @property
    def compute_dtype(self) -> np.dtype:
        """The dtype inputs are converted to: the parameters', else float64."""
        return self.dtype or np.dtype(np.float64)

    def parameters(self) -> list[Parameter]:
        """Every parameter as ``Parameter(name, value, grad)``, named ``"<index>.<key>"``."""
        # Plain form: [Parameter(f"{i}.{p.name}", p.value, p.grad) for i, layer in ...
        # for p in layer.parameters()]. Layers that keep the base class's parameters()
        # are read straight from their dicts, which skips building a Parameter twice:
        # optimizers call this every step, and on small networks it is a visible cost.
        out = []
        for i, layer in enumerate(self.layers):
            if type(layer).parameters is Layer.parameters:
                grads = layer.grads
                out += [Parameter(f"{i}.{k}", v, grads[k]) for k, v in layer.params.items()]
            else:
                out += [Parameter(f"{i}.{p.name}", p.value, p.grad) for p in layer.parameters()]
        return out

    def num_parameters(self) -> int:
        return sum(layer.num_parameters() for layer in self.layers)

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def astype(self, dtype: Any) -> Sequential:
        """Convert every layer's parameters to ``dtype`` in place; returns ``self``."""
        dtype = as_dtype(dtype)
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def reset_parameters(self, seed: Seed = None) -> None:
        """Re-draw every layer's initial parameters from one seed, layer by layer."""
        rng = as_generator(seed)
        for layer in self.layers:
            layer.reset_parameters(rng)

    # -- forward and backward ---------------------------------------------------------
    def forward(self, x: Any) -> np.ndarray:
        """Checked forward pass; returns a new (N, M) array (safe to keep)."""
        return self._forward(self._check_input(x)).copy()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Unchecked forward pass; the result is the last layer's buffer."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        """Backpropagate ``dout`` = dL/dy; fills every layer's ``grads``, returns dL/dx.

        With ``need_dx=False`` the layers in front of the first parametrised layer are
        skipped and that layer computes no input gradient.
        """
        dout = np.asarray(dout, dtype=self.compute_dtype)
        layers = self.layers
        first = 0 if need_dx else _first_with_parameters(layers)
        for i in range(len(layers) - 1, first - 1, -1):
            dout = layers[i].backward(dout, need_dx=need_dx or i > first)
        return dout if need_dx else None

    def _check_input(self, x: Any, name: str = "x") -> np.ndarray:
        x = as_float_array(x, name, self.compute_dtype, ndim=2, finite=True)
        width = self.input_features
        if width is not None and x.shape[1] != width:
            raise ShapeError(f"{name} must have shape (N, {width}) for this network, got {x.shape}")
        return x

    # -- inference ----------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Raw network output for every row of ``x``, computed in batches (new array).

        Shape: x (N, D) → (N, M).
        """
        x = self._check_input(x)
        size = positive_int(batch_size, "batch_size", allow_none=True) or PREDICT_BATCH
        out = np.empty((x.shape[0], self.output_features(x.shape[1])), self.compute_dtype)
        for start in range(0, x.shape[0], size):
            out[start : start + size] = self._forward(x[start : start + size])
        return out

    def predict_proba(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities, reading the outputs as logits.

        Softmax over K > 1 outputs; for a single output (binary classifier trained with
        ``"binary_cross_entropy"``) the two columns [1 - σ(z), σ(z)].
        Shape: x (N, D) → (N, K), or (N, 2) for one output.
        """
        scores = self.predict(x, batch_size)
        if scores.shape[1] == 1:
            p = _stable.sigmoid(scores, out=np.empty_like(scores))
            return np.hstack([1 - p, p])
        return _stable.softmax(scores)

    def predict_classes(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Predicted class of each row: argmax of the outputs (``score > 0`` for one output).

        Shape: x (N, D) → (N,) integers.
        """
        return metrics_mod.predicted_classes(self.predict(x, batch_size))

    def evaluate(
        self,
        x: Any,
        y: Any,
        loss: Any = None,
        metrics: Iterable[str] = (),
        batch_size: int | None = None,
    ) -> dict[str, float]:
        """Loss and metrics over a whole dataset, in batches: ``{"loss": …, "accuracy": …}``.

        ``loss`` defaults to the loss of the last ``fit``. For a "sum" loss the value is
        the sum over the dataset; for a "mean" loss, the mean.
        """
        if loss is None:
            if self.loss is None:
                raise StateError("evaluate needs loss=...: this network has not been fit yet")
            loss = self.loss
        loss = losses_mod.get(loss)
        x = self._check_input(x)
        check_rows(x.shape[0], y)
        target = loss.prepare_target(
            y, (x.shape[0], self.output_features(x.shape[1])), self.compute_dtype
        )
        return evaluate_batches(self, loss, x, target, make_metrics(metrics, loss), batch_size)

    # -- training -------------------------------------------------------------------
    def fit(self, x: Any, y: Any, **kwargs: Any) -> Any:
        """Train the network in place and return a :class:`~shenjing.History`.

        ``net.fit(x, y, loss=..., optimizer=..., epochs=..., batch_size=..., ...)`` is
        :func:`shenjing.train.fit` with this network; see it for every argument.
        """
        from ..training.loop import fit

        return fit(self, x, y, **kwargs)

    # -- display ----------------------------------------------------------------------
    def summary(self, input_features: int | None = None) -> str:
        """A table of layers, output shapes and parameter counts."""
        width = input_features if input_features is not None else self.input_features
        rows = []
        for i, layer in enumerate(self.layers):
            width = layer.output_features(width)
            shape = f"(N, {width})" if width is not None else "(N, ?)"
            rows.append((str(i), repr(layer), shape, f"{layer.num_parameters():,}"))
        head = ("#", "layer", "output shape", "params")
        cols = [max(len(r[c]) for r in [head, *rows]) for c in range(4)]
        fmt = f"{{:<{cols[0]}}}  {{:<{cols[1]}}}  {{:<{cols[2]}}}  {{:>{cols[3]}}}"
        rule = "-" * (sum(cols) + 6)
        lines = [f"Sequential ({self.compute_dtype.name})", rule, fmt.format(*head), rule]
        lines += [fmt.format(*r) for r in rows]
        total = self.num_parameters()
        lines += [
            rule,
            f"Total parameters: {total:,} ({total * self.compute_dtype.itemsize:,} bytes)",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(layer) for layer in self.layers)})"


def _first_with_parameters(layers: list[Layer]) -> int:
    """Index of the first layer with parameters (``len(layers)`` if none has any).

    Plain form: ``next(i for i, lay in enumerate(layers) if lay.parameters())``; a layer
    that keeps the base class's parameters() is asked through its dict instead, since
    building the Parameter list costs microseconds on every training step.
    """
    for i, layer in enumerate(layers):
        if type(layer).parameters is Layer.parameters:
            if layer.params:
                return i
        elif layer.parameters():
            return i
    return len(layers)


def make_metrics(names: Iterable[str], loss: losses_mod.Loss) -> dict[str, metrics_mod.Metric]:
    """Fresh metric accumulators by name; accuracy reads multi-label BCE outputs per label."""
    if isinstance(names, str):
        names = [names]
    made: dict[str, metrics_mod.Metric] = {}
    for name in names:
        cls = metrics_mod.METRICS.get(name)
        kwargs = {}
        if cls is metrics_mod.Accuracy:
            kwargs["multilabel"] = isinstance(loss, losses_mod.BinaryCrossEntropy)
        metric = cls(**kwargs)
        made[metric.name] = metric
    return made


def evaluate_batches(
    net: Sequential,
    loss: losses_mod.Loss,
    x: np.ndarray,
    target: np.ndarray,
    metrics: dict[str, metrics_mod.Metric],
    batch_size: int | None = None,
) -> dict[str, float]:
    """Loss and metrics of checked, prepared data, streamed in batches."""
    size = positive_int(batch_size, "batch_size", allow_none=True) or PREDICT_BATCH
    total = 0.0
    for m in metrics.values():
        m.reset()
    for start in range(0, x.shape[0], size):
        pred = net._forward(x[start : start + size])
        t = target[start : start + size]
        value = loss._forward(pred, t)
        total += value if loss.reduction == "sum" else value * pred.shape[0]
        for m in metrics.values():
            m.update(pred, t)
    result = {"loss": total if loss.reduction == "sum" else total / x.shape[0]}
    result.update({name: m.result() for name, m in metrics.items()})
    return result
