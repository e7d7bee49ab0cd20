"""Optimizers: a hand-worked step, the documented update equations, convergence,
validation of hyper-parameters, per-parameter state, and a step that allocates nothing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from conftest import count_page_faults

# -- plain-numpy re-implementations of the class docstrings -----------------------------
# Written the way the formulas read (new arrays, no scratch buffers), one state dict per
# parameter, so they share nothing with shenjing's in-place code.


def sgd_ref(p, g, st, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = g + weight_decay * p
    if momentum:
        st["v"] = momentum * st.get("v", 0.0) + g  # v = μ v + g, v starts at 0
        g = g + momentum * st["v"] if nesterov else st["v"]
    return p - lr * g


def adam_ref(p, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    g = g + weight_decay * p
    st["t"] = t = st.get("t", 0) + 1  # the first step has t = 1
    st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g**2
    m_hat = st["m"] / (1 - b1**t)
    v_hat = st["v"] / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def rmsprop_ref(p, g, st, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    st["s"] = alpha * st.get("s", 0.0) + (1 - alpha) * g**2
    return p - lr * g / (np.sqrt(st["s"]) + eps)


def adagrad_ref(p, g, st, lr=1e-2, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    st["s"] = st.get("s", 0.0) + g**2
    return p - lr * g / (np.sqrt(st["s"]) + eps)


REFERENCES = {sj.SGD: sgd_ref, sj.Adam: adam_ref, sj.RMSprop: rmsprop_ref, sj.AdaGrad: adagrad_ref}

CASES = [
    (sj.SGD, {"lr": 0.1}),
    (sj.SGD, {"lr": 0.1, "momentum": 0.9}),
    (sj.SGD, {"lr": 0.1, "momentum": 0.5, "nesterov": True}),
    (sj.SGD, {"lr": 0.1, "weight_decay": 0.3}),
    (sj.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    (sj.Adam, {}),
    (sj.Adam, {"lr": 0.05, "betas": (0.5, 0.9)}),
    # eps comparable to the gradients, so adding it to √v rather than √v̂ would show.
    (sj.Adam, {"lr": 0.05, "eps": 0.1}),
    (sj.Adam, {"lr": 0.05, "weight_decay": 0.2}),
    (sj.RMSprop, {}),
    (sj.RMSprop, {"lr": 0.05, "alpha": 0.5, "eps": 0.1, "weight_decay": 0.2}),
    (sj.AdaGrad, {}),
    (sj.AdaGrad, {"lr": 0.3, "eps": 0.1, "weight_decay": 0.2}),
]


def case_id(case):
    cls, kwargs = case
    return cls.__name__ + "".join(f"-{k}={v}" for k, v in kwargs.items())


def small_net(seed=0, d_in=3):
    return sj.Sequential(
        sj.Linear(d_in, 4, dtype="float64", seed=seed),
        sj.Tanh(),
        sj.Linear(4, 2, dtype="float64", seed=seed + 1),
    )


def small_data(d_in=3, seed=10):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((5, d_in)), rng.standard_normal((5, 2))


def backward_once(net, x, y, loss_fn=None):
    loss_fn = loss_fn or sj.MeanSquaredError()
    loss = loss_fn(net.forward(x), y)
    net.backward(loss_fn.backward())
    return loss


def params(model):
    return {p.name: p.value.copy() for p in model.parameters()}


def grads(model):
    return {p.name: p.grad.copy() for p in model.parameters()}


# -- 1. one step worked by hand -----------------------------------------------------


@pytest.mark.parametrize("wrap", [False, True], ids=["layer", "network"])
def test_single_sgd_step_worked_by_hand(wrap):
    layer = sj.Linear(2, 1, dtype="float64")
    layer.W[...] = [[0.5], [-1.0]]
    layer.b[...] = [0.25]
    model = sj.Sequential(layer) if wrap else layer
    x, y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    loss_fn, opt = sj.SumSquaredError(), sj.SGD(lr=0.1)
    # pred = 1·0.5 + 2·(-1) + 0.25 = -1.25;  L = (pred - y)² = (-2.25)² = 5.0625
    loss = loss_fn(model.forward(x), y)
    assert loss == 5.0625
    # dL/dpred = 2 (pred - y) = -4.5;  dW = x.T · dL/dpred = [[-4.5], [-9.0]];  db = [-4.5]
    model.backward(loss_fn.backward())
    np.testing.assert_array_equal(layer.dW, [[-4.5], [-9.0]])
    np.testing.assert_array_equal(layer.db, [-4.5])
    opt.step(model)
    # W ← W - 0.1 dW = [[0.5 + 0.45], [-1.0 + 0.9]] = [[0.95], [-0.1]];  b ← 0.25 + 0.45 = 0.7
    np.testing.assert_allclose(layer.W, [[0.95], [-0.1]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(layer.b, [0.7], rtol=1e-15, atol=0)
    # and the loss of the new weights: pred = 0.95 - 0.2 + 0.7 = 1.45, L = 0.45² = 0.2025
    assert loss_fn(model.forward(x), y) == pytest.approx(0.2025, rel=1e-14)


# -- 2. the documented update equations, three steps ---------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_three_steps_match_the_docstring_equations(case):
    cls, kwargs = case
    ref = REFERENCES[cls]
    net, (x, y) = small_net(), small_data()
    opt = cls(**kwargs)
    ref_state = {}
    for _step in range(3):
        backward_once(net, x, y)
        before, g = params(net), grads(net)
        opt.step(net)
        for p in net.parameters():
            expected = ref(before[p.name], g[p.name], ref_state.setdefault(p.name, {}), **kwargs)
            np.testing.assert_allclose(p.value, expected, rtol=1e-12, atol=0, err_msg=p.name)
            # and the step really moved the parameter
            assert not np.array_equal(p.value, before[p.name])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_step_leaves_the_layer_gradients_untouched(case):
    """Weight decay folds wd·p into a private buffer, never into ``layer.grads``."""
    cls, kwargs = case
    net, (x, y) = small_net(), small_data()
    opt = cls(**kwargs)
    for _step in range(2):
        backward_once(net, x, y)
        g = grads(net)
        opt.step(net)
        for p in net.parameters():
            np.testing.assert_array_equal(p.grad, g[p.name])


def test_momentum_is_pytorch_form_velocity_sums_raw_gradients():
    """v = μ v + g (no lr inside v), p -= lr·v; velocity starts at 0.

    Changing lr between steps tells the forms apart: CS231n's v = μ v - lr g would move
    p by μ(-lr₁ g₁) - lr₂ g₂ on the second step, PyTorch's by -lr₂ (μ g₁ + g₂).
    """
    layer = sj.Linear(2, 2, dtype="float64", seed=0)
    opt = sj.SGD(lr=0.1, momentum=0.9)
    g1, g2 = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[-1.0, 1.0], [2.0, 0.25]])
    p0 = layer.W.copy()
    layer.grads["W"][...] = g1
    opt.step(layer)
    np.testing.assert_array_equal(opt.state["W"]["velocity"], g1)  # 0.9·0 + g1
    np.testing.assert_allclose(layer.W, p0 - 0.1 * g1, rtol=1e-15)
    p1 = layer.W.copy()
    opt.lr = 0.5
    layer.grads["W"][...] = g2
    opt.step(layer)
    np.testing.assert_allclose(opt.state["W"]["velocity"], 0.9 * g1 + g2, rtol=1e-15)
    np.testing.assert_allclose(layer.W, p1 - 0.5 * (0.9 * g1 + g2), rtol=1e-14)


def test_adam_step_count_starts_at_one():
    """With t = 1 on the first step the bias correction makes m̂ = g and v̂ = g², so each
    coordinate moves by lr·g/(|g| + eps) ≈ lr, whatever the size of g."""
    layer = sj.Linear(3, 2, dtype="float64", seed=0)
    opt = sj.Adam(lr=0.01)
    g = np.array([[1e-3, -2.0], [50.0, -0.25], [3.0, 1e2]])
    p0 = layer.W.copy()
    layer.grads["W"][...] = g
    opt.step(layer)
    assert opt.state["W"]["t"] == 1
    np.testing.assert_allclose(p0 - layer.W, 0.01 * np.sign(g), rtol=1e-5)
    opt.step(layer)
    assert opt.state["W"]["t"] == 2
    assert opt.state["b"]["t"] == 2


# -- 3. convergence on a quadratic -----------------------------------------------------

QUADRATIC = [
    ("sgd lr=0.1", lambda: sj.SGD(lr=0.1)),
    ("momentum lr=0.05 mu=0.5", lambda: sj.SGD(lr=0.05, momentum=0.5)),
    ("nesterov lr=0.05 mu=0.5", lambda: sj.SGD(lr=0.05, momentum=0.5, nesterov=True)),
    ("adam lr=0.1", lambda: sj.Adam(lr=0.1)),
    ("rmsprop lr=0.05", lambda: sj.RMSprop(lr=0.05)),
    ("adagrad lr=0.5", lambda: sj.AdaGrad(lr=0.5)),
]


@pytest.mark.parametrize("make", [m for _, m in QUADRATIC], ids=[n for n, _ in QUADRATIC])
def test_each_optimizer_minimises_a_quadratic_in_100_steps(make):
    """f(W, b) = ½‖W - C‖² + ½‖b - c‖², gradient (W - C, b - c), from a fixed start."""
    rng = np.random.default_rng(42)
    layer = sj.Linear(4, 3, dtype="float64", seed=0)
    targets = {"W": rng.uniform(-2, 2, (4, 3)), "b": rng.uniform(-2, 2, 3)}

    def f():
        return sum(0.5 * np.sum((layer.params[k] - c) ** 2) for k, c in targets.items())

    start = f()
    assert start > 5
    opt = make()
    for _step in range(100):
        for k, c in targets.items():
            np.subtract(layer.params[k], c, out=layer.grads[k])
        opt.step(layer)
    assert f() < 1e-2


# -- 4. invalid hyper-parameters ---------------------------------------------------------

INVALID = [
    ("SGD(lr=-1)", lambda: sj.SGD(lr=-1), ["lr", "-1"]),
    ("SGD(lr=0)", lambda: sj.SGD(lr=0), ["lr", "0"]),
    ("SGD(lr=nan)", lambda: sj.SGD(lr=math.nan), ["lr", "nan"]),
    ("SGD(lr=inf)", lambda: sj.SGD(lr=math.inf), ["lr", "inf"]),
    ("SGD(lr='0.1')", lambda: sj.SGD(lr="0.1"), ["lr"]),
    ("SGD(momentum=1.0)", lambda: sj.SGD(momentum=1.0), ["momentum", "1"]),
    ("SGD(momentum=-0.1)", lambda: sj.SGD(momentum=-0.1), ["momentum", "-0.1"]),
    ("SGD(nesterov, no momentum)", lambda: sj.SGD(nesterov=True), ["nesterov", "momentum"]),
    ("SGD(weight_decay=-1)", lambda: sj.SGD(weight_decay=-1), ["weight_decay", "-1"]),
    ("Adam(lr=-1)", lambda: sj.Adam(lr=-1), ["lr", "-1"]),
    ("Adam(betas=(1.0, 0.999))", lambda: sj.Adam(betas=(1.0, 0.999)), ["beta1", "1"]),
    ("Adam(betas=(0.9, -0.1))", lambda: sj.Adam(betas=(0.9, -0.1)), ["beta2", "-0.1"]),
    ("Adam(betas=(0.9,))", lambda: sj.Adam(betas=(0.9,)), ["betas"]),
    ("Adam(betas=(0.9, 0.99, 0.9))", lambda: sj.Adam(betas=(0.9, 0.99, 0.9)), ["betas"]),
    ("Adam(eps=0)", lambda: sj.Adam(eps=0), ["eps", "0"]),
    ("Adam(weight_decay=-1)", lambda: sj.Adam(weight_decay=-1), ["weight_decay", "-1"]),
    ("RMSprop(alpha=1)", lambda: sj.RMSprop(alpha=1), ["alpha", "1"]),
    ("RMSprop(eps=0)", lambda: sj.RMSprop(eps=0), ["eps"]),
    ("AdaGrad(lr=0)", lambda: sj.AdaGrad(lr=0), ["lr"]),
    ("AdaGrad(eps=-1e-10)", lambda: sj.AdaGrad(eps=-1e-10), ["eps"]),
]


@pytest.mark.parametrize("make, words", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_hyperparameters_raise_at_construction_naming_them(make, words):
    with pytest.raises(sj.ConfigError) as info:
        make()
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)


def test_valid_edges_are_accepted():
    assert sj.SGD(lr=1e-12, momentum=0.0, weight_decay=0.0).momentum == 0.0
    assert sj.SGD(momentum=0.999, nesterov=True).nesterov is True
    assert sj.Adam(betas=(0.0, 0.0)).betas == (0.0, 0.0)
    assert sj.RMSprop(alpha=0.0).alpha == 0.0


# -- 5. state, reset, a second network, astype, get ---------------------------------------


def test_state_is_per_parameter_and_named_like_the_network():
    net, (x, y) = small_net(), small_data()
    opt = sj.Adam(lr=0.01)
    assert opt.state == {}
    backward_once(net, x, y)
    opt.step(net)
    assert set(opt.state) == {"0.W", "0.b", "2.W", "2.b"}
    assert opt.state["0.W"]["m"].shape == (3, 4)
    assert opt.state["2.b"]["v"].shape == (2,)
    assert all(s["t"] == 1 for s in opt.state.values())
    backward_once(net, x, y)
    opt.step(net)
    assert all(s["t"] == 2 for s in opt.state.values())

    sgd = sj.SGD(lr=0.1, momentum=0.9)
    sgd.step(net)
    np.testing.assert_array_equal(sgd.state["2.W"]["velocity"], net[2].dW)


def test_reset_forgets_the_state_so_the_next_step_is_a_first_step():
    net, (x, y) = small_net(), small_data()
    opt = sj.Adam(lr=0.01)
    for _step in range(3):
        backward_once(net, x, y)
        opt.step(net)
    opt.reset()
    assert opt.state == {}
    backward_once(net, x, y)
    before, g = params(net), grads(net)
    opt.step(net)
    assert opt.state["0.W"]["t"] == 1
    for p in net.parameters():
        expected = adam_ref(before[p.name], g[p.name], {}, lr=0.01)
        np.testing.assert_allclose(p.value, expected, rtol=1e-12, atol=0)


def test_one_optimizer_on_a_second_network_of_other_shapes_is_a_clear_error():
    net1, (x1, y1) = small_net(d_in=3), small_data(d_in=3)
    net2, (x2, y2) = small_net(d_in=5), small_data(d_in=5)
    opt = sj.SGD(lr=0.1, momentum=0.9)
    backward_once(net1, x1, y1)
    opt.step(net1)
    backward_once(net2, x2, y2)
    before = params(net2)
    with pytest.raises(sj.ConfigError) as info:
        opt.step(net2)
    message = str(info.value)
    assert "0.W" in message and "(3, 4)" in message and "(5, 4)" in message
    assert "reset" in message
    for p in net2.parameters():  # nothing was updated
        np.testing.assert_array_equal(p.value, before[p.name])
    opt.reset()
    opt.step(net2)
    assert opt.state["0.W"]["velocity"].shape == (5, 4)


def test_a_refused_step_on_a_second_network_changes_no_parameter():
    net1, (x1, y1) = small_net(), small_data()
    net2 = sj.Sequential(
        sj.Linear(3, 4, dtype="float64", seed=5), sj.Tanh(), sj.Linear(4, 6, dtype="float64")
    )
    opt = sj.SGD(lr=0.1, momentum=0.9)
    backward_once(net1, x1, y1)
    opt.step(net1)
    backward_once(net2, x1, np.ones((5, 6)))
    before = params(net2)
    with pytest.raises(sj.ConfigError, match=r"'2\.W'"):  # (4, 2) in net1, (4, 6) here
        opt.step(net2)
    for p in net2.parameters():
        np.testing.assert_array_equal(p.value, before[p.name], err_msg=p.name)


@pytest.mark.parametrize("cls", [sj.SGD, sj.Adam, sj.RMSprop, sj.AdaGrad])
def test_optimizer_keeps_working_after_net_astype(cls):
    kwargs = {"lr": 0.01, "weight_decay": 0.1}
    if cls is sj.SGD:
        kwargs["momentum"] = 0.9
    net = sj.Sequential(sj.Linear(3, 4, seed=0), sj.Tanh(), sj.Linear(4, 2, seed=1))
    x, y = small_data()
    opt = cls(**kwargs)
    for _step in range(2):
        backward_once(net, x, y)
        opt.step(net)
    assert opt.state["0.W"]["scratch"].dtype == np.float32
    net.astype("float64")
    backward_once(net, x, y)
    before, g = params(net), grads(net)
    # continue the reference from the optimizer's own (float32) state, converted
    state64 = {
        name: {k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
        for name, s in opt.state.items()
    }
    opt.step(net)
    assert net.dtype == np.float64
    for p in net.parameters():
        assert p.value.dtype == np.float64
        for value in opt.state[p.name].values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float64
        st = _ref_state_from(state64[p.name])
        expected = ref(before[p.name], g[p.name], st, cls, kwargs)
        np.testing.assert_allclose(p.value, expected, rtol=1e-12, atol=0)


def ref(p, g, st, cls, kwargs):
    return REFERENCES[cls](p, g, st, **kwargs)


def _ref_state_from(state):
    """The reference's state dict from shenjing's names for the same quantities."""
    names = {"velocity": "v", "m": "m", "v": "v", "t": "t", "square_avg": "s", "sum_sq": "s"}
    return {names[k]: v for k, v in state.items() if k in names}


def test_get_resolves_names_classes_and_instances():
    adam = sj.optim.get("adam", lr=0.1)
    assert isinstance(adam, sj.Adam) and adam.lr == 0.1
    assert isinstance(sj.optim.get("SGD"), sj.SGD)
    assert isinstance(sj.optim.get("RMSprop"), sj.RMSprop)
    assert isinstance(sj.optim.get("adagrad"), sj.AdaGrad)
    sgd = sj.optim.get(sj.SGD, lr=0.5, momentum=0.9)
    assert (sgd.lr, sgd.momentum) == (0.5, 0.9)
    assert sj.optim.get(sgd) is sgd
    assert sj.optim.names() == ["adagrad", "adam", "adamw", "rmsprop", "sgd"]
    with pytest.raises(sj.ConfigError, match="only be given with a name or class"):
        sj.optim.get(sgd, lr=0.1)
    with pytest.raises(sj.ConfigError, match="Invalid lr"):
        sj.optim.get("adam", lr=-0.1)


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(sj.ConfigError) as info:
        sj.optim.get("adamx")
    message = str(info.value)
    assert "adamx" in message
    for name in ("adagrad", "adam", "adamw", "rmsprop", "sgd"):
        assert name in message


def test_repr_shows_the_hyperparameters():
    assert repr(sj.SGD(lr=0.5, momentum=0.9)) == (
        "SGD(lr=0.5, momentum=0.9, nesterov=False, weight_decay=0.0)"
    )
    assert "betas=(0.9, 0.999)" in repr(sj.Adam())


# -- 6. a training step allocates nothing ------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_optimizer_step_allocates_no_array(case):
    """Once the state exists, a step works in its buffers: the peak of NumPy's traced
    allocations stays far below one parameter (1.6 MB here)."""
    tracemalloc = pytest.importorskip("tracemalloc")
    cls, kwargs = case
    layer = sj.Linear(500, 400, dtype="float64", seed=0)
    layer.grads["W"][...] = 0.01
    layer.grads["b"][...] = -0.01
    opt = cls(**kwargs)
    opt.step(layer)
    tracemalloc.start()
    try:
        opt.step(layer)
        opt.step(layer)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16_000, f"{peak} bytes allocated during a step"


def minor_faults():
    resource = pytest.importorskip("resource")
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def mnist_sized_step(opt):
    """A 784-256-10 float32 network, batch 128, and one hand-written training step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    net = sj.Sequential(sj.Linear(784, 256, seed=0), sj.ReLU(), sj.Linear(256, 10, seed=1))
    loss_fn = sj.SoftmaxCrossEntropy()

    def step():
        loss = loss_fn(net.forward(x), y)
        net.backward(loss_fn.backward())
        opt.step(net)
        return loss

    return step


