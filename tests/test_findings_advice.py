"""The findings' advice follows from the evidence and from the network it is about."""

from __future__ import annotations

import numpy as np

import shenjing as sj
from shenjing.diagnosis import findings as fd
from shenjing.diagnosis.report import LayerReport


def _linear(index, ratio=None):
    ratios = {} if ratio is None else {"W": ratio}
    return LayerReport(index, "Linear", "Linear(8 -> 8)", 8, 100, 0.0, 1.0,
                       param_norms={"W": 1.0}, update_ratios=ratios)  # fmt: skip


def _relu(index, dead, name="ReLU"):
    units = np.arange(round(dead * 16))
    return LayerReport(index, name, f"{name}()", 16, 100, 0.2, 0.3, dead_fraction=dead,
                       dead_units=units, nearly_dead_fraction=0.0)  # fmt: skip


def _advice(layers, ratio=None, code="dead_units"):
    return [f.advice for f in fd.findings(layers, ratio) if f.code == code]


def test_dead_units_without_evidence_of_large_updates_do_not_blame_the_learning_rate():
    (advice,) = _advice([_linear(0), _relu(1, 0.19), _linear(2)])
    assert "learning rate" not in advice
    assert "if the network fits, nothing needs fixing" in advice and "LeakyReLU" in advice


def test_dead_units_fed_by_large_updates_do_blame_the_learning_rate():
    (advice,) = _advice([_linear(0, ratio=0.5), _relu(1, 0.19), _linear(2)])
    assert advice.startswith("lower the learning rate") and "0.5 of their size" in advice


def test_a_mostly_dead_layer_points_at_biases_and_init():
    (advice,) = _advice([_linear(0), _relu(1, 0.75), _linear(2)])
    assert "biases" in advice and "learning rate" not in advice


def test_leaky_units_are_said_to_recover():
    (advice,) = _advice([_linear(0), _relu(1, 0.3, name="LeakyReLU"), _linear(2)])
    assert "can recover" in advice and "learning rate" not in advice


def test_vanishing_gradient_advice_names_only_activations_the_network_has():
    relu = [_linear(0), _relu(1, 0.0), _linear(2)]
    (advice,) = _advice(relu, ratio=1e-4, code="vanishing_gradient")
    assert "use ReLU" not in advice and "He init" in advice
    tanh = [_linear(0), LayerReport(1, "Tanh", "Tanh()", 8, 100, 0.0, 0.5), _linear(2)]
    (advice,) = _advice(tanh, ratio=1e-4, code="vanishing_gradient")
    assert advice.startswith("use ReLU with He init instead of Tanh")


def test_the_cli_defaults_on_the_spiral_get_no_learning_rate_advice():
    # shenjing train's defaults (64,64 ReLU, Adam 1e-3, 50 epochs of 32 rows) on the
    # spiral fit it (98% validation accuracy in the CLI), leaving a few dead units.
    x, y = sj.datasets.load("spiral", seed=0)
    net = sj.mlp(2, [64, 64], 3, activation="relu", seed=0)
    net.fit(x, y, loss="softmax_cross_entropy", optimizer=sj.Adam(lr=1e-3), epochs=50,
            batch_size=32, seed=0)  # fmt: skip
    report = sj.diagnose(net, x, y, loss="softmax_cross_entropy")
    assert (net.predict_classes(x) == y).mean() > 0.9
    assert "dead_units" in report.codes  # the evidence is there; the blame is not
    assert not any("learning rate" in f.advice for f in report.findings)
