"""A network as a plain sequence of layers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import numpy as np

from ..base import stable as _stable
from ..base.checks import as_dtype, as_float_array, boolean, check_rows, positive_int, real_array
from ..base.errors import ConfigError, DTypeError, ShapeError, StateError
from ..nn import modes
from ..nn.initializers import Seed, as_generator
from ..nn.layer import Layer, Parameter, unchecked_passes
from ..nn.modes import in_mode
from ..nn.neuron import Neuron
from ..training import losses as losses_mod
from ..training import metrics as metrics_mod
from ..training.evaluation import PREDICT_BATCH, evaluate_batches, make_metrics
from .fit import fit


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
        # Every element was checked to be a Layer above.
        self.layers: list[Layer] = list(cast("tuple[Layer, ...]", layers))
        self._check_widths()
        self._check_dtypes()
        #: The loss of the last ``fit``, used by ``evaluate`` when none is given.
        self.loss: losses_mod.Loss | None = None
        #: Free-form JSON-able data kept with the model by ``sj.save``.
        self.metadata: dict[str, Any] = {}
        #: The History of the last ``fit``, filled as it trains (kept on Ctrl-C).
        self.history: Any = None
        #: The optimizer ``sj.load`` read from a file saved with ``optimizer=``.
        self.optimizer: Any = None

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
        """Every parameter as ``Parameter(name, value, grad)``, named ``"<index>.<key>"``.

        A new list each call: ``fit`` asks once, before its first step.
        """
        return [
            Parameter(f"{i}.{p.name}", p.value, p.grad)
            for i, layer in enumerate(self.layers)
            for p in layer.parameters()
        ]

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

    # -- modes and state (see shenjing.nn.modes) ------------------------------------
    def train(self, mode: bool = True) -> Sequential:
        """Put the network and every layer in training mode (``mode=False``: evaluation).

        Returns the network, so ``net.eval().forward(x)`` reads as it runs.
        """
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> Sequential:
        """Evaluation mode for the network and every layer; returns the network."""
        return self.train(False)

    @property
    def rng_state(self) -> dict[str, Any] | None:
        """``{"<index>": layer.rng_state}`` of the layers that draw random numbers, or ``None``."""
        return modes.gather_rng_state(self.layers)

    @rng_state.setter
    def rng_state(self, state: Any) -> None:
        modes.scatter_rng_state(self.layers, state)

    def persistent_state(self) -> dict[str, np.ndarray]:
        """Every layer's persistent arrays, named ``"<index>.<name>"`` like the parameters."""
        return modes.gather_persistent_state(self.layers)

    def load_persistent_state(self, state: dict[str, np.ndarray]) -> None:
        """Take back what :meth:`persistent_state` gave: the same names, all of them."""
        modes.scatter_persistent_state(self.layers, state)

    # -- forward and backward ---------------------------------------------------------
    def forward(self, x: Any) -> np.ndarray:
        """Checked forward pass; returns a new (N, M) array (safe to keep).

        Runs in the layers' own mode (training, unless ``eval()`` was called), as in
        PyTorch; :meth:`predict` always uses evaluation mode.
        """
        y: np.ndarray = self.forward_unchecked(self.check_input(x)).copy()
        return y

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        """Forward pass of checked input; the result is the last layer's buffer."""
        for layer in self.layers:
            x = unchecked_passes(layer)[0](x)
        return x

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        """Backpropagate ``dout`` = dL/dy; fills every layer's ``grads``, returns dL/dx.

        With ``need_dx=False`` the layers in front of the first parametrised layer are
        skipped and that layer computes no input gradient. Each layer checks what
        reaches it.
        """
        dout = real_array(dout, "dout", self.compute_dtype, self.xp, finite=True)
        need_dx = boolean(need_dx, "need_dx")
        return self._backpropagate(dout, need_dx, [layer.backward for layer in self.layers])

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """:meth:`backward` of a ``dout`` already of the output's shape and dtype."""
        passes = [unchecked_passes(layer)[1] for layer in self.layers]
        return self._backpropagate(dout, need_dx, passes)

    def _backpropagate(
        self, dout: np.ndarray, need_dx: bool, backwards: list[Any]
    ) -> np.ndarray | None:
        """The chain rule from the last layer down, each through ``backwards[i]``."""
        first = 0 if need_dx else self.first_trainable()
        for i in range(len(backwards) - 1, first - 1, -1):
            dout = backwards[i](dout, need_dx or i > first)
        return dout if need_dx else None

    def first_trainable(self) -> int:
        """Index of the first layer with parameters (``len(self)`` if none has any).

        Backpropagation can stop there: nothing in front of it has a gradient to fill.
        """
        return next((i for i, lay in enumerate(self.layers) if lay.parameters()), len(self))

    # -- measuring ------------------------------------------------------------------
    def forward_trace(self, x: Any) -> list[np.ndarray]:
        """Checked forward pass that returns every layer's output, in order.

        The arrays are the layers' own buffers: read them before the next forward
        pass. Diagnostics (:func:`shenjing.diagnose`, :class:`shenjing.Monitor`,
        :func:`shenjing.sanity_check`) measure a network through this and
        :meth:`backward_trace`, and through nothing private.

        Shape: x (N, D) → one (N, M_i) array per layer i.
        """
        x = self.check_input(x)
        outputs = []
        for layer in self.layers:
            x = unchecked_passes(layer)[0](x)
            outputs.append(x)
        return outputs

    def backward_trace(self, dout: Any) -> list[np.ndarray]:
        """Backpropagate ``dout`` and return the gradient reaching every layer's output.

        Fills every layer's ``grads`` exactly as :meth:`backward` does (the same
        operations on the same arrays). Element i is dL/d(output of layer i), so the
        last is ``dout`` itself.
        """
        dout = self.xp.asarray(dout, dtype=self.compute_dtype)
        douts: list[np.ndarray] = [dout] * len(self.layers)
        for i in range(len(self.layers) - 1, -1, -1):
            douts[i] = dout
            dout = self.layers[i].backward(dout, i > 0)  # each layer checks what reaches it
        return douts

    def check_input(self, x: Any, name: str = "x") -> np.ndarray:
        """``x`` as a finite (N, D) array of the network's dtype, or the library's error."""
        arr = as_float_array(x, name, self.compute_dtype, ndim=2, finite=True)
        width = self.input_features
        if width is not None and arr.shape[1] != width:
            raise ShapeError(
                f"{name} must have shape (N, {width}) for this network, got {arr.shape}"
            )
        return arr

    # -- inference ----------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Raw network output for every row of ``x``, computed in batches (new array).

        Runs in evaluation mode (dropout off, running statistics), whatever the layers'
        mode; their flags are restored afterwards.

        Shape: x (N, D) → (N, M).
        """
        x = self.check_input(x)
        size = positive_int(batch_size, "batch_size", allow_none=True) or PREDICT_BATCH
        # Given an input width, every layer gives an output width (never None).
        width = cast(int, self.output_features(x.shape[1]))
        out = np.empty((x.shape[0], width), self.compute_dtype)
        with in_mode(self, training=False):
            for start in range(0, x.shape[0], size):
                out[start : start + size] = self.forward_unchecked(x[start : start + size])
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
        the sum over the dataset; for a "mean" loss, the mean. Runs in evaluation mode.
        """
        if loss is None:
            if self.loss is None:
                raise StateError("evaluate needs loss=...: this network has not been fit yet")
            loss = self.loss
        loss = losses_mod.get(loss)
        x = self.check_input(x)
        check_rows(x.shape[0], y)
        target = loss.prepare_target(
            y, (x.shape[0], self.output_features(x.shape[1])), self.compute_dtype
        )
        return evaluate_batches(self, loss, x, target, make_metrics(metrics, loss), batch_size)

    # -- training -------------------------------------------------------------------
    def fit(self, x: Any, y: Any, **kwargs: Any) -> Any:
        """Train the network in place and return a :class:`~shenjing.History`.

        ``net.fit(x, y, loss=..., optimizer=..., epochs=..., batch_size=..., ...)`` is
        :func:`shenjing.fit` with this network; see it for every argument.
        """
        return fit(self, x, y, **kwargs)

    # -- display ----------------------------------------------------------------------
    def summary(self, input_features: int | None = None) -> str:
        """A table of layers, output shapes and parameter counts."""
        input_features = positive_int(input_features, "input_features", allow_none=True)
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