@pytest.mark.parametrize("make", [lambda: sj.SGD(lr=0.01), lambda: sj.Adam()], ids=["sgd", "adam"])
def test_training_step_allocates_nothing_in_steady_state(make):
    step = mnist_sized_step(make())
    for _warm_up in range(5):
        first = step()
    start = minor_faults()
    for _step in range(200):
        last = step()
    faults = minor_faults() - start
    assert faults < 200, f"{faults} page faults in 200 steps"
    assert last < first  # the loop trained


# In-process the count above is blunt: glibc raises its mmap threshold to the largest
# block freed so far, so even a fresh 401 kB temporary per step costs no page fault.
# With the threshold pinned at 64 kB (and single-threaded BLAS, whose worker threads
# fault on their own) every block of 64 kB or more is mapped and unmapped, and a
# deliberate 128×784 copy per step shows up as ~100 faults per step: the control.
STRICT_SCRIPT = """
import json, resource, sys
import numpy as np
import shenjing as sj
sys.path.insert(0, sys.argv[1])
from test_optim import mnist_sized_step

OPTIMIZERS = {
    "sgd": lambda: sj.SGD(lr=0.01),
    "sgd-momentum-wd": lambda: sj.SGD(lr=0.01, momentum=0.9, weight_decay=1e-4),
    "adam": lambda: sj.Adam(),
    "rmsprop": lambda: sj.RMSprop(lr=1e-3),
    "adagrad": lambda: sj.AdaGrad(lr=1e-3),
}
faults = {}
for name, make in OPTIMIZERS.items():
    step = mnist_sized_step(make())
    for _ in range(5):
        step()
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(200):
        step()
    faults[name] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start
# The control: the same loop, plus one fresh 401 kB array per step (touched, as a
# gathered batch would be).
step, rng = mnist_sized_step(sj.SGD(lr=0.01)), np.random.default_rng(0)
big = rng.standard_normal((128, 784)).astype(np.float32)
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    step()
    fresh = big.copy()
faults["control"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start
print(json.dumps(faults))
"""


@pytest.fixture(scope="module")
def strict_faults():
    return count_page_faults(STRICT_SCRIPT, str(Path(__file__).parent))


def test_strict_page_fault_count_sees_a_fresh_batch_sized_array(strict_faults):
    assert strict_faults["control"] > 50 * 200


@pytest.mark.parametrize(
    "name",
    [
        "sgd",
        "sgd-momentum-wd",
        "adam",
        "rmsprop",
        "adagrad",
    ],
)
def test_training_step_allocates_nothing_with_a_pinned_mmap_threshold(strict_faults, name):
    # The baseline here is exactly 0, so allow 0.1 fault per step.
    assert strict_faults[name] < 20, f"{strict_faults[name]} page faults in 200 steps"
