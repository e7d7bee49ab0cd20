"""How much does ``fit(..., monitor=True)`` slow training down?

A 784-256-256-10 ReLU network, batch 128, softmax cross-entropy, plain SGD. Chunks of
``--steps`` steps are timed with and without monitoring, alternately (the order flips
every round), for ``--rounds`` rounds in one process; the figure is the median of the
paired ratios time(monitored) / time(plain). Alternating pairs is what makes the ratio
honest on a noisy, shared machine: drift in the machine's speed hits both halves of a
pair alike.

On a busy machine the default interval's overhead can be smaller than the noise, so
chunks that record at *every* step are timed in the same rotation: their ratio r₁ gives
the cost of one record, and (r₁ - 1) / every the overhead it implies at the interval.

Run: python benchmarks/monitor_overhead.py [--rounds 20] [--steps 100] [--every 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import shenjing as sj
from shenjing.diagnosis.monitor import DEFAULT_EVERY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2 * DEFAULT_EVERY, help="steps per chunk")
    parser.add_argument("--every", type=int, default=DEFAULT_EVERY, help="monitor interval")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    batch = 128
    x = rng.standard_normal((batch * args.steps, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch * args.steps)
    net = sj.Sequential(
        sj.Linear(784, 256, init="he", seed=1),
        sj.ReLU(),
        sj.Linear(256, 256, init="he", seed=2),
        sj.ReLU(),
        sj.Linear(256, 10, seed=3),
    )
    opt = sj.SGD(lr=0.01)

    def chunk(monitor: int | bool) -> float:
        start = time.perf_counter()
        net.fit(x, y, loss="ce", optimizer=opt, epochs=1, batch_size=batch, seed=0,
                monitor=monitor)  # fmt: skip
        return time.perf_counter() - start

    chunk(False), chunk(args.every), chunk(1)  # warm up: buffers, BLAS threads
    conditions = [False, args.every, 1]
    times: dict = {c: [] for c in conditions}
    for r in range(args.rounds):
        order = conditions[r % 3 :] + conditions[: r % 3]  # rotate, so no order is favoured
        for c in order:
            times[c].append(chunk(c))
    plain = np.array(times[False])
    ratio = statistics.median(np.array(times[args.every]) / plain)
    ratio1 = statistics.median(np.array(times[1]) / plain)
    print(
        f"784-256-256-10 ReLU, batch {batch}, SGD; {args.rounds} rounds of {args.steps} steps "
        "per condition"
    )
    print(f"plain step: median {1e3 * statistics.median(plain) / args.steps:.3f} ms")
    print(
        f"monitor every {args.every} steps: median paired ratio {ratio:.4f} "
        f"-> overhead {ratio - 1:+.1%}"
    )
    print(
        f"monitor every step: median paired ratio {ratio1:.4f} -> one record costs "
        f"{ratio1 - 1:.2f} steps -> {(ratio1 - 1) / args.every:+.2%} at every {args.every}"
    )


if __name__ == "__main__":
    main()
