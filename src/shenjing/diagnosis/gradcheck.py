"""Finite-difference gradient checking: is a backward pass the derivative of its forward?

For a layer with output y = f(x), a random direction ``dout`` (fixed by ``seed``) turns
the output into the scalar s(x) = Σ dout · f(x), whose gradient is exactly what
``backward(dout)`` returns (the vector–Jacobian product). Each input and parameter entry
is nudged by ±eps and ±2eps and the five-point centred difference

    s'(θ) ≈ (8 (s(θ + eps) - s(θ - eps)) - (s(θ + 2eps) - s(θ - 2eps))) / (12 eps)

compared with it. For a loss, s is the loss itself. Everything runs in float64. The
difference's error is about eps⁴ (truncation) plus ``1e-16 · |s| / eps`` (rounding), so
with eps = 1e-5 a correct backward pass shows a relative error near 1e-10 even through
deep networks, and a wrong one near 1. (The two-point difference, error eps² + 1e-16 /
eps, leaves about 1e-7 of rounding noise in a deep network: too close to the mark.)
Keep inputs at least 2·eps away from kinks such as ReLU's 0.

Modes: by default the check runs in evaluation mode, the function ``predict`` computes
(:class:`~shenjing.Dropout` is then the identity, :class:`~shenjing.BatchNorm` a fixed
affine map of its running statistics). ``training=True`` checks the training-mode
function instead: every layer's random state and persistent arrays are put back before
each forward pass (:func:`shenjing.nn.modes.restore_state`), so Dropout draws the same
mask in every evaluation and BatchNorm's running statistics do not drift; the function
checked is then the one of that fixed mask. Either way the layers' modes, random state
and running statistics are left as they were.

The error reported for each array is ``max|analytic - numeric| / max(max|analytic|,
max|numeric|)``: relative to the array's largest gradient, so tiny entries swamped by
rounding do not raise false alarms. An array whose gradient is exactly 0 everywhere (a
bias just before a BatchNorm in training mode: the batch mean cancels it) shows an
error near 1, rounding noise over rounding noise; leave such a bias out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from ..base.checks import as_float_array, boolean, number, positive_int
from ..base.errors import DTypeError
from ..nn.initializers import as_generator
from ..nn.layer import Layer
from ..nn.modes import capture_state, in_mode, restore_state
from ..training.losses import Loss
from ..training.losses import get as get_loss

DEFAULT_TOLERANCE = 1e-7


@dataclass
class GradCheckResult:
    """Relative errors by array name (``"x"``, ``"W"``, ``"0.b"``…) and the verdict."""

    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def ok(self) -> bool:
        return self.max_error < self.tolerance

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"gradcheck {'passed' if self.ok else 'FAILED'} (tolerance {self.tolerance:g})"]
        width = max((len(k) for k in self.errors), default=1)
        for name, err in self.errors.items():
            flag = "" if err < self.tolerance else "   <-- too large"
            lines.append(f"  {name:<{width}}  relative error {err:.3e}{flag}")
        return "\n".join(lines)


def gradcheck(
    obj: Layer | Loss,
    x: Any,
    target: Any = None,
    *,
    loss: str | Loss | None = None,
    eps: float = 1e-5,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    check_input: bool = True,
    directions: int | None = None,
    training: bool = False,
) -> GradCheckResult:
    """Compare ``obj``'s backward pass with finite differences of its forward pass.

    Args:
        obj: a layer, activation, network or neuron (in float64: call
            ``.astype("float64")`` first), or a loss.
        x: the input (for a loss: the predictions).
        target: targets, for a loss or with ``loss=``.
        loss: check ``loss(obj(x), target)`` end to end instead of a random direction.
        eps: the finite-difference step.
        seed: fixes the random direction ``dout`` (and ``directions``).
        tolerance: the pass mark for ``result.ok``.
        check_input: also check dL/dx (always true for a loss).
        directions: instead of every entry, compare along this many random unit
            directions in the space of all parameters and the input at once: cheap for
            large networks, and still fails for any wrong gradient.
        training: check the training-mode function (one fixed dropout mask, batch
            statistics) instead of the evaluation-mode one; see the module docstring.

    Returns:
        A :class:`GradCheckResult`; ``bool(result)`` is the verdict and ``str(result)``
        a table.

    Example:
        >>> result = gradcheck(Linear(3, 2, dtype="float64", seed=0), np.ones((4, 3)))
        >>> result.ok
        True
    """
    # A private copy: entries are nudged in place.
    x = as_float_array(x, "x", np.dtype(np.float64), finite=True).copy()
    eps = number(eps, "eps", low=0.0, low_open=True)
    tolerance = number(tolerance, "tolerance", low=0.0, low_open=True)
    check_input = boolean(check_input, "check_input")
    directions = positive_int(directions, "directions", allow_none=True)
    rng = as_generator(seed, "seed")
    if isinstance(obj, Loss):
        return _check_loss(obj, x, target, eps, tolerance)
    _require_float64(obj)
    with in_mode(obj, training):
        saved = capture_state(obj)
        try:
            return _check_layer(
                obj,
                x,
                target,
                loss,
                eps,
                tolerance,
                check_input,
                directions,
                rng,
                lambda: restore_state(obj, saved),
            )
        finally:
            restore_state(obj, saved)


def _check_layer(
    obj: Layer,
    x: np.ndarray,
    target: Any,
    loss: str | Loss | None,
    eps: float,
    tolerance: float,
    check_input: bool,
    directions: int | None,
    rng: np.random.Generator,
    replay: Callable[[], None],
) -> GradCheckResult:
    """The check of a layer; ``replay()`` runs before every forward pass."""
    if loss is not None:
        loss_fn = get_loss(loss)

        def scalar() -> float:
            replay()
            return loss_fn.forward(obj.forward(x), target)

        scalar()
        dx = obj.backward(loss_fn.backward())
    else:
        replay()
        dout = rng.standard_normal(np.shape(obj.forward(x)))

        def scalar() -> float:
            replay()
            return float(np.sum(np.asarray(obj.forward(x)) * dout))

        scalar()
        # A layer whose output is a scalar (Neuron on one sample) takes a float back;
        # Layer.backward's signature (an array) cannot say so.
        dx = obj.backward(dout.copy() if dout.ndim else float(dout))  # type: ignore[arg-type]
    arrays = {p.name: p.value for p in obj.parameters()}
    analytic = {p.name: np.array(p.grad, dtype=np.float64) for p in obj.parameters()}
    if check_input:
        arrays = {"x": x, **arrays}
        analytic = {"x": np.array(dx, dtype=np.float64).reshape(x.shape), **analytic}
    result = GradCheckResult(tolerance=tolerance)
    if directions is None:
        for name, array in arrays.items():
            numeric = _numeric_gradient(scalar, array, eps)
            result.errors[name] = _relative_error(analytic[name], numeric)
    else:
        result.errors["directions"] = _directional_error(
            scalar, arrays, analytic, eps, directions, rng
        )
    return result


def _check_loss(loss: Loss, pred: np.ndarray, target: Any, eps: float, tol: float):
    if target is None:
        raise DTypeError("gradcheck of a loss needs its target")
    loss.forward(pred, target)
    analytic = np.array(loss.backward(), dtype=np.float64)
    numeric = _numeric_gradient(lambda: loss.forward(pred, target), pred, eps)
    return GradCheckResult({"pred": _relative_error(analytic, numeric)}, tol)


def _five_point(at: Callable[[float], float], eps: float) -> float:
    """Derivative at 0 of ``at(h)`` by the five-point centred difference."""
    near = at(eps) - at(-eps)
    far = at(2 * eps) - at(-2 * eps)
    return (8 * near - far) / (12 * eps)


def _numeric_gradient(scalar: Callable[[], float], array: np.ndarray, eps: float) -> np.ndarray:
    """Finite-difference derivative of ``scalar()`` with respect to each entry of ``array``."""
    grad = np.zeros(array.shape)
    flat, out = array.reshape(-1), grad.reshape(-1)  # views: nudging flat nudges array
    for i in range(flat.size):
        original = flat[i]
        out[i] = _five_point(partial(_nudge_entry, scalar, flat, i, original), eps)
        flat[i] = original
    return grad


def _nudge_entry(scalar, flat: np.ndarray, i: int, original: float, h: float) -> float:
    flat[i] = original + h
    return scalar()


def _nudge_all(scalar, arrays: dict, originals: dict, direction: dict, h: float) -> float:
    for k, a in arrays.items():
        a[...] = originals[k] + h * direction[k]
    return scalar()


def _directional_error(scalar, arrays, analytic, eps, count, rng) -> float:
    worst = 0.0
    for _ in range(count):
        vs = {k: rng.standard_normal(a.shape) for k, a in arrays.items()}
        norm = np.sqrt(sum(float(np.sum(v * v)) for v in vs.values()))
        originals = {k: a.copy() for k, a in arrays.items()}
        unit = {k: v / norm for k, v in vs.items()}
        numeric = _five_point(partial(_nudge_all, scalar, arrays, originals, unit), eps)
        for k, a in arrays.items():
            a[...] = originals[k]
        exact = sum(float(np.sum(analytic[k] * vs[k])) for k in arrays) / norm
        scale = max(abs(numeric), abs(exact))
        worst = max(worst, abs(numeric - exact) / scale if scale else 0.0)
    return worst


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(analytic - numeric))) / scale


def _require_float64(obj: Layer) -> None:
    for p in obj.parameters():
        if p.value.dtype != np.float64:
            raise DTypeError(
                f"gradcheck needs float64 parameters, but {p.name!r} is "
                f"{p.value.dtype.name}: call .astype('float64') first"
            )
