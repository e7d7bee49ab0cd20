"""A fit run in its own process, for the kill and interrupt tests.

python tests/_fit_worker.py CONFIG MODE OUT [CHECKPOINT]

MODE is ``run`` (fit, with CHECKPOINT if given), ``interrupt`` (fit until a SIGINT; the
KeyboardInterrupt is caught and what it left is written) or ``steps:K1,K2,…`` (fit,
writing the parameters and optimizer state after steps K1, K2, …). OUT is an .npz of
plain arrays (no pickle). The process prints "ready" just before fit starts.
"""

from __future__ import annotations

import signal
import sys

import numpy as np

import shenjing as sj


def config(name: str, epochs: int) -> tuple[sj.Sequential, dict]:
    x, y = sj.datasets.spiral(seed=0)
    dtype = "float64" if name.endswith("64") else "float32"
    # Dropout in both (its masks come from its own generator), BatchNorm in one (running
    # statistics that are not trained).
    norm = "batch" if name.startswith("adam") else None
    net = sj.mlp(2, [48, 48], 3, seed=1, dtype=dtype, dropout=0.1, norm=norm)
    kwargs = dict(
        x=x,
        y=y,
        loss="softmax_cross_entropy",
        epochs=epochs,
        batch_size=16,
        seed=5,
        validation_split=0.2,
        metrics=["accuracy"],
    )
    if name.startswith("sgd"):
        kwargs["optimizer"] = sj.SGD(lr=0.05, momentum=0.9)
        kwargs["callbacks"] = [sj.EarlyStopping(patience=100)]
    else:
        kwargs["optimizer"] = sj.Adam(lr=0.01)
        kwargs["schedule"] = sj.CosineDecay(warmup_steps=30)
        kwargs["clip_norm"] = 2.0
    return net, kwargs


def state_arrays(net, opt) -> dict[str, np.ndarray]:
    out = {f"param.{p.name}": p.value.copy() for p in net.parameters()}
    for name, entries in opt.state.items():
        for key, value in entries.items():
            if key == "scratch":
                continue
            out[f"opt.{name}.{key}"] = np.asarray(value).copy()
    return out


def history_arrays(h) -> dict[str, np.ndarray]:
    out = {"history.loss": np.asarray(h.loss), "history.lr": np.asarray(h.lr)}
    out.update({f"history.epoch.{k}": np.asarray(v) for k, v in h.per_epoch.items()})
    out["history.flags"] = np.asarray(
        [h.epochs_run, h.stopped_early, -1 if h.best_epoch is None else h.best_epoch]
    )
    return out


def main() -> None:
    name, mode, out = sys.argv[1:4]
    checkpoint = sys.argv[4] if len(sys.argv) > 4 else None
    # Longer runs for the interrupt tests, so that a SIGINT lands inside fit.
    net, kwargs = config(name, 12 if mode == "run" else 60)
    opt = kwargs["optimizer"]
    arrays: dict[str, np.ndarray] = {}
    if mode.startswith("steps:"):
        wanted = {int(k) for k in mode[6:].split(",")}

        class Snap(sj.Callback):
            def on_step_end(self, state):
                if state.step in wanted:
                    for k, v in state_arrays(net, opt).items():
                        arrays[f"{state.step}.{k}"] = v

        kwargs["callbacks"] = [*kwargs.get("callbacks", []), Snap()]
    print("ready", flush=True)
    if mode == "interrupt":
        try:
            net.fit(**kwargs)
            arrays["interrupted"] = np.asarray(0)
        except KeyboardInterrupt as exc:
            arrays["interrupted"] = np.asarray(1)
            arrays["same_history"] = np.asarray(exc.history is net.history)
        arrays["handler_restored"] = np.asarray(
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # one that comes after fit is moot
        arrays["steps"] = np.asarray(len(net.history.loss))
        arrays.update(state_arrays(net, opt))
        arrays.update(history_arrays(net.history))
    else:
        history = net.fit(
            **kwargs, checkpoint=checkpoint, checkpoint_every=7 if checkpoint else None
        )
        arrays.update(state_arrays(net, opt))
        arrays.update(history_arrays(history))
    np.savez(out, **arrays)


if __name__ == "__main__":
    main()
