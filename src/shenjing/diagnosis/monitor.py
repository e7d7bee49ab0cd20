"""Diagnostics recorded during training: ``fit(..., monitor=True)``.

Every ``every`` steps (default :data:`DEFAULT_EVERY`, counting from the first), the
monitor measures the step's training batch after the backward pass and before the
update: the per-layer statistics of :func:`shenjing.diagnose` (activation mean and
spread, dead and saturated fractions, the gradient reaching each layer, each parameter's
gradient norm), then, after the optimizer's step, the update-to-weight ratio
‖W_after - W_before‖ / ‖W_before‖ of every parameter. ``history.diagnostics`` holds
the records (a :class:`TrainingDiagnostics`).

Statistics of one batch are noisier than :func:`shenjing.diagnose`'s over a dataset: a
unit is "dead" here when it is zero for every row of that batch.

Cost: a recorded step runs the step's batch forward and backward once more through
``net.forward_trace`` and ``net.backward_trace``, to see every layer's output and the
gradient reaching it (it writes the same gradients again, so training is unchanged bit
for bit), and copies the parameters once: about two steps' work. For layers that
change as they run (``Dropout``'s random state, ``BatchNorm``'s running statistics)
the monitor captures their state before a recorded step and replays the pass from it
(:func:`shenjing.nn.modes.capture_state`): the same mask, the same statistics, and
afterwards the state the training pass left. Other
steps pay nothing. At the default interval this slowed a 784-256-256-10 ReLU network
(batch 128, SGD) by 3.9 % (``benchmarks/monitor_overhead.py``: median of paired ratios;
one record cost 1.9 steps).

Example:
    >>> import shenjing as sj
    >>> x, y = sj.datasets.spiral(seed=0)
    >>> net = sj.Sequential(sj.Linear(2, 32, seed=0), sj.ReLU(), sj.Linear(32, 3, seed=1))
    >>> hist = net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=2, seed=0,
    ...                monitor=5)
    >>> hist.diagnostics.steps
    [0, 5, 10, 15]
    >>> hist.diagnostics.series("dead_fraction", 1).shape
    (4,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..base.checks import positive_int
from ..base.errors import ConfigError
from ..nn.modes import LayerState, capture_state, restore_state
from ..training.callbacks import Callback, TrainState
from .report import DiagnosticReport, LayerReport
from .stats import SATURATION_THRESHOLD, build_report, check_saturation_threshold, layer_statistics

#: Record every this many steps by default.
DEFAULT_EVERY = 50


@dataclass
class TrainingDiagnostics:
    """What a :class:`Monitor` recorded: one :class:`~shenjing.DiagnosticReport` per record.

    Attributes:
        every: the recording interval, in steps.
        steps: the step each record measured (0-based; weights before that step's update).
        epochs: the epoch of each record (0-based).
        reports: one report per record, for that step's batch, with the update ratios of
            that step. Only the first and the last keep their histogram samples.
    """

    every: int
    steps: list[int] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    reports: list[DiagnosticReport] = field(default_factory=list)

    @property
    def last(self) -> DiagnosticReport:
        """The latest record."""
        if not self.reports:
            raise ConfigError("nothing was recorded: training ran no step")
        return self.reports[-1]

    def series(self, name: str, layer: int) -> np.ndarray:
        """One per-layer statistic over the records, e.g. ``series("dead_fraction", 1)``.

        ``name`` is a :class:`~shenjing.LayerReport` attribute holding a number, or
        ``"update_ratio"`` (of the layer's ``W``). Missing values are NaN.

        Shape: (len(steps),).
        """
        out = np.full(len(self.reports), np.nan)
        for i, report in enumerate(self.reports):
            if not 0 <= layer < len(report.layers):
                raise ConfigError(f"layer must be in [0, {len(report.layers)}), got {layer!r}")
            lay = report.layers[layer]
            if name == "update_ratio":
                value = lay.update_ratios.get("W")
            elif name in LayerReport.__dataclass_fields__:
                value = getattr(lay, name)
            else:
                raise ConfigError(f"no per-layer statistic {name!r}")
            if value is not None and not isinstance(value, (int, float)):
                raise ConfigError(f"{name!r} is not a number per layer")
            out[i] = np.nan if value is None else value
        return out

    def summary(self) -> DiagnosticReport:
        """The last record, its update ratios replaced by their medians over training.

        The median is over the records where the weights moved; a parameter that never
        moved has no ratio.

        Its findings are the verdicts on training as a whole: the last batch's layer
        statistics, and each weight's typical update-to-weight ratio.
        """
        last = self.last
        layers = []
        for i, lay in enumerate(last.layers):
            medians = {}
            for key in lay.update_ratios:
                values = [r.layers[i].update_ratios.get(key, 0.0) for r in self.reports]
                # A zero update means no gradient reached the weights (dead units, a
                # vanished gradient): other findings say so; it says nothing of the rate.
                moved = [v for v in values if v > 0 and math.isfinite(v)]
                if moved:
                    medians[key] = float(np.median(moved))
            layers.append(replace(lay, update_ratios=medians))
        return build_report(layers, last.rows, last.loss)

    @property
    def findings(self) -> list[Any]:
        """The findings of :meth:`summary`."""
        return self.summary().findings

    def __str__(self) -> str:
        head = f"Recorded every {self.every} steps: {len(self.steps)} records"
        if not self.reports:
            return head
        return f"{head}; the last, with median update ratios:\n{self.summary()}"

    def __repr__(self) -> str:
        return f"TrainingDiagnostics(every={self.every}, {len(self.steps)} records)"


class Monitor(Callback):
    """Records diagnostics every ``every`` steps of ``fit`` into ``history.diagnostics``.

    ``fit(monitor=True)`` uses ``Monitor()``, ``fit(monitor=10)`` ``Monitor(every=10)``.

    Args:
        every: steps between records (≥ 1); default :data:`DEFAULT_EVERY`.
        saturation_threshold: as for :func:`shenjing.diagnose`.
    """

    def __init__(
        self,
        every: int | np.integer[Any] = DEFAULT_EVERY,
        saturation_threshold: float = SATURATION_THRESHOLD,
    ) -> None:
        self.every = positive_int(every, "every")
        self.saturation_threshold = check_saturation_threshold(saturation_threshold)
        self.record = TrainingDiagnostics(self.every)
        self._pending: tuple[list[LayerReport], int, list[np.ndarray]] | None = None
        self._before: tuple[int, list[LayerState]] | None = None  # (step, layer states)

    def on_train_begin(self, state: TrainState) -> None:
        self.record = TrainingDiagnostics(self.every)
        self._pending = None
        state.history.diagnostics = self.record
        self._capture(state)

    def _capture(self, state: TrainState) -> None:
        """Before a step that will be recorded: the layers' state, to replay its pass from."""
        self._before = None
        if state.step % self.every == 0:
            self._before = (state.step, capture_state(state.net))

    def on_backward_end(self, state: TrainState) -> None:
        if state.step % self.every:
            return
        net, loss_fn = state.net, state.loss_fn
        after = capture_state(net)
        if self._before is None or self._before[0] != state.step:
            if any(s.rng_state is not None or s.persistent for s in after):
                return  # no state to replay this pass from: measuring would change training
        else:
            restore_state(net, self._before[1])  # the same mask and statistics again
        # The step's batch once more, through the measuring API: the same operations on
        # the same arrays, so every layer's grads come out as the training pass left
        # them, and the update that follows is the one training would have made.
        outputs = net.forward_trace(state.inputs)
        loss_fn.forward_unchecked(outputs[-1], state.targets)
        douts = net.backward_trace(loss_fn.backward())
        restore_state(net, after)
        rows = outputs[-1].shape[0]
        scale = rows if loss_fn.reduction == "mean" else 1.0
        stats = layer_statistics(net, rows, self.saturation_threshold)
        for stat, out, dout, layer in zip(stats, outputs, douts, net.layers, strict=True):
            stat.add_output(out, layer)
            stat.add_grad(dout, scale)
        layers = [stat.finish() for stat in stats]
        for lay, layer in zip(layers, net.layers, strict=True):
            lay.grad_norms = {k: float(np.linalg.norm(g)) for k, g in layer.grads.items()}
        before = [p.value.copy() for p in net.parameters()]
        self._pending = (layers, rows, before)

    def on_step_end(self, state: TrainState) -> None:
        self._capture(state)  # state.step now counts this step: the next one's number
        if self._pending is None:
            return
        layers, rows, before = self._pending
        self._pending = None
        params = iter(zip(state.net.parameters(), before, strict=True))
        for lay, layer in zip(layers, state.net.layers, strict=True):
            for key in layer.params:
                param, old = next(params)
                size = float(np.linalg.norm(old))
                change = float(np.linalg.norm(param.value - old))
                lay.update_ratios[key] = change / size if size > 0 else math.inf
        record = self.record
        if len(record.reports) > 1:  # keep histogram samples of the first and the last
            record.reports[-1] = _drop_values(record.reports[-1])
        record.steps.append(state.step - 1)
        record.epochs.append(state.epoch)
        record.reports.append(build_report(layers, rows, state.step_loss))

    def __repr__(self) -> str:
        return f"Monitor(every={self.every})"


def as_monitor(monitor: Any) -> Monitor | None:
    """``fit``'s ``monitor`` argument as a :class:`Monitor`, or ``None`` when off."""
    if monitor is None or monitor is False:
        return None
    if monitor is True:
        return Monitor()
    if isinstance(monitor, Monitor):
        return monitor
    if isinstance(monitor, (int, np.integer)):
        return Monitor(every=monitor)
    raise ConfigError(
        f"monitor must be True, False, a number of steps or a Monitor, got {monitor!r}"
    )


def _drop_values(report: DiagnosticReport) -> DiagnosticReport:
    return replace(report, layers=[replace(lay, values=None) for lay in report.layers])
