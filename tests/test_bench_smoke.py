"""The benchmark script runs end to end (``--smoke``) and writes well-formed JSON.

Nothing here is about speed: a smoke run times a step or two of each workload, so its
figures mean nothing. It checks that every workload runs in shenjing and in every peer
that is installed (peers that are not are reported as skipped), that the extras run,
and that the JSON has the structure the README's table is made from.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"
WORKLOADS = ("W1", "W2", "W3", "W4")
PEER_MODULES = {
    "torch": "torch",
    "sklearn": "sklearn",
    "numpy": "numpy",
    "numpy-buffered": "numpy",
    "numpy-fused": "numpy",
}


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    if not BENCH.exists():
        pytest.skip("benchmarks/ is not part of this installation")
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(path.read_text()), done.stdout


def test_every_workload_ran_in_shenjing_and_each_installed_peer(smoke):
    results, _ = smoke
    installed = [p for p, m in PEER_MODULES.items() if importlib.util.find_spec(m) is not None]
    assert results["mode"] == "smoke"
    assert sorted(results["peers"]) == sorted(installed)
    assert set(results["skipped_peers"]) == set(PEER_MODULES) - set(installed)
    assert list(results["workloads"]) == list(WORKLOADS)
    for name, res in results["workloads"].items():
        impls = res["implementations"]
        assert next(iter(impls)) == "shenjing", name
        assert set(impls) | set(res["skipped"]) == {"shenjing", *installed}, name
        assert res["matmul_flops_per_step"] > 0
        for impl, stats in impls.items():
            assert _positive(stats["ms_per_step"]["median"]), (name, impl)
            assert stats["ms_per_step"]["q25"] <= stats["ms_per_step"]["q75"]
            assert stats["steps_timed"] >= 1
            assert stats["faults_per_step"] >= 0
            assert stats["all_finite"], (name, impl)  # no run diverged to NaN
            if impl != "shenjing":
                assert _positive(stats["speedup_of_shenjing"]["median"])
        assert _positive(res["ceiling_gflops"]["median"])
        assert _positive(res["fraction_of_ceiling"]["median"])


def test_the_flop_count_matches_the_workload_by_hand(smoke):
    results, _ = smoke
    w3 = results["workloads"]["W3"]
    # 784-256-256-10, batch 128: forward 2·N·Σ D·M; backward twice that, less the
    # first layer's input gradient (2·N·784·256), which nobody computes.
    forward = 2 * 128 * (784 * 256 + 256 * 256 + 256 * 10)
    assert w3["matmul_flops_per_step"] == 3 * forward - 2 * 128 * 784 * 256


def test_extras_and_targets(smoke):
    results, _ = smoke
    extras = results["extras"]
    assert _positive(extras["fit_epoch"]["ratio"]["median"])
    assert _positive(extras["fit_epoch"]["bare_steps_s"]["median"])
    assert _positive(extras["adam"]["ratio"]["median"])
    rss = extras["rss"]["peak_rss_mib"]
    assert _positive(rss["shenjing"]) and _positive(rss["numpy"])
    assert extras["import"]["shenjing_added_s"]["median"] >= 0
    targets = results["targets"]
    assert targets, "no target was checked"
    for t in targets:
        assert set(t) == {"target", "value", "bound", "met"}
        assert isinstance(t["met"], bool)
    named = " ".join(t["target"] for t in targets)
    for phrase in ("W2: minor page faults", "W3: minor page faults", "fit epoch", "Adam"):
        assert phrase in named


def test_machine_and_table(smoke):
    results, stdout = smoke
    machine = results["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["numpy"]
    assert "--smoke" in results["command"]
    header = "| workload | implementation | ms/step | GFLOP/s |"
    assert stdout.startswith(header)
    assert stdout.count("| W3 mnist-mlp |") == len(results["workloads"]["W3"]["implementations"])


def test_fit_mode_times_fit_and_the_loop_as_a_peer(tmp_path):
    if not BENCH.exists():
        pytest.skip("benchmarks/ is not part of this installation")
    path = tmp_path / "fit.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--fit", "--workloads", "W1,W3",
         "--peers", "numpy-fused", "--no-extras", "--json", str(path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(path.read_text())
    assert results["fit"] is True
    for name in ("W1", "W3"):
        impls = results["workloads"][name]["implementations"]
        assert list(impls) == ["shenjing", "shenjing-loop", "numpy-fused"], name
        # A fit call runs 40 steps: the steps timed count training steps, not calls.
        assert impls["shenjing"]["steps_timed"] % 40 == 0
        assert impls["shenjing"]["all_finite"]
        assert _positive(impls["shenjing-loop"]["speedup_of_shenjing"]["median"])
    assert "| W3 mnist-mlp | shenjing (fit) |" in done.stdout
    assert any("the loop's step" in t["target"] for t in results["targets"])


def test_bad_options_are_refused():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--workloads", "W9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "W9" in done.stderr and "W1" in done.stderr
