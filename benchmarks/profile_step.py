"""Where a shenjing training step's time goes beyond the matrix products.

Times, alternating in one process, on one workload (default W2):

- ``step``: forward, loss, backward, then the SGD update (the unfused path);
- ``fused step``: the same with each layer updated inside backward, as ``fit`` runs it
  (``StepPlan(..., fuse=True).backward_update``);
- ``no update``: the same without the optimizer's step;
- ``forward``: the forward pass alone;
- ``update alone``: the first layer's ``W -= lr·dW`` repeated on its own, data in cache;
- ``products only``: the step's matrix products and nothing else, into preallocated
  outputs;
- ``fit``: ``fit`` itself, full batch, per step (``benchmarks/bench.py --fit``'s call);
- ``numpy-fused``: the hand-optimised NumPy loop, the benchmark's floor.

The gap between ``step`` and ``no update`` against ``update alone`` is what the update
costs inside a step (where the gradient was just written by BLAS's threads) against
what it costs by itself.

    python benchmarks/profile_step.py W2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _workloads import (
    SJ_LOSS,
    WORKLOADS,
    make_data,
    numpy_fused_step,
    shenjing_fit_step,
    shenjing_net,
)

import shenjing as sj
from shenjing.training.step import StepPlan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", nargs="?", default="W2", choices=sorted(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    w = WORKLOADS[args.workload]
    reps = max(1, int(0.05 / max(w.batch * w.sizes[0] * 1e-9, 1e-6)))
    net = shenjing_net(w)
    loss = sj.losses.get(SJ_LOSS[w.loss])
    opt = sj.SGD(lr=w.lr)
    x, y = make_data(w)
    x = net.check_input(x)
    t = loss.prepare_target(y, (w.batch, w.sizes[-1]), net.compute_dtype)
    linears = [layer for layer in net.layers if "W" in layer.params]
    W0, dW0 = linears[0].params["W"], linears[0].grads["W"]
    scratch = np.empty_like(W0)
    outs = [np.empty((w.batch, layer.params["W"].shape[1]), np.float32) for layer in linears]
    dWs = [np.empty_like(layer.params["W"]) for layer in linears]

    def no_update() -> None:
        pred = net.forward_unchecked(x)
        loss.forward_unchecked(pred, t)
        net.backward_unchecked(loss.backward(), need_dx=False)

    def step() -> None:
        no_update()
        opt.step(net)

    plan = StepPlan(net, sj.SGD(lr=w.lr), fuse=True)

    def fused_step() -> None:
        loss.forward_unchecked(plan.forward(x), t)
        plan.backward_update(loss.backward())

    def update_alone() -> None:
        np.multiply(dW0, np.float32(0.0), out=scratch)  # lr 0: the weights stay put
        np.subtract(W0, scratch, out=W0)

    def products_only() -> None:
        a = x
        for layer, out in zip(linears, outs, strict=True):
            np.matmul(a, layer.params["W"], out=out)
            a = out
        d = outs[-1]
        for i in range(len(linears) - 1, -1, -1):
            np.matmul((x if i == 0 else outs[i - 1]).T, d, out=dWs[i])
            if i > 0:
                np.matmul(d, linears[i].params["W"].T, out=outs[i - 1])
                d = outs[i - 1]

    fit_call, fit_steps = shenjing_fit_step(w)
    floor = numpy_fused_step(w)

    def fit_per_step() -> None:
        for _ in range(max(1, reps // fit_steps)):
            fit_call()

    cases = {
        "step": step,
        "fused step": fused_step,
        "no update": no_update,
        "forward": lambda: net.forward_unchecked(x),
        "update alone": update_alone,
        "products only": products_only,
        "fit": fit_per_step,
        "numpy-fused": floor,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for f in cases.values():
        f()
    for _ in range(args.rounds):
        for name, f in cases.items():
            start = time.perf_counter()
            calls = 1 if f is fit_per_step else reps
            for _ in range(calls):
                f()
            done = max(1, reps // fit_steps) * fit_steps if f is fit_per_step else reps
            times[name].append((time.perf_counter() - start) / done * 1e6)
    print(f"{w.name} {w.title}, {reps} calls per chunk, median of {args.rounds} chunks:")
    for name, values in times.items():
        print(f"  {name:14s} {np.median(values):10.1f} µs")


if __name__ == "__main__":
    main()
