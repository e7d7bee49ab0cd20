"""Activation functions: parameter-free layers applied element by element.

Each class shows its forward formula and its derivative side by side, and caches the
cheapest thing its backward needs (the output for sigmoid and tanh, a mask for the
ReLU family, the input for softplus and GELU). Conventions at the kinks, pinned by
tests:

* ``ReLU'(0) = 0``: the gradient flows only where x > 0. (The notes' own loop writes
  ``grad_h[h < 0] = 0`` and so passes the gradient at exactly 0; in their XOR program the
  only exact zeros come from the input row [0, 0], whose weight gradient is 0 either way,
  so both conventions give the same training run.)
* ``LeakyReLU'(0) = negative_slope`` and ``ELU'(0) = alpha``: the x ≤ 0 branch owns 0.

Every formula is overflow-free for any finite float32 or float64 input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

from ..base import stable as _stable
from ..base.checks import FLOAT_DTYPES, check_finite, number
from ..base.errors import DTypeError, ShapeError
from ..base.registry import Registry
from .layer import Layer
from .registry import register_layer

ACTIVATIONS: Registry[type[Activation]] = Registry("activation")

_A = TypeVar("_A", bound="type[Activation]")


def register_activation(name: str, *aliases: str, kind: str = "other") -> Callable[[_A], _A]:
    """The one decorator of an activation: its names, and its layer type.

    ``name`` and ``aliases`` are what ``activation="..."`` and :func:`get` accept; the
    class is also registered as a layer type (:func:`shenjing.nn.registry.register_layer`)
    with the diagnostic ``kind``, so files store it and diagnostics read it.
    """

    def add(cls: _A) -> _A:
        registered = register_layer(kind=kind)(cls)
        ACTIVATIONS.add(registered, name, *aliases)
        return registered

    return add


class Activation(Layer):
    """Base of the element-wise activations: ``y = f(x)``, ``dx = dout * f'(x)``.

    Subclasses write ``_forward(x, y)`` and ``_backward(dout, dx)`` next to each other;
    this class owns the buffers, the shape checks and the cached ``x`` and ``y``.

    Shape:
        x: any shape, usually (N, D). y, dout, dx: the same shape as x.
    """

    def __init__(self) -> None:
        super().__init__()
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._positive: np.ndarray | None = None  # x > 0, for the ReLU family

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.xp.asarray(x)
        if x.dtype not in FLOAT_DTYPES.values():
            if x.dtype.kind not in "biuf":
                raise DTypeError(
                    f"{type(self).__name__}: x must hold real numbers, got {x.dtype.name!r}"
                )
            x = x.astype(np.float64)
        check_finite(x, f"{type(self).__name__}: x")
        if np.may_share_memory(x, self._buffer("y", x.shape, x.dtype)):
            x = x.copy()  # act(act(x)): y would be overwritten while read
        return self.forward_unchecked(x)

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        # No copy against aliasing either: in a network each layer owns its buffers,
        # so x is never this layer's own y.
        y = self._buffer("y", x.shape, x.dtype)
        self._forward(x, y)
        self._x, self._y = x, y
        return y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        y = self._require_forward(self._y)
        dout = self.xp.asarray(dout, dtype=y.dtype)
        if dout.shape != y.shape:
            raise ShapeError(
                f"{type(self).__name__}.backward: dout must have the output's shape "
                f"{y.shape}, got {dout.shape}"
            )
        return self.backward_unchecked(dout, need_dx)

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        dx = self._buffer("dx", dout.shape, dout.dtype)
        self._backward(dout, dx)
        return dx

    # ``_backward`` runs only after a forward, so it reads the cached ``_x`` and ``_y``
    # as arrays (``cast`` returns its argument unchanged; it only informs the type checker).
    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        raise NotImplementedError

    def _mask(self, x: np.ndarray) -> np.ndarray:
        """Boolean buffer holding x > 0, reused by backward."""
        mask = self._buffer("mask", x.shape, np.dtype(bool))
        np.greater(x, 0, out=mask)
        self._positive = mask
        return mask


@register_activation("sigmoid", "logistic", kind="sigmoid")
class Sigmoid(Activation):
    """Sigmoid, the notes' "firing rate": squashes to (0, 1).

    Forward:  y = σ(x) = 1 / (1 + e^-x)
    Backward: dx = dout * y * (1 - y)        (needs only the cached output y)

    Saturates: where y is near 0 or 1, y(1 - y) ≈ 0 and the gradient is "killed".
    Its outputs are all positive, so not zero-centred.
    """

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        _stable.sigmoid(x, out=y)

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        y = self._y
        assert y is not None  # backward runs after forward (narrows the type, no call)
        one_minus_y = self._buffer("t", dx.shape, dx.dtype)
        np.subtract(1, y, out=one_minus_y)
        # (dout * y) * (1 - y): the notes' order of operations, so rounding matches.
        np.multiply(dout, y, out=dx)
        dx *= one_minus_y


@register_activation("tanh", kind="tanh")
class Tanh(Activation):
    """Hyperbolic tangent, a scaled and shifted sigmoid: tanh(x) = 2σ(2x) - 1.

    Forward:  y = tanh(x)                    range (-1, 1), zero-centred
    Backward: dx = dout * (1 - y²)           (needs only the cached output y)
    """

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        np.tanh(x, out=y)

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        y = cast(np.ndarray, self._y)
        np.multiply(y, y, out=dx)
        np.subtract(1, dx, out=dx)
        dx *= dout


@register_activation("relu", kind="relu")
class ReLU(Activation):
    """Rectified linear unit: a threshold at zero, no exponential.

    Forward:  y = max(0, x)
    Backward: dx = dout * [x > 0]            ReLU'(0) = 0

    A unit whose input is negative for every sample passes no gradient at all: it is
    "dead" and gradient descent cannot revive it.
    """

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        np.maximum(x, 0, out=y)

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        y = self._y
        assert y is not None  # backward runs after forward (narrows the type, no call)
        mask = self._buffer("mask", y.shape, np.dtype(bool))
        np.greater(y, 0, out=mask)  # ReLU'(x) = [x > 0] = [y > 0]
        self._positive = mask
        np.multiply(dout, mask, out=dx)


@register_activation("leaky_relu", "leakyrelu", kind="leaky_relu")
class LeakyReLU(Activation):
    """ReLU with a small slope for negative inputs, so no unit can die.

    Forward:  y = x if x > 0 else negative_slope * x
    Backward: dx = dout if x > 0 else negative_slope * dout     LeakyReLU'(0) = slope

    Args:
        negative_slope: slope for x ≤ 0, in [0, 1). Default 0.01, as in the notes.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = number(
            negative_slope, "negative_slope", low=0.0, high=1.0, high_open=True
        )

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        np.multiply(x, self.negative_slope, out=y)
        np.copyto(y, x, where=self._mask(x))

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        np.multiply(dout, self.negative_slope, out=dx)
        np.copyto(dx, dout, where=self._positive)

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


