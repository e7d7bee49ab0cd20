"""Time a training step of shenjing against PyTorch CPU, scikit-learn and plain NumPy.

shenjing's step is the body of ``fit``'s loop on one batch (the notes' loop:
forward, loss, backward, update), or with ``--fit`` ``fit`` itself, full batch, 40 steps
a call (2 for W4), with the loop's step as one more peer (``shenjing-loop``). The NumPy
peers: ``numpy`` as the notes write it, ``numpy-buffered`` with every buffer allocated
once, and ``numpy-fused``, the hand-optimised floor, which also updates each layer
inside the backward pass.

Every implementation runs in its own worker process (see ``_worker.py``). The
coordinator alternates short chunks of steps, a few tenths of a second each, between
shenjing and each peer over many rounds, so a slow phase of a shared machine hits both
sides of a pair; it reports the median of the paired ratios, with absolute ms/step only
as context. The float32 GEMM ceiling is measured the same way, as one more "peer".

Also measured: ``fit`` over a full epoch against the sum of its bare steps, Adam's step
against SGD's, the peak memory of a process training W3, and the import time.

Usage::

    python benchmarks/bench.py                       # the full run, ~5-10 min on 2 cores
    python benchmarks/bench.py --fit --json bench.json   # the same through fit
    python benchmarks/bench.py --workloads W1,W3 --quick
    python benchmarks/bench.py --smoke --json /tmp/bench.json   # seconds, for CI
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _workloads as wl  # noqa: E402

PEERS = ("torch", "sklearn", "numpy", "numpy-buffered", "numpy-fused")

#: (workload, peer) -> the speed-up over that peer the speed issues ask for.
SPEEDUP_TARGETS = {
    ("W1", "torch"): 6.0,
    ("W2", "torch"): 1.8,
    ("W3", "torch"): 1.15,
    ("W4", "torch"): 1.3,
    ("W2", "sklearn"): 2.0,
    ("W3", "sklearn"): 2.0,
    ("W4", "sklearn"): 1.2,
    ("W2", "numpy-fused"): 0.9,
    ("W3", "numpy-fused"): 0.9,
    ("W4", "numpy-fused"): 0.9,
}
#: With --fit: the loop's step must run at least 0.8x as fast as fit's, that is take
#: at most 1.25x fit's time per step ("speed-up" of fit over it at most 1.25).
LOOP_VS_FIT = 1 / 0.8
CEILING_TARGETS = {"W4": 0.80}
FAULT_WORKLOADS = ("W2", "W3")
#: The implementation each worker builds, where it is not the worker's own name.
BUILDS = {"shenjing-loop": "shenjing"}


@dataclass(frozen=True)
class Plan:
    """How long to measure: chunk length, rounds, and the extras' sizes."""

    chunk_s: float
    rounds: int
    slow_rounds: int  # for W4, whose step takes ~0.25 s
    warmup_s: float
    epoch_rows: int
    epoch_rounds: int
    adam_rounds: int
    rss_steps: int
    import_repeats: int
    gap_s: float  # idle time before each chunk, so no thread pool is still spinning


PLANS = {
    "full": Plan(0.25, 25, 6, 0.5, 60_000, 5, 15, 200, 7, 0.1),
    "quick": Plan(0.2, 8, 2, 0.3, 60_000, 3, 6, 200, 3, 0.1),
    "smoke": Plan(0.01, 1, 1, 0.0, 1_024, 1, 1, 3, 1, 0.0),
}


