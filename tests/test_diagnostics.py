"""``sj.diagnose``: every pathology the notes warn about is found and named, healthy
networks are not flagged, and measuring changes nothing a layer computes."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.diagnosis import diagnostics as dg
from shenjing.diagnosis import findings as fd


@pytest.fixture(scope="module")
def data():
    """Standardised inputs and 3-class labels: 400 rows, 20 features."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((400, 20)), rng.integers(0, 3, 400)


def relu_net(seed: int = 0) -> sj.Sequential:
    return sj.Sequential(sj.Linear(20, 32, seed=seed), sj.ReLU(), sj.Linear(32, 3, seed=seed + 1))


def sigmoid_net(scale: float = 1.0) -> sj.Sequential:
    net = sj.Sequential(
        sj.Linear(20, 32, seed=0), sj.Sigmoid(), sj.Linear(32, 32, seed=1), sj.Tanh(),
        sj.Linear(32, 3, seed=2),
    )  # fmt: skip
    net[0].W[...] *= scale
    return net


def deep(activation, init: str) -> sj.Sequential:
    layers, width = [], 20
    for i in range(10):
        layers += [sj.Linear(width, 64, init=init, seed=i), activation()]
        width = 64
    return sj.Sequential(*layers, sj.Linear(64, 3, seed=99))


def test_healthy_spiral_network_has_no_finding():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.Sequential(
        sj.Linear(2, 100, seed=0), sj.ReLU(), sj.Linear(100, 100, seed=1), sj.ReLU(),
        sj.Linear(100, 3, seed=2),
    )  # fmt: skip
    report = sj.diagnose(net, x, y, loss="softmax_cross_entropy")
    assert report.findings == []
    assert "No findings" in str(report)
    assert report.layers[1].dead_fraction < fd.DEAD_LIMIT
    assert report.gradient_ratio is not None and report.gradient_ratio > fd.VANISHING_RATIO


def test_relu_with_biases_of_minus_ten_is_dead_and_named(data):
    x, y = data
    net = relu_net()
    net[0].b[...] = -10
    report = sj.diagnose(net, x, y, loss="ce")
    layer = report.layers[1]
    assert layer.dead_fraction == 1.0
    assert layer.dead_units.tolist() == list(range(32))
    dead = [f for f in report.findings if f.code == "dead_units"]
    assert [f.layer for f in dead] == [1]
    assert dead[0].value == 1.0 and "layer 1 (ReLU): 100% of units are dead" in str(dead[0])
    assert "LeakyReLU" in dead[0].advice


def test_healthy_relu_layer_is_not_dead(data):
    x, y = data
    report = sj.diagnose(relu_net(), x, y, loss="ce")
    assert report.layers[1].dead_fraction == 0.0
    assert report.findings == []


def test_nearly_dead_units_are_counted_apart_from_dead(data):
    x, y = data
    net = relu_net()
    z = np.sort(net[0].forward(x)[:, 0])  # unit 0's inputs, as the layer computes them
    net[0].b[...] = -10
    # Unit 0 fires on exactly one row of 400 (< 1 %): nearly dead, not dead.
    net[0].b[0] = -z[-2]
    report = sj.diagnose(net, x, y, loss="ce")
    assert report.layers[1].dead_fraction == pytest.approx(31 / 32)
    assert report.layers[1].nearly_dead_fraction == pytest.approx(1 / 32)
    assert 0 not in report.layers[1].dead_units


def test_sigmoid_scaled_up_saturates_and_starves_the_layer_below(data):
    x, y = data
    plain = sj.diagnose(sigmoid_net(1.0), x, y, loss="ce")
    scaled = sj.diagnose(sigmoid_net(100.0), x, y, loss="ce")
    assert plain.layers[1].saturated_fraction == 0.0
    assert scaled.layers[1].saturated_fraction > 0.9
    assert "saturated_units" not in plain.codes
    found = [f for f in scaled.findings if f.code == "saturated_units"]
    assert [f.layer for f in found] == [1]
    # The gradient passing the saturated sigmoid into layer 0: what most inputs send
    # back is orders of magnitude smaller (the RMS, dominated by the few unsaturated
    # inputs, is smaller too).
    assert scaled.layers[0].grad_median < 1e-3 * plain.layers[0].grad_median
    assert scaled.layers[0].grad_rms < plain.layers[0].grad_rms / 5
    # The layers above the sigmoid are unchanged in kind: the loss's gradient is alike.
    assert scaled.layers[-1].grad_rms == pytest.approx(plain.layers[-1].grad_rms, rel=0.5)