@register_activation("elu")
class ELU(Activation):
    """Exponential linear unit (Clevert et al. 2015): smooth, negative outputs saturate at -alpha.

    Forward:  y = x if x > 0 else alpha * (e^x - 1)
    Backward: dx = dout if x > 0 else dout * (y + alpha)      ELU'(0) = alpha

    Args:
        alpha: the value -alpha is approached for x → -∞; positive. Default 1.0.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = number(alpha, "alpha", low=0.0, low_open=True)

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        mask = self._mask(x)
        np.minimum(x, 0, out=y)  # e^x only where it cannot overflow
        np.expm1(y, out=y)
        y *= self.alpha
        np.copyto(y, x, where=mask)

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        np.add(cast(np.ndarray, self._y), self.alpha, out=dx)
        dx *= dout
        np.copyto(dx, dout, where=self._positive)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@register_activation("softplus")
class Softplus(Activation):
    """A smooth ReLU.

    Forward:  ``y = log(1 + e^x) = max(x, 0) + log1p(e^-|x|)``
    Backward: dx = dout * σ(x)
    """

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        _stable.softplus(x, out=y)

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        _stable.sigmoid(cast(np.ndarray, self._x), out=dx)
        dx *= dout


# GELU's tanh form: 0.5 x (1 + tanh(u)) = x σ(2u). Beyond |x| = 1e5, σ(2u) is exactly
# 0 or 1 in both float types, so clipping x inside the cubic changes no result and
# keeps x³ from overflowing.
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715
_GELU_CLIP = 1e5


@register_activation("gelu")
class GELU(Activation):
    """Gaussian error linear unit (Hendrycks & Gimpel 2016), in its tanh form.

    Forward:  y = 0.5 x (1 + tanh(u)) = x σ(2u),   u = √(2/π) (x + 0.044715 x³)
    Backward: dx = dout * (s + x s (1 - s) 2√(2/π) (1 + 3·0.044715 x²)),   s = σ(2u)

    This is the approximation used by BERT and GPT-2 (PyTorch's
    ``GELU(approximate="tanh")``); it differs from the erf form by less than 5e-4.
    """

    def _sigmoid_2u(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
        np.multiply(xc, xc, out=out)
        out *= _GELU_A
        out += 1
        out *= xc
        out *= 2 * _GELU_K
        return _stable.sigmoid(out, out=out)

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        self._sigmoid_2u(x, out=y)
        y *= x

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        x = cast(np.ndarray, self._x)
        s = self._sigmoid_2u(x, out=self._buffer("s", x.shape, x.dtype))
        xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
        # x s (1 - s) * 2k (1 + 3a xc²), then + s
        np.multiply(xc, xc, out=dx)
        dx *= 3 * _GELU_A
        dx += 1
        dx *= 2 * _GELU_K
        dx *= s
        dx *= 1 - s
        dx *= x
        dx += s
        dx *= dout


@register_activation("identity", "linear", "none")
class Identity(Activation):
    """No non-linearity: y = x, dx = dout (the output layer of a regression network)."""

    def _forward(self, x: np.ndarray, y: np.ndarray) -> None:
        np.copyto(y, x)

    def _backward(self, dout: np.ndarray, dx: np.ndarray) -> None:
        np.copyto(dx, dout)


def get(activation: str | Layer | type[Layer]) -> Layer:
    """Resolve an activation given by name (``"relu"``), class or instance.

    A name or class gives a new instance with default arguments; an instance is
    returned as it is. Unknown names raise :class:`shenjing.ConfigError` listing the
    valid ones.
    """
    return ACTIVATIONS.create(activation, Layer)


def names() -> list[str]:
    """Names accepted by :func:`get`."""
    return ACTIVATIONS.names()
