"""The fully connected (affine) layer, and the base it shares with Maxout."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.checks import as_dtype, positive_int, real_array
from ..base.errors import ConfigError, ShapeError
from .initializers import DEFAULT_INIT, INITIALIZERS, Seed, as_generator, initialize
from .layer import Layer
from .registry import register_layer


class Affine(Layer):
    """What Linear and Maxout share: affine weights from ``in_features`` inputs.

    Subclasses give the shapes of ``W`` and ``b`` (``w_shape``, ``b_shape``); this class
    validates the arguments, owns the parameters and gradients, draws the initial
    weights (fan-in ``in_features``, fan-out ``out_features``) and checks inputs.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        w_shape: tuple[int, ...],
        b_shape: tuple[int, ...],
        bias: bool,
        init: Any,
        dtype: Any,
        seed: Seed,
    ) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        if not isinstance(bias, bool):
            raise ConfigError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        if not callable(init):
            INITIALIZERS.get(init)  # fail now, naming the valid initialisers
        self.init = init
        dtype = as_dtype(dtype)
        self.params["W"] = np.empty(w_shape, dtype)
        if bias:
            self.params["b"] = np.zeros(b_shape, dtype)
        # np.zeros, not zeros_like: the OS hands back untouched pages until a first
        # backward writes them, so a loaded or predict-only network costs its weights.
        self.grads = {k: np.zeros(v.shape, v.dtype) for k, v in self.params.items()}
        self._x: np.ndarray | None = None
        self.reset_parameters(seed)

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray | None:
        return self.params.get("b")

    @property
    def dW(self) -> np.ndarray:
        return self.grads["W"]

    @property
    def db(self) -> np.ndarray | None:
        return self.grads.get("b")

    @property
    def input_features(self) -> int:
        return self.in_features

    def output_features(self, in_features: int | None) -> int:
        return self.out_features

    def reset_parameters(self, seed: Seed = None) -> None:
        rng = as_generator(seed)
        W = self.params["W"]
        W[...] = initialize(self.init, rng, W.shape, self.in_features, self.out_features, W.dtype)
        if self.bias:
            self.params["b"].fill(0)

    def forward(self, x: Any) -> np.ndarray:
        """Checked forward pass: ``x`` must be (N, in_features)."""
        return self.forward_unchecked(self._check_input(x))

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        """Checked backward pass: ``dout`` must be (N, out_features) of the last forward."""
        return self.backward_unchecked(self._check_dout(dout), need_dx)

    def _check_input(self, x: Any) -> np.ndarray:
        arr = real_array(x, "x", self.params["W"].dtype, self.xp, finite=True)
        if arr.ndim != 2 or arr.shape[1] != self.in_features:
            raise ShapeError(
                f"{self!r}: x must have shape (N, {self.in_features}), got {arr.shape}"
            )
        return arr

    def _check_dout(self, dout: Any) -> np.ndarray:
        """dout as an array of shape (N, out_features), N from the last forward."""
        x = self._require_forward(self._x)
        arr = real_array(dout, "dout", self.params["W"].dtype, self.xp, finite=True)
        shape = (x.shape[0], self.out_features)
        if arr.shape != shape:
            raise ShapeError(f"{self!r}.backward: dout must have shape {shape}, got {arr.shape}")
        return arr

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "in_features": self.in_features,
            "out_features": self.out_features,
            **self._extra_config(),
        }
        config["bias"] = self.bias
        if isinstance(self.init, str):
            config["init"] = self.init
        config["dtype"] = self.params["W"].dtype.name
        return config

    def _extra_config(self) -> dict[str, Any]:
        return {}


@register_layer
class Linear(Affine):
    """Fully connected layer: every output is a weighted sum of every input plus a bias.

    Forward:  y = x @ W + b
    Backward: dW = x.T @ dout,   db = Σ_n dout[n],   dx = dout @ W.T

    ``W`` has shape ``(in_features, out_features)`` so that rows of ``x`` are samples, as
    in the notes' ``x.dot(w1)``.

    Args:
        in_features: D, the width of each input row.
        out_features: M, the number of units.
        bias: whether to learn ``b`` (the notes' two programs use none).
        init: initialiser name (see :mod:`shenjing.initializers`); default ``"xavier"``.
            Use ``"normal"`` for the notes' ``randn``, ``"he"`` for deep ReLU networks.
        dtype: ``"float32"`` (default, fast) or ``"float64"`` (exact, for checking).
        seed: ``None``, an int or a ``np.random.Generator`` for the initial weights.

    Shape:
        x: (N, D) → y: (N, M). W: (D, M), b: (M,).

    Example:
        >>> layer = Linear(2, 3, seed=0)
        >>> layer.forward(np.ones((4, 2))).shape
        (4, 3)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = DEFAULT_INIT,
        dtype: Any = "float32",
        seed: Seed = None,
    ) -> None:
        super().__init__(
            in_features,
            out_features,
            (in_features, out_features),
            (out_features,),
            bias,
            init,
            dtype,
            seed,
        )

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        xp, W = self.xp, self.params["W"]
        y = self._buffer("y", (x.shape[0], self.out_features), W.dtype)
        xp.matmul(x, W, out=y)  # y = x @ W + b
        if self.bias:
            y += self.params["b"]
        self._x = x
        return y

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        # Unchecked: the caller ran forward first, so the cached input is set.
        xp, x, W = self.xp, self._x, self.params["W"]
        assert x is not None  # narrows the type for mypy; cheaper than typing.cast's call
        xp.matmul(x.T, dout, out=self.grads["W"])  # dW = x.T @ dout
        if self.bias:
            # db = Σ_n dout[n]: xp.sum's own reduction, called directly (xp.sum only
            # forwards to it, through three Python calls a step of a tiny network feels).
            xp.add.reduce(dout, axis=0, out=self.grads["b"])
        if not need_dx:
            return None
        dx = self._buffer("dx", x.shape, W.dtype)
        xp.matmul(dout, W.T, out=dx)  # dx = dout @ W.T
        return dx

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"Linear({self.in_features} -> {self.out_features}{extra})"
