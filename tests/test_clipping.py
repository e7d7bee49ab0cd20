"""Gradient clipping in fit: by global norm (as torch's clip_grad_norm_) and by value."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

torch = pytest.importorskip("torch")


class Record(sj.Callback):
    """Each step's gradients as the backward pass left them (before clipping)."""

    def __init__(self):
        self.grads = []

    def on_backward_end(self, state):
        self.grads.append([p.grad.copy() for p in state.net.parameters()])


def _fit(clip_norm=None, clip_value=None, dtype="float64"):
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [16], 3, seed=0, dtype=dtype)
    start = [p.value.copy() for p in net.parameters()]
    record = Record()
    net.fit(
        x,
        y,
        loss="softmax_cross_entropy",
        optimizer=sj.SGD(lr=1.0),
        epochs=1,
        batch_size=100,
        seed=0,
        clip_norm=clip_norm,
        clip_value=clip_value,
        callbacks=[record],
    )
    return net, start, record.grads


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-6)])
@pytest.mark.parametrize("limit", [0.05, 1e6])
def test_clip_norm_is_torch_clip_grad_norm(dtype, tol, limit):
    net, start, grads = _fit(clip_norm=limit, dtype=dtype)
    # Replay: SGD with lr 1 applies exactly the clipped gradient, so the weights after
    # the first step are start - clipped(grads[0]); then check every step that way.
    params = [torch.tensor(p) for p in start]
    for step in grads:
        for p, g in zip(params, step, strict=True):
            p.grad = torch.tensor(g)
        torch.nn.utils.clip_grad_norm_(params, limit)
        with torch.no_grad():
            for p in params:
                p -= p.grad
    for ours, theirs in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(ours.value, theirs.numpy(), rtol=tol, atol=tol)
    norms = [np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in s)) for s in grads]
    assert (max(norms) > limit) == (limit < 1)  # the small limit really clipped


def test_clip_value_clips_every_element():
    net, start, grads = _fit(clip_value=0.01)
    expected = start
    for step in grads:
        expected = [p - np.clip(g, -0.01, 0.01) for p, g in zip(expected, step, strict=True)]
    for ours, want in zip(net.parameters(), expected, strict=True):
        np.testing.assert_allclose(ours.value, want, rtol=1e-13, atol=1e-15)
    assert max(np.abs(g).max() for s in grads for g in s) > 0.01


def test_bad_limits_are_refused_before_training():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [4], 3, seed=0)
    before = [p.value.copy() for p in net.parameters()]
    for kwargs, name in (
        ({"clip_norm": 0}, "clip_norm"),
        ({"clip_value": -1}, "clip_value"),
        ({"clip_norm": "big"}, "clip_norm"),
    ):
        with pytest.raises(sj.ConfigError, match=name):
            net.fit(x, y, loss="softmax_cross_entropy", epochs=1, **kwargs)
    assert all(np.array_equal(a, p.value) for a, p in zip(before, net.parameters(), strict=True))
