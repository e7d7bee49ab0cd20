"""The messages the server sends the page, as JSON-ready dicts.

Heat maps travel as base64 of one byte per grid cell, row by row from the top left:

* a neuron's (or an input feature's) map: ``byte = round(127 · v / scale) + 128`` with
  ``scale = max |v|`` over the grid (sent beside it), so 128 is 0 and the colour shows
  the sign; a map that is 0 everywhere has scale 0;
* the output, two classes: ``byte = round(255 · P(class 1))``; more classes: the
  predicted class index, with its probability as a second map; regression:
  ``byte = round(255 · (v - low) / (high - low))`` clipped, with ``low``/``high`` the
  training targets' range.

A state at the default settings (50² output, 25² per neuron) is a few tens of kB.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from ..diagnosis.report import DiagnosticReport
from ..diagnosis.stats import SATURATED_MOST
from . import data, train
from .session import Session
from .snippet import snippet


def unit_map(values: np.ndarray) -> dict[str, Any]:
    """One heat map with its own scale (see the module docstring). values: (G²,)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), posinf=0.0, neginf=0.0)
    scale = float(np.abs(values).max()) if values.size else 0.0
    if scale == 0.0:
        q = np.full(values.shape, 128, np.uint8)
    else:
        q = (np.rint(values / scale * 127) + 128).astype(np.uint8)
    return {"map": _b64(q), "scale": scale}


def fraction_map(values: np.ndarray) -> str:
    """Values in [0, 1] as one byte each (clipped)."""
    q = np.rint(np.clip(np.nan_to_num(values), 0.0, 1.0) * 255).astype(np.uint8)
    return _b64(q)


def data_message(session: Session, notices: list[str] | None = None) -> dict[str, Any]:
    """Sent when the points or the configuration change: the points, the input maps,
    the configuration the server now runs, and the Python snippet."""
    s, c = session.data, session.config
    small = data.grid(c.neuron_resolution)
    return {
        "type": "data",
        "config": c.to_dict(),
        "problem": c.problem,
        "classes": s.classes,
        "description": s.description,
        "train": _points(s.x_train, s.y_train),
        "test": _points(s.x_test, s.y_test),
        "target_range": _target_range(session),
        "inputs": {name: unit_map(data.features(small, [name])[:, 0]) for name in data.FEATURES},
        "snippet": snippet(session),
        "notices": notices or [],
    }


def state_message(session: Session) -> dict[str, Any]:
    """The live state: counts, losses, every heat map, the weights and the diagnostics."""
    c, net = session.config, session.net
    report, train_loss, test_loss = session.measure()
    with np.errstate(over="ignore", invalid="ignore"):
        pred = net.predict(session.inputs(data.grid(c.resolution)))
        trace = net.forward_trace(session.inputs(data.grid(c.neuron_resolution)))
    values, confidence = train.output_map(c, pred)
    output: dict[str, Any] = {"resolution": c.resolution}
    if c.problem == "regression":
        y = session.data.y_train
        low, high = float(y.min()), float(y.max())
        output["map"] = fraction_map((values - low) / ((high - low) or 1.0))
    elif confidence is not None:
        output["map"] = _b64(values.astype(np.uint8))
        output["confidence"] = fraction_map(confidence)
    else:
        output["map"] = fraction_map(values)
    return {
        "type": "state",
        "epoch": session.epoch,
        "step": session.step,
        "train_loss": _num(train_loss),
        "test_loss": _num(test_loss),
        "playing": session.playing,
        "output": output,
        "neuron_resolution": c.neuron_resolution,
        "hidden": _hidden(session, trace, report),
        "weights": _weights(session),
        "layers": _layer_rows(session, report),
        "gradient_ratio": _num(report.gradient_ratio),
        "snippet": snippet(session),
        "findings": [
            {"code": f.code, "layer": f.layer, "message": f.message, "advice": f.advice}
            for f in report.findings
        ],
    }


def hidden_layer_indices(session: Session) -> list[int]:
    """Index in ``net.layers`` of each hidden layer's output (the activation, or Maxout)."""
    hidden = len(session.config.hidden)
    if session.config.activation == "maxout":
        return list(range(hidden))
    return [2 * h + 1 for h in range(hidden)]


def _hidden(session: Session, trace: list[np.ndarray], report: DiagnosticReport) -> list[Any]:
    layers = []
    for index in hidden_layer_indices(session):
        lay = report.layers[index]
        dead = {int(i) for i in (lay.dead_units if lay.dead_units is not None else [])}
        saturation = lay.unit_saturation
        units = []
        for u in range(trace[index].shape[1]):
            unit = unit_map(trace[index][:, u])
            unit["dead"] = u in dead
            unit["saturated"] = bool(saturation is not None and saturation[u] > SATURATED_MOST)
            units.append(unit)
        layers.append(
            {
                "layer": index,
                "kind": lay.name,
                "units": units,
                "dead": len(dead),
                "saturated": sum(u["saturated"] for u in units),
            }
        )
    return layers


def _weights(session: Session) -> list[dict[str, Any]]:
    """Every parametrised layer's W (D, M) and b (M,); Maxout's averaged over pieces."""
    out = []
    for i, layer in enumerate(session.net.layers):
        if "W" not in layer.params:
            continue
        w, b = layer.params["W"], layer.params.get("b")
        editable = w.ndim == 2
        if not editable:  # Maxout: W (D, M, k), b (M, k)
            w = w.mean(axis=2)
            b = None if b is None else b.mean(axis=1)
        out.append(
            {
                "layer": i,
                "editable": editable,
                "W": _rounded(w),
                "b": _rounded(b) if b is not None else None,
            }
        )
    return out


def _layer_rows(session: Session, report: DiagnosticReport) -> list[dict[str, Any]]:
    """Per weight layer: the gradient norm reaching it and its update-to-weight ratio."""
    rows = []
    for lay in report.layers:
        if not lay.parametrised:
            continue
        rows.append(
            {
                "layer": lay.index,
                "name": lay.name,
                "units": lay.units,
                "grad_norm": _num(lay.grad_norms.get("W")),
                "grad_rms": _num(lay.grad_rms),
                "update_ratio": _num(lay.update_ratios.get("W")),
            }
        )
    return rows


def _points(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    target = y.reshape(len(y), -1)[:, 0]
    return [
        [round(float(a), 3), round(float(b), 3), round(float(t), 4)]
        for (a, b), t in zip(x, target, strict=True)
    ]


def _target_range(session: Session) -> list[float] | None:
    if session.config.problem != "regression":
        return None
    y = session.data.y_train
    return [float(y.min()), float(y.max())]


def _rounded(a: np.ndarray) -> Any:
    return np.round(np.nan_to_num(a), 4).tolist()


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _b64(q: np.ndarray) -> str:
    return base64.b64encode(q.tobytes()).decode("ascii")
