"""AdamW: decoupled weight decay, step for step against torch.optim.AdamW."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

torch = pytest.importorskip("torch")

TOLERANCE = {"float32": 1e-6, "float64": 1e-12}


def _run_both(dtype, steps=25, **config):
    """The same parameters and gradients through shenjing's AdamW and torch's."""
    rng = np.random.default_rng(7)
    layer = sj.Linear(5, 3, dtype=dtype)
    torch_params = [torch.tensor(layer.params[k].copy()) for k in ("W", "b")]
    for p in torch_params:
        p.requires_grad_(True)
    ours = sj.AdamW(**config)
    theirs = torch.optim.AdamW(torch_params, **config)
    for _ in range(steps):
        grads = [rng.standard_normal(layer.params[k].shape).astype(dtype) for k in ("W", "b")]
        for key, g in zip(("W", "b"), grads, strict=True):
            layer.grads[key][...] = g
        for p, g in zip(torch_params, grads, strict=True):
            p.grad = torch.tensor(g)
        ours.step(layer)
        theirs.step()
    return [layer.params[k] for k in ("W", "b")], [p.detach().numpy() for p in torch_params]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "config",
    [
        {"lr": 1e-2},
        {"lr": 3e-2, "weight_decay": 0.1},
        {"lr": 1e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.5},
        {"lr": 1e-2, "weight_decay": 0.0},
    ],
)
def test_adamw_matches_torch(dtype, config):
    ours, theirs = _run_both(dtype, **config)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_decay_is_decoupled_from_the_gradient():
    """With a zero gradient Adam's update is 0, so AdamW only shrinks: p(1 - lr λ)^t."""
    layer = sj.Linear(3, 2, dtype="float64")
    start = layer.W.copy()
    opt = sj.AdamW(lr=0.1, weight_decay=0.2)
    for _ in range(3):
        layer.grads["W"][...] = 0.0
        layer.grads["b"][...] = 0.0
        opt.step(layer)
    np.testing.assert_allclose(layer.W, start * (1 - 0.1 * 0.2) ** 3, rtol=1e-15)
    # Adam's L2 decay is divided by √v̂ instead: a different trajectory.
    l2 = sj.Linear(3, 2, dtype="float64")
    l2.W[...] = start
    adam = sj.Adam(lr=0.1, weight_decay=0.2)
    for _ in range(3):
        l2.grads["W"][...] = 0.0
        l2.grads["b"][...] = 0.0
        adam.step(l2)
    assert not np.allclose(l2.W, layer.W)


def test_adamw_by_name_and_defaults():
    opt = sj.optim.get("adamw")
    assert isinstance(opt, sj.AdamW)
    assert opt.get_config() == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.01,
    }
    with pytest.raises(sj.ConfigError, match="weight_decay"):
        sj.AdamW(weight_decay=-1)


def test_adamw_trains_a_network():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [32], 3, seed=0)
    history = net.fit(
        x, y, loss="softmax_cross_entropy", optimizer=sj.AdamW(lr=0.01), epochs=30, seed=0
    )
    assert history["loss"][-1] < 0.6 * history["loss"][0]
