"""A benchmark worker: one process per implementation, driven over stdin/stdout.

Each line in is a JSON command, each line out a JSON reply:

* ``{"cmd": "setup", "key": k, "impl": ..., "workload": "W3", "warmup_s": 0.3}``
  builds a step (``impl`` is an implementation, ``"shenjing-fit"`` (a ``fit`` call of
  several steps), ``"ceiling"``, ``"adam"``, ``"fit_epoch"`` or ``"bare_epoch"``) and
  runs it for ``warmup_s`` seconds.
* ``{"cmd": "chunk", "key": k, "seconds": 0.25, "min_steps": 1}`` runs that step
  until both limits are passed; replies steps, seconds and minor page faults.
* ``{"cmd": "quit"}``.

``python _worker.py --rss IMPL`` instead trains W3 for 200 steps in a fresh process
and prints its peak resident memory.

The worker blocks on stdin between commands, so it takes no CPU while the
coordinator times another implementation.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _workloads as wl


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _epoch_steps(w: wl.Workload, fit: bool, rows: int):
    """A full epoch of ``rows`` samples through ``fit``, or the same batches as bare steps."""
    import shenjing as sj

    net = wl.shenjing_net(w)
    x, y = wl.make_data(w, rows=rows, seed=1)
    loss_name = wl.SJ_LOSS[w.loss]
    if fit:
        opt = sj.SGD(lr=w.lr)

        def step() -> float:
            hist = net.fit(x, y, loss=loss_name, optimizer=opt, epochs=1, batch_size=w.batch)
            return hist.loss[-1]

        return step, {"rows": rows, "batch": w.batch}
    from shenjing.training.step import StepPlan

    loss = sj.losses.get(loss_name)
    opt = sj.SGD(lr=w.lr)
    xs = net.check_input(x)
    ts = loss.prepare_target(y, (len(x), w.sizes[-1]), net.compute_dtype)
    plan = StepPlan(net, opt, fuse=True)  # the step fit runs, without the loop around it

    def bare() -> float:
        value = 0.0
        for start in range(0, rows, w.batch):
            pred = plan.forward(xs[start : start + w.batch])
            value = loss.forward_unchecked(pred, ts[start : start + w.batch])
            plan.backward_update(loss.backward())
        return value

    return bare, {"rows": rows, "batch": w.batch}


def build(impl: str, workload: str, rows: int = 60_000):
    """A step callable and facts about it, for ``impl`` on ``workload``."""
    if impl == "ceiling":
        step, flops = wl.ceiling_step()
        return step, {"flops_per_step": flops}
    w = wl.WORKLOADS[workload]
    if impl == "adam":
        return wl.shenjing_step(w, "adam"), {}
    if impl in ("fit_epoch", "bare_epoch"):
        return _epoch_steps(w, impl == "fit_epoch", rows)
    if impl == "shenjing-fit":
        call, steps = wl.shenjing_fit_step(w)
        return call, {"steps_per_call": steps}
    step = wl.IMPLEMENTATIONS[impl](w)
    info = {}
    if impl == "sklearn":
        step()
        info["dtype"] = wl.sklearn_dtype(step)
    elif impl == "torch":
        import torch

        info["version"] = torch.__version__
        info["threads"] = torch.get_num_threads()
    return step, info


def run_chunk(step, seconds: float, min_steps: int, per_call: int = 1) -> dict:
    """Calls until ``seconds`` and ``min_steps`` calls are both reached.

    ``per_call`` is the training steps one call runs (a ``fit`` call runs several), so
    the reply's ``steps`` count training steps.
    """
    n, value = 0, 0.0
    f0 = _faults()
    t0 = time.perf_counter()
    while True:
        value = step()
        n += 1
        elapsed = time.perf_counter() - t0
        if n >= min_steps and elapsed >= seconds:
            break
    faults = _faults() - f0
    return {
        "steps": n * per_call,
        "seconds": elapsed,
        "faults": faults,
        "finite": math.isfinite(value),
    }


def serve() -> None:
    out = sys.stdout
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol
    steps: dict = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "quit":
                break
            if cmd["cmd"] == "setup":
                step, info = build(cmd["impl"], cmd["workload"], cmd.get("rows", 60_000))
                steps[cmd["key"]] = step, info.get("steps_per_call", 1)
                if cmd.get("warmup_steps", 3) > 0:
                    run_chunk(step, cmd.get("warmup_s", 0.3), cmd.get("warmup_steps", 3))
                reply = {"ok": True, "info": info}
            elif cmd["cmd"] == "chunk":
                step, per_call = steps[cmd["key"]]
                reply = run_chunk(step, cmd["seconds"], cmd.get("min_steps", 1), per_call)
                reply["ok"] = True
            else:
                reply = {"ok": False, "error": f"unknown command {cmd['cmd']!r}"}
        except Exception as exc:  # reported to the coordinator, which skips this peer
            traceback.print_exc()
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def peak_rss(impl: str, steps: int = 200) -> None:
    """Train W3 for ``steps`` steps, then print peak RSS in MiB (Linux: KiB units)."""
    step = wl.IMPLEMENTATIONS[impl](wl.WORKLOADS["W3"])
    for _ in range(steps):
        step()
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"impl": impl, "steps": steps, "peak_rss_mib": kib / 1024}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--rss":
        peak_rss(sys.argv[2], *map(int, sys.argv[3:4]))
    else:
        serve()
