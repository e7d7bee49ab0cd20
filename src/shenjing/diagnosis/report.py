"""What diagnostics report: per-layer records, verdicts, and the report that holds them.

Plain data, shared by :func:`shenjing.diagnose`, :class:`shenjing.Monitor`, the
findings and the plots; nothing here measures anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Finding:
    """One verdict: what was measured, the threshold it crossed, and what to try.

    Attributes:
        code: a fixed name such as ``"dead_units"`` (see the module's table).
        layer: the layer's index in the network, or ``None`` for the whole network.
        value: the measured number (a fraction, a ratio).
        threshold: the documented limit it crossed.
        message: the verdict in plain words, with the number.
        advice: what to try.
    """

    code: str
    layer: int | None
    value: float
    threshold: float
    message: str
    advice: str

    def __str__(self) -> str:
        return f"{self.message} — {self.advice}"


@dataclass
class LayerReport:
    """Statistics of one layer's outputs (and gradients) over the data it saw.

    Fractions that do not apply to the layer's kind are ``None`` (a Linear layer has no
    dead units; only sigmoid and tanh saturate here).

    Attributes:
        index: position in the network.
        name: the layer's class name (``"ReLU"``, ``"Linear"``…).
        description: its ``repr``.
        units: output width M.
        rows: inputs seen.
        mean, std: of every output value.
        dead_fraction: fraction of units dead (for Maxout: of pieces that never win).
        nearly_dead_fraction: fraction of units active on fewer than NEARLY_DEAD of inputs.
        dead_units: indices of the dead units (Maxout: units with a piece that never wins).
        saturated_fraction: fraction of units saturated on most inputs.
        unit_saturation: (M,) fraction of inputs on which each unit is saturated.
        active_fraction: (M,) fraction of inputs on which each unit's output is > 0
            (ReLU family; for Maxout, the (M, k) fraction each piece wins).
        grad_rms: RMS of dL/d(output) per sample, or ``None`` without a loss. A few
            unsaturated inputs dominate it.
        grad_median: the typical gradient: median of ``|dL/d(output)|`` per sample over a
            strided sample of entries (what most inputs send back), or ``None``.
        grad_norms: parameter name → norm of its gradient over the data.
        param_norms: parameter name → norm of the parameter.
        update_ratios: parameter name → ‖ΔW‖ / ‖W‖ of an optimizer step (only recorded
            by ``fit(monitor=...)``).
        values: a sample of output values for histograms: every unit of every stride-th
            row (may be ``None``).
    """

    index: int
    name: str
    description: str
    units: int
    rows: int
    mean: float
    std: float
    dead_fraction: float | None = None
    nearly_dead_fraction: float | None = None
    dead_units: np.ndarray | None = None
    saturated_fraction: float | None = None
    unit_saturation: np.ndarray | None = None
    active_fraction: np.ndarray | None = None
    grad_rms: float | None = None
    grad_median: float | None = None
    grad_norms: dict[str, float] = field(default_factory=dict)
    param_norms: dict[str, float] = field(default_factory=dict)
    update_ratios: dict[str, float] = field(default_factory=dict)
    values: np.ndarray | None = field(default=None, repr=False)

    @property
    def parametrised(self) -> bool:
        return bool(self.param_norms)

    def __repr__(self) -> str:
        return (
            f"LayerReport({self.index} {self.name}, mean={self.mean:.3g}, std={self.std:.3g}, "
            f"dead={_pct(self.dead_fraction)}, saturated={_pct(self.saturated_fraction)})"
        )


@dataclass
class DiagnosticReport:
    """What :func:`diagnose` measured: one :class:`LayerReport` per layer and the findings.

    ``str(report)`` is a fixed-width table, one line per layer, then the findings in
    plain language.

    Attributes:
        layers: one record per layer, in order.
        findings: the verdicts (empty for a healthy network).
        rows: inputs the statistics cover.
        loss: the loss over the data, or ``None`` without ``y``.
        gradient_ratio: gradient RMS of the first parametrised layer over the last's, or
            ``None`` (no loss, or fewer than two parametrised layers).
    """

    layers: list[LayerReport]
    findings: list[Finding]
    rows: int
    loss: float | None = None
    gradient_ratio: float | None = None

    @property
    def codes(self) -> list[str]:
        """The findings' codes, in order (``"dead_units"``…)."""
        return [f.code for f in self.findings]

    def table(self) -> str:
        """One fixed-width line per layer."""
        head = (
            f"{'#':>3}  {'layer':<22} {'units':>6} {'mean':>9} {'std':>9} "
            f"{'dead':>7} {'satur.':>7} {'grad rms':>10} {'update':>9}"
        )
        lines = [head, "-" * len(head)]
        for lay in self.layers:
            ratio = lay.update_ratios.get("W")
            lines.append(
                f"{lay.index:>3}  {_short(lay.description, 22):<22} {lay.units:>6} "
                f"{lay.mean:>9.3g} {lay.std:>9.3g} {_pct(lay.dead_fraction):>7} "
                f"{_pct(lay.saturated_fraction):>7} "
                f"{_num(lay.grad_rms, '.3e'):>10} {_num(ratio, '.2e'):>9}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [f"Diagnosis over {self.rows} rows" + _loss_text(self.loss), self.table()]
        if self.gradient_ratio is not None:
            ratio = self.gradient_ratio
            lines.append(f"gradient ratio, first / last parametrised layer: {ratio:.3g}")
        if self.findings:
            lines.append("Findings:")
            lines += [f"- {f}" for f in self.findings]
        else:
            lines.append("No findings: nothing crossed a threshold.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        n = len(self.layers)
        return f"DiagnosticReport({n} layers, {self.rows} rows, findings={self.codes})"


# -- text -------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _loss_text(loss: float | None) -> str:
    return "" if loss is None else f", loss {loss:.4g}"
