"""What does ``fit(..., checkpoint=PATH)`` cost per epoch?

A 784-256-256-10 ReLU network (float32, 270,000 parameters), Adam, batch 128, softmax
cross-entropy on 6,400 random rows: 50 steps an epoch. The loop checkpoints once per
epoch by default; this times that checkpoint directly, ``--rounds`` times: building the
sections (Adam's two moments, the loop's position, RNG states and History) and writing
the file (a temporary file, fsynced, renamed over the last one), exactly as the loop
does. It also times one plain epoch, so the cost can be read as a share of it. Timing
the checkpoint alone rather than two whole fits keeps the figure out of the noise of a
busy machine (where two epochs' times differ by more than a checkpoint).

Run: python benchmarks/checkpoint_overhead.py [--rounds 20] [--folder /tmp]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import shenjing as sj
from shenjing.interop.checkpoint import FileStore
from shenjing.training import resume
from shenjing.training.checkpoint import optimizer_state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--folder", default=None, help="where the checkpoint is written")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6400, 784)).astype(np.float32)
    y = rng.integers(0, 10, 6400)
    net = sj.mlp(784, [256, 256], 10, seed=0, dtype="float32")
    opt = sj.Adam(lr=1e-3)
    start = time.perf_counter()
    history = net.fit(
        x, y, loss="softmax_cross_entropy", optimizer=opt, epochs=1, batch_size=128, seed=0
    )
    epoch = time.perf_counter() - start
    folder = tempfile.mkdtemp(dir=args.folder)
    store = FileStore(os.path.join(folder, "bench.ckpt"))
    generator = np.random.default_rng(0)
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        training = resume.capture(
            fingerprint={"rows": 6400},
            position=resume.Position(1, finished=True),
            step=len(history.loss),
            rng_start=dict(generator.bit_generator.state),
            rng=generator,
            net=net,
            history=history,
            schedule=None,
            callbacks=[],
            metrics={},
        )
        sections = {"optimizer": optimizer_state(opt, net.parameters()), "training": training}
        store.write(net, sections)
        times.append(time.perf_counter() - start)
    size = os.path.getsize(store.path)
    os.remove(store.path)
    os.rmdir(folder)
    cost = statistics.median(times)
    print(f"one epoch without a checkpoint: {epoch * 1e3:.0f} ms (50 steps)")
    print(
        f"one checkpoint ({size / 1e6:.2f} MB): median {cost * 1e3:.1f} ms, min "
        f"{min(times) * 1e3:.1f} ms over {args.rounds}; {100 * cost / epoch:.1f} % of that epoch"
    )


if __name__ == "__main__":
    main()