class Worker:
    """A worker process and its line-based JSON protocol."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )

    def send(self, **cmd) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            return {"ok": False, "error": f"worker exited with code {self.proc.wait()}"}
        return json.loads(line)

    def call(self, **cmd) -> dict:
        self.send(**cmd)
        return self.receive()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
            except BrokenPipeError:
                pass
        self.proc.wait(timeout=30)


def available_peers(wanted: list[str]) -> tuple[list[str], dict[str, str]]:
    present, skipped = [], {}
    for peer in wanted:
        module = wl.REQUIRES.get(peer)
        if module is not None and importlib.util.find_spec(module) is None:
            skipped[peer] = f"{module} is not installed"
        else:
            present.append(peer)
    return present, skipped


def _ms(chunk: dict) -> float:
    return chunk["seconds"] / chunk["steps"] * 1e3


def _quantiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    if len(values) < 2:
        return {"median": values[0], "q25": values[0], "q75": values[0], "n": len(values)}
    q = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": statistics.median(values), "q25": q[0], "q75": q[2], "n": len(values)}


def pairs(
    a: Worker,
    a_key: str,
    b: Worker,
    b_key: str,
    rounds: int,
    chunk_s: float,
    min_steps: int,
    gap_s: float = 0.0,
):
    """Alternate chunks of a and b (a first on even rounds, b first on odd ones).

    ``gap_s`` of idle time precede every chunk: BLAS and OpenMP worker threads may
    spin-wait for a while after their last job, and a chunk started at once would
    share the two cores with the previous process's spinning threads.
    """
    out_a, out_b = [], []
    for r in range(rounds):
        order = [(a, a_key, out_a), (b, b_key, out_b)]
        for worker, key, out in order if r % 2 == 0 else order[::-1]:
            if gap_s:
                time.sleep(gap_s)
            reply = worker.call(cmd="chunk", key=key, seconds=chunk_s, min_steps=min_steps)
            if not reply.get("ok"):
                raise RuntimeError(reply.get("error"))
            out.append(reply)
    return out_a, out_b


def bench_workload(
    name: str,
    workers: dict[str, Worker],
    ceiling: Worker,
    ceiling_flops: int,
    plan: Plan,
    fit: bool = False,
) -> dict:
    """Paired chunks of shenjing and every peer (and the GEMM ceiling) on one workload.

    ``workers`` maps each implementation to its process, which keeps the steps of the
    workloads before this one (each under its own key) but runs only one at a time.
    """
    w = wl.WORKLOADS[name]
    slow = name == "W4"
    rounds = plan.slow_rounds if slow else plan.rounds
    if slow:  # whole steps: one W4 step is longer than a chunk
        chunk_s, min_steps = 0.0, 1 if plan is PLANS["smoke"] else 2
    else:
        chunk_s, min_steps = plan.chunk_s, 1
    result: dict = {
        "title": w.title,
        "sizes": list(w.sizes),
        "batch": w.batch,
        "activation": w.activation,
        "loss": w.loss,
        "matmul_flops_per_step": w.matmul_flops(),
        "rounds": rounds,
        "implementations": {},
        "skipped": {},
    }
    warm = {"warmup_s": plan.warmup_s, "warmup_steps": 1 if slow else 3}
    if plan is PLANS["smoke"]:  # only that every step runs: no warm-up
        warm["warmup_steps"] = 0
    builds = {**BUILDS, "shenjing": "shenjing-fit" if fit else "shenjing"}
    for impl, worker in workers.items():  # setups run in parallel: imports overlap
        worker.send(cmd="setup", key=name, impl=builds.get(impl, impl), workload=name, **warm)
    infos = {impl: worker.receive() for impl, worker in workers.items()}
    if not infos["shenjing"].get("ok"):
        raise RuntimeError(f"shenjing failed on {name}: {infos['shenjing'].get('error')}")
    peers = [impl for impl in workers if impl != "shenjing"]
    for impl in peers:
        if not infos[impl].get("ok"):
            result["skipped"][impl] = infos[impl].get("error")
    sj_worker = workers["shenjing"]
    sj_chunks: list[dict] = []
    flops = w.matmul_flops()
    for impl in [p for p in peers if p not in result["skipped"]] + ["ceiling"]:
        other, key = (ceiling, "ceiling") if impl == "ceiling" else (workers[impl], name)
        sj, peer = pairs(sj_worker, name, other, key, rounds, chunk_s, min_steps, plan.gap_s)
        sj_chunks += sj
        if impl == "ceiling":
            c_rate = [c["steps"] * ceiling_flops / c["seconds"] / 1e9 for c in peer]
            s_rate = [flops / _ms(c) / 1e6 for c in sj]
            result["ceiling_gflops"] = _quantiles(c_rate)
            result["fraction_of_ceiling"] = _quantiles(
                [s / c for s, c in zip(s_rate, c_rate, strict=True)]
            )
            continue
        ratios = [_ms(p) / _ms(s) for s, p in zip(sj, peer, strict=True)]
        result["implementations"][impl] = _impl_stats(peer, flops, infos[impl]["info"])
        result["implementations"][impl]["speedup_of_shenjing"] = _quantiles(ratios)
    result["implementations"] = {
        "shenjing": _impl_stats(sj_chunks, flops, infos["shenjing"]["info"]),
        **result["implementations"],
    }
    return result


def _impl_stats(chunks: list[dict], flops: int, info: dict) -> dict:
    ms = _quantiles([_ms(c) for c in chunks])
    steps = sum(c["steps"] for c in chunks)
    return {
        "ms_per_step": ms,
        "gflops": flops / ms["median"] / 1e6,
        "faults_per_step": sum(c["faults"] for c in chunks) / steps,
        "steps_timed": steps,
        "all_finite": all(c["finite"] for c in chunks),
        "info": info,
    }


def bench_fit_epoch(plan: Plan, env) -> dict:
    """``fit`` over one epoch of W3 against the same batches as bare steps."""
    worker = Worker(env)
    try:
        for key in ("fit_epoch", "bare_epoch"):
            reply = worker.call(
                cmd="setup", key=key, impl=key, workload="W3", rows=plan.epoch_rows,
                warmup_s=0.0, warmup_steps=1,
            )  # fmt: skip
            if not reply.get("ok"):
                raise RuntimeError(reply.get("error"))
        fit, bare = pairs(
            worker, "fit_epoch", worker, "bare_epoch", plan.epoch_rounds, 0.0, 1, plan.gap_s
        )
    finally:
        worker.close()
    return {
        "rows": plan.epoch_rows,
        "batch": wl.WORKLOADS["W3"].batch,
        "fit_epoch_s": _quantiles([c["seconds"] for c in fit]),
        "bare_steps_s": _quantiles([c["seconds"] for c in bare]),
        "ratio": _quantiles([f["seconds"] / b["seconds"] for f, b in zip(fit, bare, strict=True)]),
    }


def bench_adam(plan: Plan, env) -> dict:
    """Adam's W3 step against SGD's, alternating in one process."""
    worker = Worker(env)
    try:
        for key in ("shenjing", "adam"):
            reply = worker.call(cmd="setup", key=key, impl=key, workload="W3", warmup_s=0.2)
            if not reply.get("ok"):
                raise RuntimeError(reply.get("error"))
        sgd, adam = pairs(
            worker, "shenjing", worker, "adam", plan.adam_rounds, plan.chunk_s, 1, plan.gap_s
        )
    finally:
        worker.close()
    return {
        "sgd_ms": _quantiles([_ms(c) for c in sgd]),
        "adam_ms": _quantiles([_ms(c) for c in adam]),
        "ratio": _quantiles([_ms(a) / _ms(s) for s, a in zip(sgd, adam, strict=True)]),
    }


def bench_rss(impls: list[str], plan: Plan, env) -> dict:
    """Peak RSS of a fresh process training W3, per implementation."""
    out = {}
    for impl in impls:
        done = subprocess.run(
            [sys.executable, str(HERE / "_worker.py"), "--rss", impl, str(plan.rss_steps)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        if done.returncode == 0:
            out[impl] = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mib"]
    return {"steps": plan.rss_steps, "peak_rss_mib": out}


IMPORT_SCRIPT = """
import time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
import shenjing
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def bench_import(plan: Plan, env) -> dict:
    """Seconds ``import shenjing`` adds to ``import numpy``, each in a fresh process."""
    numpy_s, added_s = [], []
    for _ in range(plan.import_repeats):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        a, b = map(float, done.stdout.split())
        numpy_s.append(a)
        added_s.append(b)
    return {"numpy_s": _quantiles(numpy_s), "shenjing_added_s": _quantiles(added_s)}


