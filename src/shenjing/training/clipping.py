"""Gradient clipping, between a step's backward pass and its update: :class:`Clip`.

By global norm (``fit(clip_norm=c)``), as ``torch.nn.utils.clip_grad_norm_``::

    n = ‖(g_1, …, g_P)‖₂ = √(Σ_p ‖g_p‖₂²)        over every parameter's gradient
    if n > c:  g_p ← g_p · c / (n + 1e-6)         the direction is kept

By value (``fit(clip_value=v)``): g ← min(max(g, -v), v) elementwise. With both, the
values are clipped first. Either needs every gradient before any update.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..base.checks import number


class Clip:
    """Clip the gradients of ``params`` in place; see the module docstring."""

    def __init__(self, params: list[Any], norm: float | None, value: float | None) -> None:
        self.grads = [p.grad for p in params]
        self.norm, self.value = norm, value

    @staticmethod
    def check(clip_norm: Any, clip_value: Any) -> tuple[float | None, float | None]:
        """The two limits, each ``None`` or a number > 0."""
        norm = None if clip_norm is None else number(clip_norm, "clip_norm", low=0.0, low_open=True)
        value = (
            None if clip_value is None else number(clip_value, "clip_value", low=0.0, low_open=True)
        )
        return norm, value

    def __call__(self) -> float | None:
        """Clip; returns the global norm before norm clipping (``None`` without it)."""
        if self.value is not None:
            for g in self.grads:
                np.clip(g, -self.value, self.value, out=g)
        if self.norm is None:
            return None
        total = math.sqrt(sum(float(np.linalg.norm(g.reshape(-1))) ** 2 for g in self.grads))
        coef = self.norm / (total + 1e-6)
        if coef < 1:
            for g in self.grads:
                g *= coef
        return total
