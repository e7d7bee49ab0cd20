"""Why a network trains or fails: the notes' warnings, measured on your own network.

:func:`diagnose` runs a dataset through a network in batches and reports, per layer:

* **activation statistics**: mean and standard deviation of the outputs (a mean far from
  0 relative to the spread means the layer is not zero-centred, as sigmoid never is);
* **saturation** (sigmoid, tanh): a unit is saturated on an input when its local
  derivative, relative to the derivative's peak (4·y(1-y) for sigmoid, 1-y² for tanh),
  is below ``saturation_threshold``; a unit counts as saturated when that holds for
  more than half of the inputs (:data:`SATURATED_MOST`);
* **dead units** (ReLU): units whose output is 0 for every input; *nearly dead* ones
  are positive on fewer than :data:`NEARLY_DEAD` of the inputs. LeakyReLU's analogue is a
  unit whose input is never positive (only the small slope carries its gradient);
  Maxout's is a piece that never wins (it never receives a gradient);
* ``Dropout``, ``BatchNorm``, ``LayerNorm`` and ``Softmax`` get statistics only: "dead"
  and "saturated" do not apply (an output at 0 is a batch or row mean, not a unit that
  stopped firing; in evaluation mode Dropout repeats the layer before it);
* **gradient flow** (given ``y`` and a loss): the root-mean-square of dL/d(output) reaching
  each layer, per sample, and the norm of each parameter's gradient over the dataset.
  The ratio between the first and the last parametrised layer shows vanishing (≪ 1) or
  exploding (≫ 1) gradients.

Findings are short verdicts, each with the number behind it, the threshold it crossed,
and what to try. A finding appears only when its threshold is crossed:

======================  ========================================================  =========
code                    evidence                                                  threshold
======================  ========================================================  =========
``dead_units``          fraction of a layer's units dead                          > 10 %
``nearly_dead_units``   fraction dead or nearly dead (active < 1 % inputs)        > 25 %
``saturated_units``     fraction of sigmoid/tanh units saturated                  > 10 %
``not_zero_centred``    ``|mean| / std`` of a hidden layer feeding another layer  > 1.5
``vanishing_gradient``  gradient RMS, first / last parametrised layer             < 1e-2
``exploding_gradient``  the same ratio                                            > 1e2
``update_ratio_high``   ‖ΔW‖ / ‖W‖ of one step (recorded by ``fit``)              > 1e-2
``update_ratio_low``    the same                                                  < 1e-5
======================  ========================================================  =========

The update-to-weight ratio needs a step of the optimizer, so only
``fit(..., monitor=True)`` measures it (CS231n's rule of thumb is about 1e-3; the limits
flag ratios ten times above it or a hundred times below: a step that is too large hurts
at once, one that is too small only slows training down).

Diagnostics never change what a layer computes: they read what the layers cache
(outputs, masks, inputs, winning pieces) and their gradients. A diagnosis does run
forward and backward passes, so it overwrites the network's gradients.

Example:
    >>> import shenjing as sj
    >>> x, y = sj.datasets.spiral(seed=0)
    >>> net = sj.Sequential(sj.Linear(2, 64, seed=0), sj.ReLU(), sj.Linear(64, 3, seed=1))
    >>> report = sj.diagnose(net, x, y, loss="softmax_cross_entropy")
    >>> report.layers[1].dead_fraction, report.findings
    (0.0, [])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.backend import to_float
from ..base.checks import check_rows, positive_int
from ..base.errors import ConfigError
from ..nn.modes import runs_in_mode
from ..training import losses as losses_mod
from ..training.evaluation import PREDICT_BATCH
from .network import require_network

#: A unit is saturated on an input when f'(x) / max f' is below this.
from .report import DiagnosticReport, Finding, LayerReport
from .stats import (
    HISTOGRAM_VALUES,
    SATURATED_MOST,
    SATURATION_THRESHOLD,
    build_report,
    check_saturation_threshold,
    layer_statistics,
)

__all__ = [
    "HISTOGRAM_VALUES",
    "SATURATED_MOST",
    "SATURATION_THRESHOLD",
    "DiagnosticReport",
    "Finding",
    "LayerReport",
    "diagnose",
]


@runs_in_mode(training=False)  # what predict computes; the caller's mode is restored
def diagnose(
    net: Any,
    x: Any,
    y: Any = None,
    loss: str | losses_mod.Loss | None = None,
    *,
    batch_size: int | None = None,
    saturation_threshold: float = SATURATION_THRESHOLD,
) -> DiagnosticReport:
    """Measure every layer of ``net`` on the data ``x`` (and its gradients, given ``y``).

    The network runs in evaluation mode, as ``predict`` does: dropout is off and
    batch normalisation uses its running statistics (the layers' modes are restored).

    Args:
        net: the network (a :class:`~shenjing.Sequential`).
        x: inputs, (N, D).
        y: targets, as ``loss`` expects them; without them only forward statistics are
            measured (no gradient flow).
        loss: the loss name or object; defaults to the loss of the network's last ``fit``.
        batch_size: rows per pass (bounds memory); default 1024.
        saturation_threshold: f'(x) / max f' below which a sigmoid or tanh unit counts as
            saturated on an input; in (0, 1). Default :data:`SATURATION_THRESHOLD`.

    Returns:
        A :class:`DiagnosticReport`.

    Shape:
        x: (N, D); y: (N,) labels or (N, M) targets.
    """
    require_network(net)
    threshold = check_saturation_threshold(saturation_threshold)
    size = positive_int(batch_size, "batch_size", allow_none=True) or PREDICT_BATCH
    X = net.check_input(x, "x")
    n = X.shape[0]
    loss_fn, T = None, None
    if y is not None:
        if loss is None:
            if net.loss is None:
                raise ConfigError(
                    "diagnose needs loss=... to measure gradients: this network has not "
                    "been fit yet (or leave out y for forward statistics only)"
                )
            loss = net.loss
        loss_fn = losses_mod.get(loss)
        check_rows(n, y)
        T = loss_fn.prepare_target(y, (n, net.output_features(X.shape[1])), net.compute_dtype)
    elif loss is not None:
        raise ConfigError("loss was given without y: pass the targets too, or neither")

    accs = layer_statistics(net, n, threshold)
    grad_sums = [{k: np.zeros(v.shape, np.float64) for k, v in lay.grads.items()} for lay in net]
    total_loss = 0.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for start in range(0, n, size):
            xb = X[start : start + size]
            outputs = net.forward_trace(xb)
            for acc, out, layer in zip(accs, outputs, net.layers, strict=True):
                acc.add_output(out, layer)
            if loss_fn is None or T is None:  # both set together, from y
                continue
            tb = T[start : start + size]
            value = to_float(loss_fn.forward_unchecked(outputs[-1], tb))
            per_sample = loss_fn.reduction == "mean"
            total_loss += value * len(xb) if per_sample else value
            douts = net.backward_trace(loss_fn.backward())
            scale = len(xb) if per_sample else 1.0
            for acc, dout in zip(accs, douts, strict=True):
                acc.add_grad(dout, scale)
            # The dataset's gradient: batch gradients of a mean loss weigh by their rows.
            weight = len(xb) / n if per_sample else 1.0
            for sums, layer in zip(grad_sums, net.layers, strict=True):
                for k, g in layer.grads.items():
                    sums[k] += weight * g
    layers = [acc.finish() for acc in accs]
    if loss_fn is not None:
        for lay, sums in zip(layers, grad_sums, strict=True):
            lay.grad_norms = {k: float(np.linalg.norm(g)) for k, g in sums.items()}
        total_loss = total_loss / n if loss_fn.reduction == "mean" else total_loss
    return build_report(layers, n, total_loss if loss_fn is not None else None)
