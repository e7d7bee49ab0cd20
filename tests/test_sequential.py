"""Sequential: whole-network gradients, the container, inference, buffers and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

KINKED = (sj.ReLU, sj.LeakyReLU, sj.ELU)


def mixed_net(d: int, rng: np.random.Generator) -> sj.Sequential:
    """Every kind of layer in one float64 network, with random biases."""
    kw = {"dtype": "float64", "seed": rng}
    net = sj.Sequential(
        sj.Linear(d, 6, **kw),
        sj.Tanh(),
        sj.Linear(6, 5, **kw),
        sj.ReLU(),
        sj.Maxout(5, 4, pieces=2, **kw),
        sj.Sigmoid(),
        sj.Linear(4, 4, **kw),
        sj.LeakyReLU(0.2),
        sj.Linear(4, 4, bias=False, **kw),
        sj.ELU(alpha=0.5),
        sj.Linear(4, 4, init="he", **kw),
        sj.GELU(),
        sj.Softplus(),
        sj.Identity(),
        sj.Linear(4, 3, **kw),
    )
    for p in net.parameters():
        if p.name.endswith(".b"):
            p.value[...] = 0.5 * rng.standard_normal(p.value.shape)
    return net


def kink_margin(net: sj.Sequential, x: np.ndarray) -> float:
    """Smallest distance of any unit from a kink: |input| of the ReLU family, the gap
    between the two best pieces of a Maxout."""
    margin = np.inf
    for layer in net:
        if isinstance(layer, KINKED):
            margin = min(margin, np.abs(x).min())
        if isinstance(layer, sj.Maxout):
            z = np.einsum("nd,dmk->nmk", x, layer.W) + layer.b
            top2 = np.sort(z, axis=2)[:, :, -2:]
            margin = min(margin, (top2[:, :, 1] - top2[:, :, 0]).min())
        x = layer.forward(x).copy()
    return margin


def input_away_from_kinks(net, n, d, rng):
    # gradcheck nudges by at most 2e-5 per entry, so 1e-3 leaves every winner and sign
    # where it was.
    for _ in range(1000):
        x = rng.standard_normal((n, d))
        if kink_margin(net, x) >= 1e-3:
            return x
    raise AssertionError("no input far enough from the kinks")


# -- whole-network gradients ---------------------------------------------------------------


@pytest.mark.parametrize(("n", "d"), [(1, 3), (4, 2), (6, 5)])
def test_gradcheck_every_entry(n, d, rng):
    net = mixed_net(d, rng)
    x = input_away_from_kinks(net, n, d, rng)
    result = sj.gradcheck(net, x)
    assert set(result.errors) == {"x"} | {p.name for p in net.parameters()}
    assert result.max_error < 1e-7, str(result)


@pytest.mark.parametrize(("n", "d"), [(1, 3), (4, 2), (6, 5)])
def test_gradcheck_along_random_directions(n, d, rng):
    net = mixed_net(d, rng)
    x = input_away_from_kinks(net, n, d, rng)
    result = sj.gradcheck(net, x, directions=6)
    assert list(result.errors) == ["directions"]
    assert result.max_error < 1e-7, str(result)


@pytest.mark.parametrize(
    ("loss", "make_target"),
    [
        ("softmax_cross_entropy", lambda rng, n: rng.integers(0, 3, n)),
        ("softmax_cross_entropy", lambda rng, n: np.eye(3)[rng.integers(0, 3, n)]),
        ("sse", lambda rng, n: rng.standard_normal((n, 3))),
        ("binary_cross_entropy", lambda rng, n: rng.integers(0, 2, (n, 3)).astype(float)),
    ],
    ids=["ce_labels", "ce_one_hot", "sse", "bce"],
)
@pytest.mark.parametrize(("n", "d"), [(1, 3), (5, 4)])
def test_gradcheck_through_a_loss(loss, make_target, n, d, rng):
    net = mixed_net(d, rng)
    x = input_away_from_kinks(net, n, d, rng)
    result = sj.gradcheck(net, x, make_target(rng, n), loss=loss)
    assert result.max_error < 1e-7, str(result)


def test_gradcheck_of_a_nested_network(rng):
    kw = {"dtype": "float64", "seed": rng}
    net = sj.Sequential(sj.Sequential(sj.Linear(3, 4, **kw), sj.Tanh()), sj.Linear(4, 2, **kw))
    result = sj.gradcheck(net, rng.standard_normal((5, 3)))
    assert set(result.errors) == {"x", "0.0.W", "0.0.b", "1.W", "1.b"}
    assert result.max_error < 1e-7, str(result)


def test_backward_is_the_chain_rule(rng):
    kw = {"dtype": "float64", "seed": rng}
    net = sj.Sequential(sj.Linear(3, 4, **kw), sj.Sigmoid(), sj.Linear(4, 2, **kw))
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.forward(x)
    dx = net.backward(dout)
    h = 1.0 / (1.0 + np.exp(-(x @ net[0].W + net[0].b)))
    dh = dout @ net[2].W.T
    dz = dh * h * (1 - h)
    np.testing.assert_allclose(net[2].dW, h.T @ dout, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(net[0].dW, x.T @ dz, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(dx, dz @ net[0].W.T, rtol=1e-13, atol=1e-16)


# -- the container ----------------------------------------------------------------------------


def small_net(dtype="float32"):
    return sj.Sequential(
        sj.Linear(2, 30, dtype=dtype, seed=0), sj.ReLU(), sj.Linear(30, 1, dtype=dtype, seed=1)
    )


def test_indexing_slicing_len_and_iteration():
    layers = [sj.Linear(2, 3, seed=0), sj.ReLU(), sj.Linear(3, 1, seed=1)]
    net = sj.Sequential(*layers)
    assert len(net) == 3
    assert list(net) == layers
    assert net[0] is layers[0] and net[-1] is layers[2]
    tail = net[1:]
    assert isinstance(tail, sj.Sequential) and len(tail) == 2
    assert tail[0] is layers[1] and tail[1] is layers[2]
    with pytest.raises(IndexError):
        net[3]
    assert list(sj.Sequential(layers)) == layers  # one list works too


def test_parameters_are_named_by_position():
    net = small_net()
    params = net.parameters()
    assert [p.name for p in params] == ["0.W", "0.b", "2.W", "2.b"]
    assert params[0].value is net[0].W and params[0].grad is net[0].dW
    assert params[3].value is net[2].b and params[3].grad is net[2].db
    assert net.num_parameters() == 2 * 30 + 30 + 30 + 1


def test_zero_grad_clears_every_gradient_in_place(rng):
    net = small_net()
    net.forward(rng.standard_normal((4, 2)))
    net.backward(np.ones((4, 1)))
    grads = [p.grad for p in net.parameters()]
    assert all(np.any(g != 0) for g in grads)
    net.zero_grad()
    for before, p in zip(grads, net.parameters(), strict=True):
        assert p.grad is before
        np.testing.assert_array_equal(p.grad, 0.0)


def test_astype_converts_every_parameter(rng):
    net = sj.Sequential(
        sj.Linear(2, 4, seed=0), sj.Tanh(), sj.Maxout(4, 3, seed=1), sj.Linear(3, 2, seed=2)
    )
    values32 = [p.value.copy() for p in net.parameters()]
    assert net.astype("float64") is net
    assert net.dtype == np.float64
    for p, v32 in zip(net.parameters(), values32, strict=True):
        assert p.value.dtype == np.float64 and p.grad.dtype == np.float64, p.name
        np.testing.assert_array_equal(p.value, v32.astype(np.float64))
    x = rng.standard_normal((5, 2))
    assert net.forward(x).dtype == np.float64
    assert net.predict(x).dtype == np.float64
    net.backward(np.ones((5, 2)))
    assert all(p.grad.dtype == np.float64 for p in net.parameters())
    with pytest.raises(sj.DTypeError, match="dtype"):
        net.astype("int32")


def test_summary_lists_layers_shapes_and_the_parameter_count():
    net = sj.Sequential(
        sj.Linear(100, 30, seed=0), sj.ReLU(), sj.Maxout(30, 4, pieces=3, seed=1), sj.Linear(4, 1)
    )
    text = net.summary()
    lines = text.splitlines()
    assert lines[0] == "Sequential (float32)"
    for i, (layer, shape, count) in enumerate(
        [
            ("Linear(100 -> 30)", "(N, 30)", "3,030"),
            ("ReLU()", "(N, 30)", "0"),
            ("Maxout(30 -> 4, pieces=3)", "(N, 4)", "372"),
            ("Linear(4 -> 1)", "(N, 1)", "5"),
        ]
    ):
        row = next(line for line in lines if line.startswith(f"{i} "))
        assert layer in row and shape in row and row.endswith(count), row
    total = 100 * 30 + 30 + 30 * 4 * 3 + 4 * 3 + 4 + 1
    assert f"Total parameters: {total:,} ({4 * total:,} bytes)" in text


def test_a_network_without_parameters_computes_in_float64():
    net = sj.Sequential(sj.ReLU(), sj.Tanh())
    assert net.forward(np.array([[1, -2]])).dtype == np.float64
    assert net.predict(np.array([[1, -2]], dtype=np.float32)).dtype == np.float64


# -- forward and inference --------------------------------------------------------------------


def test_forward_returns_a_fresh_array(rng):
    net = small_net()
    x1, x2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    y1 = net.forward(x1)
    kept = y1.copy()
    y2 = net.forward(x2)
    assert y1 is not y2
    np.testing.assert_array_equal(y1, kept)
    h = x2.astype(np.float32)
    for layer in net:
        h = layer.forward(h)  # the last layer's own buffer
    assert not np.shares_memory(y2, h)


def test_integer_input_is_accepted_and_converted():
    net = small_net()
    y_int = net.forward(np.array([[0, 1], [1, 0], [1, 1]]))
    assert y_int.dtype == np.float32
    np.testing.assert_array_equal(
        y_int, net.forward(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
    )
    np.testing.assert_array_equal(net.predict([[True, False]]), net.forward([[1.0, 0.0]]))


@pytest.mark.parametrize("batch_size", [1, 7, 50, 100])
def test_predict_in_batches_equals_one_forward(batch_size, rng):
    net = mixed_net(4, rng)
    x = rng.standard_normal((50, 4))
    got = net.predict(x, batch_size=batch_size)
    chunks = [net.forward(x[i : i + batch_size]) for i in range(0, 50, batch_size)]
    np.testing.assert_array_equal(got, np.concatenate(chunks))
    # BLAS may order a product's sums differently for different row counts.
    np.testing.assert_allclose(got, net.forward(x), rtol=1e-14, atol=1e-15)


def test_predict_without_batch_size_covers_every_row(rng):
    net = small_net("float64")
    x = rng.standard_normal((sj.network.sequential.PREDICT_BATCH * 2 + 3, 2))
    got = net.predict(x)
    assert got.shape == (len(x), 1)
    np.testing.assert_allclose(got, net.forward(x), rtol=1e-14, atol=1e-15)


def test_predict_proba_softmax_rows(rng):
    net = mixed_net(3, rng)
    x = rng.standard_normal((20, 3))
    proba = net.predict_proba(x, batch_size=6)
    scores = net.forward(x)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    assert proba.shape == (20, 3)
    np.testing.assert_allclose(proba, e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=4e-16)


def test_predict_proba_single_output_gives_two_columns(rng):
    net = small_net("float64")
    x = rng.standard_normal((10, 2))
    proba = net.predict_proba(x)
    p = 1.0 / (1.0 + np.exp(-net.forward(x)[:, 0]))
    assert proba.shape == (10, 2)
    np.testing.assert_array_equal(proba[:, 1], p)
    np.testing.assert_array_equal(proba[:, 0], 1.0 - p)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=2.3e-16)


def test_predict_proba_of_extreme_scores():
    logits = sj.Sequential(sj.Identity())  # its output is its input: scores we choose
    with np.errstate(all="raise", under="ignore"):
        many = logits.predict_proba([[1000.0, -1000.0, 0.0], [1e308, 1e308, -1e4]])
        one = logits.predict_proba([[800.0], [-800.0], [0.0]])
    np.testing.assert_array_equal(many, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_array_equal(one, [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])


def test_predict_classes(rng):
    net = mixed_net(3, rng)
    x = rng.standard_normal((15, 3))
    classes = net.predict_classes(x, batch_size=4)
    np.testing.assert_array_equal(classes, net.forward(x).argmax(axis=1))
    binary = small_net("float64")
    np.testing.assert_array_equal(
        binary.predict_classes(x[:, :2]), binary.forward(x[:, :2])[:, 0] > 0
    )


@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_evaluate_sum_and_mean_losses(batch_size, rng):
    net = mixed_net(3, rng)
    x, y = rng.standard_normal((23, 3)), rng.standard_normal((23, 3))
    diff = net.forward(x) - y
    sse = net.evaluate(x, y, loss="sse", batch_size=batch_size)
    mse = net.evaluate(x, y, loss="mse", batch_size=batch_size)
    assert set(sse) == {"loss"}
    assert sse["loss"] == pytest.approx(np.sum(diff**2), rel=1e-13)
    assert mse["loss"] == pytest.approx(np.mean(diff**2), rel=1e-13)


def test_evaluate_cross_entropy_with_accuracy(rng):
    net = mixed_net(3, rng)
    x, labels = rng.standard_normal((19, 3)), rng.integers(0, 3, 19)
    result = net.evaluate(
        x, labels, loss="softmax_cross_entropy", metrics=["accuracy"], batch_size=5
    )
    direct = sj.SoftmaxCrossEntropy()(net.forward(x), labels)
    assert result["loss"] == pytest.approx(direct, rel=1e-13)
    assert result["accuracy"] == np.mean(net.forward(x).argmax(axis=1) == labels)


def test_evaluate_binary_cross_entropy_accuracy_is_per_label(rng):
    net = mixed_net(3, rng)
    x, y = rng.standard_normal((11, 3)), rng.integers(0, 2, (11, 3))
    result = net.evaluate(x, y, loss="bce", metrics="accuracy", batch_size=4)
    assert result["accuracy"] == np.mean((net.forward(x) > 0) == (y == 1))


def test_evaluate_needs_a_loss_before_fit(rng):
    with pytest.raises(sj.StateError, match="evaluate needs loss="):
        small_net().evaluate(rng.standard_normal((3, 2)), np.zeros(3))


# -- backward -------------------------------------------------------------------------------


@pytest.mark.parametrize("front", ["linear", "activation", "nested"])
def test_need_dx_false_returns_none_and_the_same_gradients(front, rng):
    layers = mixed_net(3, rng).layers
    if front == "activation":
        net = sj.Sequential(sj.Tanh(), *layers)
    elif front == "nested":
        net = sj.Sequential(sj.Sequential(*layers[:2]), *layers[2:])
    else:
        net = sj.Sequential(*layers)
    x = input_away_from_kinks(net, 5, 3, rng)
    dout = rng.standard_normal((5, 3))
    net.forward(x)
    net.backward(dout)
    expected = {p.name: p.grad.copy() for p in net.parameters()}
    net.zero_grad()
    net.forward(x)
    assert net.backward(dout, need_dx=False) is None
    for p in net.parameters():
        np.testing.assert_array_equal(p.grad, expected[p.name], err_msg=p.name)


def test_a_smaller_batch_between_two_full_ones_reuses_buffers_correctly(rng):
    def step(net, x, dout):
        y = net.forward(x)
        dx = net.backward(dout).copy()
        return y, dx, {p.name: p.grad.copy() for p in net.parameters()}

    seed = 5
    reused = mixed_net(3, np.random.default_rng(seed))
    big, small = rng.standard_normal((8, 3)), rng.standard_normal((3, 3))
    dbig, dsmall = rng.standard_normal((8, 3)), rng.standard_normal((3, 3))
    step(reused, big, dbig)
    results = [(step(reused, small, dsmall), small, dsmall), (step(reused, big, dbig), big, dbig)]
    for got, x, dout in results:
        fresh = step(mixed_net(3, np.random.default_rng(seed)), x, dout)
        np.testing.assert_array_equal(got[0], fresh[0])
        np.testing.assert_array_equal(got[1], fresh[1])
        for name, grad in fresh[2].items():
            np.testing.assert_array_equal(got[2][name], grad, err_msg=name)


# -- errors ---------------------------------------------------------------------------------


def test_mismatched_widths_name_both_layers():
    with pytest.raises(
        sj.ShapeError,
        match=r"layer 2 \(Linear\(31 -> 1\)\) expects 31 input features, but layer 0 "
        r"\(Linear\(2 -> 30\)\) gives 30",
    ):
        sj.Sequential(sj.Linear(2, 30), sj.ReLU(), sj.Linear(31, 1))
    with pytest.raises(sj.ShapeError, match=r"layer 1 \(Maxout\(4 -> 2, pieces=2\)\)"):
        sj.Sequential(sj.Linear(2, 3), sj.Maxout(4, 2))


def test_the_same_layer_object_twice_is_refused():
    relu = sj.ReLU()
    with pytest.raises(sj.ConfigError, match=r"layer 3 \(ReLU\(\)\) appears twice"):
        sj.Sequential(sj.Linear(2, 3), relu, sj.Linear(3, 3), relu)


def test_mixed_float32_and_float64_layers_are_refused():
    with pytest.raises(sj.DTypeError, match=r"layers mix dtypes \['float32', 'float64'\]"):
        sj.Sequential(sj.Linear(2, 3, dtype="float32"), sj.Linear(3, 1, dtype="float64"))


def test_an_empty_or_non_layer_sequence_is_refused():
    with pytest.raises(sj.ConfigError, match="at least one layer"):
        sj.Sequential()
    with pytest.raises(sj.DTypeError, match="layer 1 must be a shenjing Layer, got str"):
        sj.Sequential(sj.Linear(2, 3), "relu")


@pytest.mark.parametrize("method", ["forward", "predict", "predict_proba", "predict_classes"])
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.array([[0.0, 1.0], [2.0, 3.0], [np.nan, 5.0]]), sj.DataError, r"index \(2, 0\)"),
        (np.array([[0.0, 1.0], [2.0, np.inf]]), sj.DataError, r"x contains 1 non-finite.*\(1, 1\)"),
        (np.array([[0.0, -np.inf], [np.nan, 1.0]]), sj.DataError, r"2 non-finite.*\(0, 1\)"),
        (np.zeros((0, 2)), sj.DataError, r"x is empty \(shape \(0, 2\)\)"),
        (np.array([["a", "b"]]), sj.DTypeError, "x must hold real numbers"),
        (np.array([[1.0, None]], dtype=object), sj.DTypeError, "x must hold real numbers"),
        (np.ones((2, 2)) * 1j, sj.DTypeError, "x must hold real numbers, got dtype 'complex128'"),
        (np.ones(2), sj.ShapeError, r"x must be 2-D, got shape \(2,\)"),
        (np.ones((3, 3)), sj.ShapeError, r"x must have shape \(N, 2\) for this network"),
    ],
    ids=["nan", "inf", "two", "empty", "str", "object", "complex", "1-D", "width"],
)
def test_invalid_input(method, bad, error, match):
    with pytest.raises(error, match=match):
        getattr(small_net(), method)(bad)


def test_huge_finite_input_is_not_mistaken_for_inf():
    # The finiteness check sums first; this sum overflows, yet every entry is finite.
    x = np.array([[1e308, 1e308], [-1e308, 1.0]])
    np.testing.assert_array_equal(sj.Sequential(sj.Identity()).forward(x), x)


def test_backward_before_forward():
    with pytest.raises(sj.StateError, match="backward called before forward"):
        small_net().backward(np.ones((4, 1)))


def test_dout_of_the_wrong_shape(rng):
    net = small_net()
    net.forward(rng.standard_normal((4, 2)))
    with pytest.raises(sj.ShapeError, match=r"dout must have shape \(4, 1\)"):
        net.backward(np.ones((4, 2)))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_invalid_batch_size(batch_size, rng):
    with pytest.raises(sj.ConfigError, match="batch_size must be a positive integer or None"):
        small_net().predict(rng.standard_normal((3, 2)), batch_size=batch_size)


def test_values_too_large_for_float32_are_named_as_such():
    net = sj.Sequential(sj.Linear(2, 2, seed=0))
    with pytest.raises(sj.DataError, match=r"x holds values too large for float32.*1e\+308"):
        net.forward([[1e308, 1.0]])  # finite in float64, inf once cast: no warning either
    assert np.isfinite(net.astype("float64").forward([[1e308, 1.0]])).all()


def test_a_neuron_is_not_a_network_layer():
    with pytest.raises(sj.ConfigError, match=r"layer 1 is a Neuron.*Linear\(D, 1\)"):
        sj.Sequential(sj.Linear(2, 3), sj.Neuron([1.0, 2.0, 3.0]))