def test_saturation_threshold_is_a_documented_knob(data):
    x, _ = data
    net = sigmoid_net(3.0)
    loose = sj.diagnose(net, x, saturation_threshold=0.9).layers[1].saturated_fraction
    strict = sj.diagnose(net, x, saturation_threshold=1e-6).layers[1].saturated_fraction
    assert loose > strict
    with pytest.raises(sj.ConfigError, match="saturation_threshold"):
        sj.diagnose(net, x, saturation_threshold=0)


def test_ten_sigmoid_layers_vanish_relu_with_he_does_not(data):
    x, y = data
    sig = sj.diagnose(deep(sj.Sigmoid, "xavier"), x, y, loss="ce")
    relu = sj.diagnose(deep(sj.ReLU, "he"), x, y, loss="ce")
    assert sig.gradient_ratio < 1e-4
    assert "vanishing_gradient" in sig.codes
    assert 0.1 < relu.gradient_ratio < 10
    assert "vanishing_gradient" not in relu.codes and "exploding_gradient" not in relu.codes


def test_exploding_gradient_is_flagged(data):
    x, y = data
    net = deep(sj.Identity, "xavier")
    for layer in net.layers[:-1]:
        if isinstance(layer, sj.Linear):
            layer.W[...] *= 3  # each layer multiplies the backward signal by about 3
    report = sj.diagnose(net, x, y, loss="ce")
    assert report.gradient_ratio > fd.EXPLODING_RATIO
    assert "exploding_gradient" in report.codes


def test_sigmoid_is_not_zero_centred_tanh_is(data):
    x, y = data
    net = sj.Sequential(
        sj.Linear(20, 16, seed=0), sj.Sigmoid(), sj.Linear(16, 16, seed=1), sj.Tanh(),
        sj.Linear(16, 3, seed=2),
    )  # fmt: skip
    report = sj.diagnose(net, x, y, loss="ce")
    found = [f for f in report.findings if f.code == "not_zero_centred"]
    assert [f.layer for f in found] == [1]
    assert report.layers[1].mean == pytest.approx(0.5, abs=0.05)
    assert abs(report.layers[3].mean) < 0.1


def test_leaky_relu_and_maxout_analogues(data):
    x, y = data
    leaky = sj.Sequential(sj.Linear(20, 8, seed=0), sj.LeakyReLU(), sj.Linear(8, 3, seed=1))
    leaky[0].b[:4] = -50  # half the units never see a positive input
    report = sj.diagnose(leaky, x, y, loss="ce")
    assert report.layers[1].dead_fraction == 0.5
    assert report.layers[1].dead_units.tolist() == [0, 1, 2, 3]
    assert "dead_units" in report.codes

    maxout = sj.Sequential(sj.Maxout(20, 8, pieces=2, seed=0), sj.Linear(8, 3, seed=1))
    healthy = sj.diagnose(maxout, x, y, loss="ce").layers[0]
    assert healthy.dead_fraction == 0.0
    maxout[0].b[:, 1] = -50  # the second piece of every unit never wins
    report = sj.diagnose(maxout, x, y, loss="ce")
    assert report.layers[0].dead_fraction == 0.5
    assert report.layers[0].dead_units.tolist() == list(range(8))
    assert "pieces never win" in str(report)


def test_table_has_one_fixed_width_line_per_layer(data):
    x, y = data
    report = sj.diagnose(sigmoid_net(), x, y, loss="ce")
    table = report.table().splitlines()
    assert len(table) == 2 + 5
    assert len({len(line) for line in table[2:]}) == 1
    assert table[3].split()[1] == "Sigmoid()"
    assert repr(report).startswith("DiagnosticReport(5 layers, 400 rows")


def test_forward_only_without_targets(data):
    x, _ = data
    report = sj.diagnose(relu_net(), x)
    assert report.loss is None and report.gradient_ratio is None
    assert all(lay.grad_rms is None and lay.grad_norms == {} for lay in report.layers)
    assert report.layers[1].dead_fraction == 0.0


