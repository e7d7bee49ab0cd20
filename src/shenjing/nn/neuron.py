"""The single neuron of the notes: a dot product, a bias and a non-linearity."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..base.checks import as_float_array, check_finite
from ..base.errors import DTypeError, ShapeError
from . import activations
from .layer import Layer


class Neuron(Layer):
    """One neuron, the notes' first example.

    Forward:  z = inputs · weights + bias,   firing_rate = f(z)

    Backward: dz = dout * f'(z),   dweights = inputs.T @ dz,   dbias = Σ dz,
              dinputs = dz ⊗ weights

    Args:
        weights: 1-D array of D weights (copied).
        bias: a number.
        activation: name, class or instance of an activation; default ``"sigmoid"``,
            which makes ``forward`` return the notes' "firing rate".

    Shape:
        inputs: (D,) → a float, or (N, D) → (N,). weights: (D,), bias: ().

    Example:
        >>> n = Neuron([0.5, -1.0], bias=0.1)
        >>> round(n.forward([1.0, 0.2]), 4)   # σ(0.5 - 0.2 + 0.1)
        0.5987
    """

    def __init__(self, weights: Any, bias: float = 0.0, activation: Any = "sigmoid") -> None:
        super().__init__()
        w = as_float_array(weights, "weights", np.dtype(np.float64), ndim=1)
        check_finite(w, "weights")
        if isinstance(bias, (bool, np.bool_)):
            raise DTypeError(f"bias must be a real number, got {bias!r}")
        b = as_float_array(bias, "bias", np.dtype(np.float64), ndim=0)
        check_finite(b, "bias")
        self.params = {"weights": w.copy(), "bias": b.copy()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.activation = activations.get(activation)
        self._x: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray:
        return self.params["weights"]

    @property
    def bias(self) -> float:
        return float(self.params["bias"])

    @property
    def input_features(self) -> int:
        width: int = self.params["weights"].shape[0]
        return width

    def forward(self, inputs: Any) -> Any:
        w = self.params["weights"]
        x = as_float_array(inputs, "inputs", w.dtype, ndim=(1, 2), finite=True)
        if x.shape[-1] != w.shape[0]:
            raise ShapeError(
                f"Neuron with {w.shape[0]} weights: inputs must have shape "
                f"({w.shape[0]},) or (N, {w.shape[0]}), got {x.shape}"
            )
        cell_body_sum = np.atleast_1d(x @ w + self.params["bias"])
        firing_rate = self.activation.forward(cell_body_sum)
        self._x = x
        return float(firing_rate[0]) if x.ndim == 1 else firing_rate.copy()

    def backward(self, dout: Any, need_dx: bool = True) -> Any:
        x, w = self._require_forward(self._x), self.params["weights"]
        n = 1 if x.ndim == 1 else x.shape[0]
        dout = np.asarray(dout, dtype=w.dtype).reshape(-1)
        if dout.shape != (n,):
            raise ShapeError(f"Neuron.backward: dout must hold {n} value(s), got {dout.size}")
        dz = cast(np.ndarray, self.activation.backward(dout))  # need_dx=True: never None
        xs = x.reshape(n, -1)
        np.matmul(xs.T, dz, out=self.grads["weights"])
        self.grads["bias"][...] = dz.sum()
        if not need_dx:
            return None
        return np.outer(dz, w).reshape(x.shape)

    def __repr__(self) -> str:
        return (
            f"Neuron({self.params['weights'].shape[0]} inputs, "
            f"activation={type(self.activation).__name__})"
        )