def machine() -> dict:
    import numpy as np

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the layout of show_config is not a stable API
        blas = "unknown"
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    info = {
        "cpu": cpu,
        "cores": cores,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "platform": platform.platform(),
    }
    for module in ("torch", "sklearn"):
        if importlib.util.find_spec(module) is not None:
            from importlib.metadata import version

            info[module] = version("torch" if module == "torch" else "scikit-learn")
    if hasattr(os, "getloadavg"):
        info["load_average_start"] = os.getloadavg()
    return info


def check_targets(results: dict) -> list[dict]:
    """Every target of the issue that this run measured, with the measured value."""
    checks = []

    def add(what: str, value: float, target: float, higher_is_better: bool) -> None:
        ok = value >= target if higher_is_better else value < target
        checks.append({"target": what, "value": value, "bound": target, "met": ok})

    for name, res in results["workloads"].items():
        impls = res["implementations"]
        for (wname, peer), target in SPEEDUP_TARGETS.items():
            if wname == name and peer in impls:
                value = impls[peer]["speedup_of_shenjing"]["median"]
                add(f"{name}: shenjing vs {peer} speed-up >= {target}", value, target, True)
        if "shenjing-loop" in impls:
            value = impls["shenjing-loop"]["speedup_of_shenjing"]["median"]
            add(f"{name}: the loop's step at least 0.8x as fast as fit's (time ratio <= "
                f"{LOOP_VS_FIT})", value, LOOP_VS_FIT, False)  # fmt: skip
        if name in CEILING_TARGETS and "fraction_of_ceiling" in res:
            t = CEILING_TARGETS[name]
            v = res["fraction_of_ceiling"]["median"]
            add(f"{name}: fraction of float32 GEMM ceiling >= {t:.0%}", v, t, True)
        if name in FAULT_WORKLOADS:
            v = impls["shenjing"]["faults_per_step"]
            add(f"{name}: minor page faults per step < 1", v, 1.0, False)
    extras = results["extras"]
    if "fit_epoch" in extras:
        add("W3 fit epoch / sum of bare steps <= 1.05", extras["fit_epoch"]["ratio"]["median"],
            1.05, False)  # fmt: skip
    if "adam" in extras:
        add("W3 Adam step / SGD step <= 1.15", extras["adam"]["ratio"]["median"], 1.15, False)
    rss = extras.get("rss", {}).get("peak_rss_mib", {})
    if "shenjing" in rss and "numpy" in rss:
        add("W3 peak RSS shenjing / plain NumPy <= 1.2", rss["shenjing"] / rss["numpy"], 1.2,
            False)  # fmt: skip
    if "import" in extras:
        add("import shenjing after numpy < 0.1 s",
            extras["import"]["shenjing_added_s"]["median"], 0.1, False)  # fmt: skip
    for c in checks:  # "< bound" for costs; equality on a cost bound counts as met
        if c["value"] == c["bound"]:
            c["met"] = True
    return checks