def test_statistics_agree_with_a_direct_computation_across_batches(data):
    x, y = data
    net = relu_net().astype("float64")
    report = sj.diagnose(net, x, y, loss="ce", batch_size=37)
    hidden = np.maximum(x @ net[0].W + net[0].b, 0)
    assert report.layers[1].mean == pytest.approx(hidden.mean(), rel=1e-9)
    assert report.layers[1].std == pytest.approx(hidden.std(), rel=1e-9)
    assert np.allclose(report.layers[1].active_fraction, (hidden > 0).mean(axis=0))
    # The dataset's gradient is the full-batch gradient, whatever the batch size.
    net.backward(
        (lambda loss: (loss.forward(net.forward(x), y), loss.backward())[1])(sj.losses.get("ce"))
    )
    assert report.layers[0].grad_norms["W"] == pytest.approx(np.linalg.norm(net[0].dW), rel=1e-9)
    assert report.loss == pytest.approx(net.evaluate(x, y, loss="ce")["loss"], rel=1e-9)


def test_memory_is_bounded_by_the_histogram_sample(data):
    x, _ = data
    big = np.tile(x, (30, 1))  # 12 000 rows × 32 units
    report = sj.diagnose(relu_net(), big, batch_size=500)
    assert report.layers[1].values.size <= dg.HISTOGRAM_VALUES + 32 * 24


def test_diagnose_changes_nothing_a_layer_computes(data):
    x, y = data
    net = relu_net()
    before = net.predict(x)
    params = [p.value.copy() for p in net.parameters()]
    sj.diagnose(net, x, y, loss="ce")
    assert np.array_equal(net.predict(x), before)
    assert all(np.array_equal(p.value, q) for p, q in zip(net.parameters(), params, strict=True))


def test_bad_arguments_get_the_librarys_errors(data):
    x, y = data
    with pytest.raises(sj.ConfigError, match="loss"):
        sj.diagnose(relu_net(), x, y)  # never fit: no loss to default to
    with pytest.raises(sj.ConfigError, match="without y"):
        sj.diagnose(relu_net(), x, loss="ce")
    with pytest.raises(sj.ShapeError):
        sj.diagnose(relu_net(), x[:, :5])
    with pytest.raises(sj.ShapeError, match="rows"):
        sj.diagnose(relu_net(), x, y[:10], loss="ce")
    with pytest.raises(sj.DTypeError, match="Sequential"):
        sj.diagnose(sj.Linear(20, 3), x)
    with pytest.raises(sj.ConfigError, match="batch_size"):
        sj.diagnose(relu_net(), x, batch_size=0)


def test_loss_defaults_to_the_last_fit(data):
    x, y = data
    net = relu_net()
    net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.01), epochs=1, seed=0)
    assert sj.diagnose(net, x, y).loss == pytest.approx(net.evaluate(x, y)["loss"], rel=1e-5)


def test_update_ratio_findings_use_the_documented_limits():
    def layer(ratio):
        return dg.LayerReport(0, "Linear", "Linear(2 -> 2)", 2, 4, 0.0, 1.0,
                              param_norms={"W": 1.0}, update_ratios={"W": ratio})  # fmt: skip

    assert fd.findings([layer(1e-3)]) == []
    assert [f.code for f in fd.findings([layer(0.5)])] == ["update_ratio_high"]
    assert [f.code for f in fd.findings([layer(1e-7)])] == ["update_ratio_low"]
    high = fd.findings([layer(0.5)])[0]
    assert high.value == 0.5 and high.threshold == fd.UPDATE_RATIO_HIGH
    assert "lower the learning rate" in str(high)


def test_histogram_sample_and_gradient_median_see_every_unit():
    # 10,000 rows of a 100-unit layer: a stride over the flattened values would land
    # on the same unit every time. Only unit 0 is dead here.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10_000, 2))
    net = sj.Sequential(sj.Linear(2, 100, seed=0, dtype="float64"), sj.ReLU(),
                        sj.Linear(100, 1, seed=1, dtype="float64"))  # fmt: skip
    net[0].b[...] = 0.0
    net[0].b[0] = -100.0
    report = sj.diagnose(net, x, rng.standard_normal((10_000, 1)), loss="mse")
    relu = report.layers[1]
    assert relu.dead_fraction == pytest.approx(0.01)
    # Units 1..99 see zero-bias inputs, so about half their outputs are 0, not all.
    assert 0.3 < np.mean(relu.values == 0) < 0.7
