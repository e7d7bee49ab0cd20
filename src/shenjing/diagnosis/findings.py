"""Findings: plain-language verdicts on a network's diagnostics, and their thresholds.

Each finding names what was measured, the documented threshold it crossed (the
constants below) and what to try. The advice follows from the evidence in the records
and from the network they describe: "lower the learning rate" only where the updates
were measured too large (``fit(monitor=...)``), "use ReLU" only to a network of
sigmoid/tanh layers, and dead units alone (a ReLU layer's idle units, which cost
capacity and nothing else) are not taken for a training fault.
:mod:`shenjing.diagnosis.diagnostics` lists every code with its evidence and threshold.
:func:`findings` reads the per-layer records that diagnostics measure; it computes
nothing from the network itself.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from .report import Finding, LayerReport

#: A unit active (output > 0) on fewer than this fraction of inputs, but not none, is
#: nearly dead.
NEARLY_DEAD = 0.01
#: Findings: a layer with more than this fraction of dead units.
DEAD_LIMIT = 0.10
#: Findings: a layer with more than this fraction of dead or nearly dead units.
NEARLY_DEAD_LIMIT = 0.25
#: Findings: a sigmoid/tanh layer with more than this fraction of saturated units.
SATURATED_LIMIT = 0.10
#: Findings: a hidden layer whose ``|mean| / std`` of outputs exceeds this.
ZERO_CENTRED_LIMIT = 1.5
#: Findings: gradient RMS of the first parametrised layer over the last's, below this.
VANISHING_RATIO = 1e-2
#: ... or above this.
EXPLODING_RATIO = 1e2
#: CS231n's rule of thumb for ‖ΔW‖ / ‖W‖ per step.
UPDATE_RATIO_TARGET = 1e-3
#: Findings: update-to-weight ratios outside [UPDATE_RATIO_LOW, UPDATE_RATIO_HIGH].
UPDATE_RATIO_LOW = 1e-5
UPDATE_RATIO_HIGH = 1e-2


def findings(layers: list[LayerReport], ratio: float | None = None) -> list[Finding]:
    """Every finding whose evidence crosses its documented threshold (module table)."""
    found: list[Finding] = []
    last_param = max((lay.index for lay in layers if lay.parametrised), default=-1)
    for lay in layers:
        where = f"layer {lay.index} ({lay.name})"
        dead = lay.dead_fraction
        if dead is not None and dead > DEAD_LIMIT:
            found.append(_dead_finding(lay, where, dead, _fed_by(layers, lay)))
        elif (
            lay.nearly_dead_fraction is not None
            and dead is not None
            and dead + lay.nearly_dead_fraction > NEARLY_DEAD_LIMIT
        ):
            value = dead + lay.nearly_dead_fraction
            found.append(
                Finding(
                    "nearly_dead_units",
                    lay.index,
                    value,
                    NEARLY_DEAD_LIMIT,
                    f"{where}: {value:.0%} of units are dead or active on fewer than "
                    f"{NEARLY_DEAD:.0%} of inputs",
                    _idle_advice(dead + lay.nearly_dead_fraction, _fed_by(layers, lay)),
                )
            )
        sat = lay.saturated_fraction
        if sat is not None and sat > SATURATED_LIMIT:
            found.append(
                Finding(
                    "saturated_units",
                    lay.index,
                    sat,
                    SATURATED_LIMIT,
                    f"{where}: {sat:.0%} of units are saturated (local derivative near 0 "
                    "for most inputs), so they pass almost no gradient",
                    "scale the weights down (xavier init), standardise the inputs, or use ReLU",
                )
            )
        # Dropout in evaluation mode (where diagnose runs) repeats the layer before it,
        # whose own finding already says this.
        hidden = lay.index < last_param and not lay.parametrised and lay.name != "Dropout"
        if hidden and lay.std > 0 and abs(lay.mean) / lay.std > ZERO_CENTRED_LIMIT:
            value = abs(lay.mean) / lay.std
            found.append(
                Finding(
                    "not_zero_centred",
                    lay.index,
                    value,
                    ZERO_CENTRED_LIMIT,
                    f"{where}: outputs are not zero-centred (mean {lay.mean:.3g}, "
                    f"std {lay.std:.3g}, |mean|/std {value:.3g}); the next layer's weight "
                    "gradients then share one sign and updates zig-zag",
                    "use tanh instead of sigmoid, or a zero-centred activation",
                )
            )
        for name, r in lay.update_ratios.items():
            if name != "W" or not math.isfinite(r):
                continue
            if r > UPDATE_RATIO_HIGH:
                found.append(
                    Finding(
                        "update_ratio_high",
                        lay.index,
                        r,
                        UPDATE_RATIO_HIGH,
                        f"{where}: updates are {r:.2g} of the weights' size per step "
                        f"(rule of thumb: about {UPDATE_RATIO_TARGET:g})",
                        "lower the learning rate",
                    )
                )
            elif r < UPDATE_RATIO_LOW:
                found.append(
                    Finding(
                        "update_ratio_low",
                        lay.index,
                        r,
                        UPDATE_RATIO_LOW,
                        f"{where}: updates are only {r:.2g} of the weights' size per step "
                        f"(rule of thumb: about {UPDATE_RATIO_TARGET:g})",
                        "raise the learning rate",
                    )
                )
    if ratio is not None and ratio < VANISHING_RATIO:
        found.append(
            Finding(
                "vanishing_gradient",
                None,
                ratio,
                VANISHING_RATIO,
                f"vanishing gradient: the first parametrised layer receives {ratio:.2g} "
                "times the gradient of the last",
                _vanishing_advice(layers),
            )
        )
    elif ratio is not None and ratio > EXPLODING_RATIO:
        found.append(
            Finding(
                "exploding_gradient",
                None,
                ratio,
                EXPLODING_RATIO,
                f"exploding gradient: the first parametrised layer receives {ratio:.3g} "
                "times the gradient of the last",
                "scale the initial weights down, or lower the learning rate",
            )
        )
    return found


def _fed_by(layers: list[LayerReport], lay: LayerReport) -> float | None:
    """The update ratio of the weights feeding ``lay`` (the layer before), if measured."""
    before = [x for x in layers if x.index == lay.index - 1]
    ratio = before[0].update_ratios.get("W") if before else lay.update_ratios.get("W")
    return ratio if ratio is not None and math.isfinite(ratio) else None


def _idle_advice(idle: float, update_ratio: float | None, leaky: bool = False) -> str:
    """What to try for a layer with a share ``idle`` of units that (almost) never fire."""
    if update_ratio is not None and update_ratio > UPDATE_RATIO_HIGH:
        return (
            f"lower the learning rate: the weights feeding this layer move by "
            f"{update_ratio:.2g} of their size per step (rule of thumb: about "
            f"{UPDATE_RATIO_TARGET:g}), which pushes units past the point of firing"
        )
    if leaky:
        return (
            "these units still learn through the negative slope and can recover; a larger "
            "slope (0.1) speeds that up. If the network fits, nothing needs fixing"
        )
    if idle >= 0.5:
        return (
            "most of the layer is idle: check the biases' initial values (a negative bias "
            "silences a unit on every input), use He init, or try LeakyReLU, whose units "
            "keep a gradient"
        )
    return (
        "an idle unit passes no gradient to its weights and stays so, but the rest of the "
        "layer learns: if the network fits, nothing needs fixing; if it underfits, widen "
        "the layer or try LeakyReLU, whose units keep a gradient"
    )


def _vanishing_advice(layers: list[LayerReport]) -> str:
    """What to try for a vanishing gradient, given the activations the network has."""
    names = sorted({lay.name for lay in layers if lay.name in SATURATING})
    if names:
        return (
            f"use ReLU with He init instead of {'/'.join(names)}, fewer layers, or check "
            "for saturated units"
        )
    return (
        "check the initialisation (He init for the ReLU family: Xavier's halves the "
        "signal's variance at every ReLU layer), the dead-unit findings, and the depth"
    )


#: Layer names whose units saturate (the vanishing-gradient advice names them).
SATURATING = ("Sigmoid", "Tanh")


def _dead_finding(lay: LayerReport, where: str, dead: float, update_ratio: float | None) -> Finding:
    if lay.name == "Maxout":
        return Finding(
            "dead_units",
            lay.index,
            dead,
            DEAD_LIMIT,
            f"{where}: {dead:.0%} of pieces never win, so they never learn",
            _maxout_advice(update_ratio),
        )
    if lay.name == "LeakyReLU":
        return Finding(
            "dead_units",
            lay.index,
            dead,
            DEAD_LIMIT,
            f"{where}: {dead:.0%} of units never receive a positive input; only the "
            "negative slope carries their gradient",
            _idle_advice(dead, update_ratio, leaky=True),
        )
    units = cast(np.ndarray, lay.dead_units)  # measured with dead_fraction, so set
    shown = ", ".join(str(int(i)) for i in units[:8])
    more = "…" if len(units) > 8 else ""
    return Finding(
        "dead_units",
        lay.index,
        dead,
        DEAD_LIMIT,
        f"{where}: {dead:.0%} of units are dead (output 0 for every input; units {shown}{more})",
        _idle_advice(dead, update_ratio),
    )


def _maxout_advice(update_ratio: float | None) -> str:
    if update_ratio is not None and update_ratio > UPDATE_RATIO_HIGH:
        return _idle_advice(1.0, update_ratio)
    return "a piece that never wins is spare capacity; fewer pieces give the same fit cheaper"