def table(results: dict) -> str:
    """A Markdown table of the workloads, then the extras and the targets."""
    lines = [
        "| workload | implementation | ms/step | GFLOP/s | % of GEMM ceiling "
        "| peer time / shenjing time | page faults/step |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, res in results["workloads"].items():
        frac = res.get("fraction_of_ceiling", {}).get("median")
        for impl, s in res["implementations"].items():
            ratio = s.get("speedup_of_shenjing")
            ratio_s = (
                f"{ratio['median']:.2f}× [{ratio['q25']:.2f}–{ratio['q75']:.2f}]" if ratio else "—"
            )
            pct = f"{frac * 100:.3g}%" if impl == "shenjing" and frac is not None else ""
            dtype = s["info"].get("dtype")
            label = impl + (f" ({dtype})" if dtype and dtype != "float32" else "")
            if impl == "shenjing" and results.get("fit"):
                label = "shenjing (fit)"
            lines.append(
                f"| {name} {res['title']} | {label} | {s['ms_per_step']['median']:.3f} "
                f"| {s['gflops']:.3g} | {pct} | {ratio_s} | {s['faults_per_step']:.2f} |"
            )
    ceilings = [r["ceiling_gflops"]["median"] for r in results["workloads"].values()]
    out = ["\n".join(lines)]
    if ceilings:
        out.append(
            f"float32 GEMM ceiling (2048² sgemm, paired with each workload's chunks): "
            f"median {statistics.median(ceilings):.0f} GFLOP/s"
        )
    ex = results["extras"]
    if "fit_epoch" in ex:
        f = ex["fit_epoch"]
        out.append(
            f"fit, one epoch of {f['rows']} W3 samples: {f['fit_epoch_s']['median']:.3f} s; "
            f"the same batches as bare steps: {f['bare_steps_s']['median']:.3f} s; "
            f"ratio {f['ratio']['median']:.3f}"
        )
    if "adam" in ex:
        a = ex["adam"]
        out.append(
            f"W3 step: SGD {a['sgd_ms']['median']:.3f} ms, Adam {a['adam_ms']['median']:.3f} "
            f"ms; Adam/SGD {a['ratio']['median']:.3f}"
        )
    if "rss" in ex:
        r = ex["rss"]
        parts = ", ".join(f"{k} {v:.0f} MiB" for k, v in r["peak_rss_mib"].items())
        out.append(f"peak RSS training W3 for {r['steps']} steps: {parts}")
    if "import" in ex:
        i = ex["import"]
        out.append(
            f"import numpy {i['numpy_s']['median']:.3f} s; import shenjing after it adds "
            f"{i['shenjing_added_s']['median']:.3f} s"
        )
    checks = results.get("targets", [])
    if checks:
        out.append("Targets:")
        for c in checks:
            out.append(f"  [{'met' if c['met'] else 'MISSED'}] {c['target']}: {c['value']:.3g}")
    return "\n\n".join(out[:1]) + "\n\n" + "\n".join(out[1:])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated names")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer rounds (~2 min)")
    mode.add_argument("--smoke", action="store_true", help="seconds; checks that all runs")
    parser.add_argument(
        "--fit",
        action="store_true",
        help="time shenjing through fit (40 steps a call, 2 for W4), the loop as a peer",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--no-extras", action="store_true", help="skip fit/Adam/memory/import measurements"
    )
    args = parser.parse_args(argv)
    names = [n.strip().upper() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in wl.WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(wl.WORKLOADS)}")
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    bad = [p for p in peers if p not in PEERS]
    if bad:
        parser.error(f"unknown peers {bad}; choose from {', '.join(PEERS)}")
    args.workload_names, args.peer_names = names, peers
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    plan = PLANS[mode]
    peers, skipped = available_peers(args.peer_names)
    env = dict(os.environ)
    # Sources from this checkout win over any installed copy.
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    started = time.perf_counter()
    results: dict = {
        "command": " ".join(["python", "benchmarks/bench.py", *(argv or sys.argv[1:])]),
        "mode": mode,
        "fit": args.fit,
        "plan": plan.__dict__,
        "machine": machine(),
        "peers": peers,
        "skipped_peers": skipped,
        "workloads": {},
        "extras": {},
    }
    ceiling = Worker(env)
    own = ["shenjing", "shenjing-loop"] if args.fit else ["shenjing"]
    workers = {impl: Worker(env) for impl in [*own, *peers]}
    try:
        reply = ceiling.call(cmd="setup", key="ceiling", impl="ceiling", workload="",
                             warmup_s=plan.warmup_s, warmup_steps=1)  # fmt: skip
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error"))
        flops = reply["info"]["flops_per_step"]
        for name in args.workload_names:
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            results["workloads"][name] = bench_workload(
                name, workers, ceiling, flops, plan, args.fit
            )
    finally:
        for worker in [ceiling, *workers.values()]:
            worker.close()
    if not args.no_extras:
        print("[bench] extras ...", file=sys.stderr, flush=True)
        results["extras"]["fit_epoch"] = bench_fit_epoch(plan, env)
        results["extras"]["adam"] = bench_adam(plan, env)
        rss_impls = ["shenjing", "numpy"] + (["torch"] if "torch" in peers else [])
        results["extras"]["rss"] = bench_rss(rss_impls, plan, env)
        results["extras"]["import"] = bench_import(plan, env)
    results["targets"] = check_targets(results)
    results["seconds"] = time.perf_counter() - started
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_end"] = os.getloadavg()
    print(table(results))
    print(f"\n{mode} run, {results['seconds']:.0f} s: {results['command']}")
    if args.json:
        path = Path(args.json)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
