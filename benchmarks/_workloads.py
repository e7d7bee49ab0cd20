"""The benchmark's workloads and one training step of each in every implementation.

Every implementation builds the same network (same widths, biases, activations, loss,
plain SGD without momentum) on the same float32 data and returns a ``step()`` callable:
forward pass, loss, backward pass, parameter update. Peers are imported here, inside
the function that needs them, so a missing peer only fails its own worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    """A network and its batch: ``sizes`` are layer widths from input to output."""

    name: str
    title: str
    sizes: tuple[int, ...]
    batch: int
    activation: str  # "relu" or "sigmoid", for every hidden layer
    loss: str  # "sse" (sum of squares), "ce" (softmax cross-entropy), "mse"
    lr: float

    def matmul_flops(self) -> int:
        """Floating-point operations of the matrix products one training step needs.

        Forward 2·N·D·M per layer; backward 2·N·D·M for dW and 2·N·D·M for dx, except
        the first layer, whose input gradient no implementation computes.
        """
        n, pairs = self.batch, list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        forward = sum(2 * n * d * m for d, m in pairs)
        return 3 * forward - 2 * n * pairs[0][0] * pairs[0][1]


WORKLOADS = {
    w.name: w
    for w in (
        Workload("W1", "xor-tiny", (2, 30, 1), 4, "relu", "sse", 0.002),
        Workload("W2", "notes-regression", (1000, 100, 10), 64, "sigmoid", "sse", 1e-4),
        Workload("W3", "mnist-mlp", (784, 256, 256, 10), 128, "relu", "ce", 0.01),
        Workload("W4", "wide-mlp", (1024, 4096, 4096, 1024), 256, "relu", "mse", 0.01),
    )
}


def make_data(w: Workload, rows: int | None = None, seed: int = 0):
    """Random float32 inputs and targets: class labels for "ce", reals otherwise."""
    rng = np.random.default_rng(seed)
    n = rows or w.batch
    x = rng.standard_normal((n, w.sizes[0]), dtype=np.float32)
    if w.loss == "ce":
        y = rng.integers(0, w.sizes[-1], n)
    else:
        y = rng.standard_normal((n, w.sizes[-1]), dtype=np.float32)
    return x, y


# -- shenjing ---------------------------------------------------------------------------

SJ_LOSS = {"sse": "sse", "ce": "softmax_cross_entropy", "mse": "mse"}


def shenjing_net(w: Workload, seed: int = 0):
    import shenjing as sj

    layers = []
    pairs = list(zip(w.sizes[:-1], w.sizes[1:], strict=True))
    for i, (d, m) in enumerate(pairs):
        layers.append(sj.Linear(d, m, init="he", seed=seed + i))
        if i < len(pairs) - 1:
            layers.append(sj.activations.get(w.activation))
    return sj.Sequential(layers)


def shenjing_step(w: Workload, optimizer: str = "sgd") -> Callable[[], float]:
    """The body of ``fit``'s loop (``shenjing/training/loop.py``), on one fixed batch."""
    import shenjing as sj

    net = shenjing_net(w)
    loss = sj.losses.get(SJ_LOSS[w.loss])
    opt = sj.optim.get(optimizer, lr=w.lr if optimizer == "sgd" else 1e-3)
    x, y = make_data(w)
    x = net.check_input(x)
    t = loss.prepare_target(y, (w.batch, w.sizes[-1]), net.compute_dtype)
    prepared = opt.prepare(net.parameters())  # what fit does once, before its first step

    def step() -> float:
        pred = net.forward_unchecked(x)
        value = float(loss.forward_unchecked(pred, t))
        net.backward_unchecked(loss.backward(), need_dx=False)
        opt.apply(prepared)
        return value

    return step


#: Steps per ``fit`` call in :func:`shenjing_fit_step` (W4's step takes ~0.25 s).
FIT_STEPS = {"W4": 2}
DEFAULT_FIT_STEPS = 40


def shenjing_fit_step(w: Workload) -> tuple[Callable[[], float], int]:
    """``fit`` itself, full batch, ``FIT_STEPS`` steps a call: (the call, its steps).

    Every call pays what ``fit`` does once (checks, the target's conversion, binding its
    step plan, the history), so this is what a user of ``fit`` gets per step.
    """
    import shenjing as sj

    net = shenjing_net(w)
    opt = sj.SGD(lr=w.lr)
    x, y = make_data(w)
    steps = FIT_STEPS.get(w.name, DEFAULT_FIT_STEPS)
    loss = SJ_LOSS[w.loss]

    def call() -> float:
        history = net.fit(
            x, y, loss=loss, optimizer=opt, epochs=steps, batch_size=None, shuffle=False
        )
        return history.loss[-1]

    return call, steps


# -- PyTorch ----------------------------------------------------------------------------


def torch_step(w: Workload) -> Callable[[], float]:
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}[w.activation]
    layers: list = []
    pairs = list(zip(w.sizes[:-1], w.sizes[1:], strict=True))
    for i, (d, m) in enumerate(pairs):
        layers.append(torch.nn.Linear(d, m))
        if i < len(pairs) - 1:
            layers.append(act())
    net = torch.nn.Sequential(*layers)
    loss_fn = {
        "sse": torch.nn.MSELoss(reduction="sum"),
        "ce": torch.nn.CrossEntropyLoss(),
        "mse": torch.nn.MSELoss(),
    }[w.loss]
    opt = torch.optim.SGD(net.parameters(), lr=w.lr)
    x, y = make_data(w)
    x = torch.from_numpy(x)
    y = torch.from_numpy(y)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# -- scikit-learn -----------------------------------------------------------------------


def sklearn_step(w: Workload) -> Callable[[], float]:
    """One ``partial_fit`` on one batch: one SGD step of sklearn's MLP.

    Differences sklearn does not let us remove: its regression loss is ½·mean squared
    error (so W1/W2's sum of squares is only matched up to a constant factor, which
    does not change the work), ``partial_fit`` validates its input on every call, and
    an output activation is fixed by the estimator (identity for the regressor,
    softmax for the classifier).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    warnings.simplefilter("ignore", ConvergenceWarning)
    cls = MLPClassifier if w.loss == "ce" else MLPRegressor
    model = cls(
        hidden_layer_sizes=w.sizes[1:-1],
        activation="logistic" if w.activation == "sigmoid" else "relu",
        solver="sgd",
        alpha=0.0,
        batch_size=w.batch,
        learning_rate="constant",
        learning_rate_init=w.lr,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=False,
        random_state=0,
    )
    x, y = make_data(w)
    if w.sizes[-1] == 1:
        y = y[:, 0]
    classes = np.arange(w.sizes[-1])

    def step() -> float:
        if w.loss == "ce":
            model.partial_fit(x, y, classes=classes)
        else:
            model.partial_fit(x, y)
        return float(model.loss_)

    return step


def sklearn_dtype(step: Callable[[], float]) -> str:
    """The dtype sklearn's model actually trains in (it may upcast float32)."""
    model = next(c.cell_contents for c in step.__closure__ if hasattr(c.cell_contents, "coefs_"))
    return model.coefs_[0].dtype.name


# -- a plain hand-written NumPy loop -----------------------------------------------------


def _numpy_parameters(w: Workload):
    """(layer shapes, weights, biases) of the NumPy loops: He-scaled normal, zero bias."""
    rng = np.random.default_rng(0)
    pairs = list(zip(w.sizes[:-1], w.sizes[1:], strict=True))
    Ws = [
        (rng.standard_normal((d, m), dtype=np.float32) * np.float32(np.sqrt(2 / d)))
        for d, m in pairs
    ]
    bs = [np.zeros(m, np.float32) for _, m in pairs]
    return pairs, Ws, bs


def numpy_step(w: Workload) -> Callable[[], float]:
    """The obvious NumPy loop, as the notes write it: every intermediate a new array."""
    _, Ws, bs = _numpy_parameters(w)
    x, y = make_data(w)
    n = w.batch
    lr = np.float32(w.lr)
    rows = np.arange(n)
    sigmoid = w.activation == "sigmoid"

    def step() -> float:
        hs = [x]
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = hs[-1] @ W + b
            if i < len(Ws) - 1:
                z = 1 / (1 + np.exp(-z)) if sigmoid else np.maximum(z, 0)
            hs.append(z)
        out = hs[-1]
        if w.loss == "ce":
            e = np.exp(out - out.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            loss = -np.log(p[rows, y]).mean()
            d = p
            d[rows, y] -= 1
            d /= n
        else:
            diff = out - y
            loss = (diff**2).sum()
            if w.loss == "sse":
                d = 2 * diff
            else:
                loss /= diff.size
                d = 2 * diff / diff.size
        for i in range(len(Ws) - 1, -1, -1):
            dW = hs[i].T @ d
            db = d.sum(axis=0)
            if i > 0:
                d = d @ Ws[i].T
                d = d * hs[i] * (1 - hs[i]) if sigmoid else d * (hs[i] > 0)
            Ws[i] -= lr * dW
            bs[i] -= lr * db
        return float(loss)

    return step


def numpy_buffered_step(w: Workload) -> Callable[[], float]:
    """The same loop written for speed: every buffer allocated once, every op in place.

    This is the floor for any NumPy implementation (the same BLAS calls and no
    abstraction at all), so shenjing's ratio to it is what shenjing's layers, losses
    and optimizer cost.
    """
    pairs, Ws, bs = _numpy_parameters(w)
    x, y = make_data(w)
    n, last = w.batch, len(pairs) - 1
    lr = np.float32(w.lr)
    rows = np.arange(n)
    sigmoid = w.activation == "sigmoid"
    hs = [np.empty((n, m), np.float32) for _, m in pairs]  # layer outputs
    ds = [np.empty((n, m), np.float32) for _, m in pairs]  # gradients at them
    tmp = [np.empty((n, m), np.float32) for _, m in pairs]
    masks = [np.empty((n, m), bool) for _, m in pairs]
    dWs = [np.empty_like(W) for W in Ws]
    dbs = [np.empty_like(b) for b in bs]
    scale = np.float32(2.0 if w.loss == "sse" else 2.0 / (n * w.sizes[-1]))

    def step() -> float:
        a = x
        for i in range(len(Ws)):
            h = hs[i]
            np.matmul(a, Ws[i], out=h)
            h += bs[i]
            if i < last:
                if sigmoid:
                    np.negative(h, out=h)
                    np.exp(h, out=h)
                    h += 1
                    np.reciprocal(h, out=h)
                else:
                    np.greater(h, 0, out=masks[i])
                    np.maximum(h, 0, out=h)
            a = h
        out, d = hs[last], ds[last]
        if w.loss == "ce":
            np.subtract(out, out.max(axis=1, keepdims=True), out=d)
            np.exp(d, out=d)
            d /= d.sum(axis=1, keepdims=True)
            loss = -float(np.log(d[rows, y]).mean())
            d[rows, y] -= 1
            d *= np.float32(1 / n)
        else:
            np.subtract(out, y, out=d)
            loss = float(np.vdot(d, d)) * (1.0 if w.loss == "sse" else 1.0 / d.size)
            d *= scale
        for i in range(last, -1, -1):
            np.matmul((x if i == 0 else hs[i - 1]).T, d, out=dWs[i])
            np.sum(d, axis=0, out=dbs[i])
            if i > 0:
                prev = ds[i - 1]
                np.matmul(d, Ws[i].T, out=prev)
                if sigmoid:
                    np.subtract(1, hs[i - 1], out=tmp[i - 1])
                    prev *= hs[i - 1]
                    prev *= tmp[i - 1]
                else:
                    prev *= masks[i - 1]
                d = prev
        for W, dW, b, db in zip(Ws, dWs, bs, dbs, strict=True):
            dW *= lr
            W -= dW
            db *= lr
            b -= db
        return loss

    return step


def numpy_fused_step(w: Workload) -> Callable[[], float]:
    """The hand-optimised loop: ``numpy-buffered`` with each layer updated inside backward.

    Every buffer allocated once, every operation in place, no input gradient for the
    first layer, and each layer's ``W -= lr·dW`` and ``b -= lr·db`` run right after that
    layer's ``dW``, ``db`` and ``dx`` are computed, while they are still in cache (PyTorch
    offers the same as optimizer steps in post-accumulate-grad hooks). This is the floor
    the speed issue measures shenjing against: plain NumPy on the same BLAS.
    """
    pairs, Ws, bs = _numpy_parameters(w)
    x, y = make_data(w)
    n, last = w.batch, len(pairs) - 1
    lr = np.float32(w.lr)
    rows = np.arange(n)
    sigmoid = w.activation == "sigmoid"
    hs = [np.empty((n, m), np.float32) for _, m in pairs]
    ds = [np.empty((n, m), np.float32) for _, m in pairs]
    tmp = [np.empty((n, m), np.float32) for _, m in pairs]
    masks = [np.empty((n, m), bool) for _, m in pairs]
    dWs = [np.empty_like(W) for W in Ws]
    dbs = [np.empty_like(b) for b in bs]
    ins = [x, *hs[:-1]]  # each layer's input
    scale = np.float32(2.0 if w.loss == "sse" else 2.0 / (n * w.sizes[-1]))

    def step() -> float:
        a = x
        for i in range(len(Ws)):
            h = hs[i]
            np.matmul(a, Ws[i], out=h)
            h += bs[i]
            if i < last:
                if sigmoid:
                    np.negative(h, out=h)
                    np.exp(h, out=h)
                    h += 1
                    np.reciprocal(h, out=h)
                else:
                    np.greater(h, 0, out=masks[i])
                    np.maximum(h, 0, out=h)
            a = h
        out, d = hs[last], ds[last]
        if w.loss == "ce":
            np.subtract(out, out.max(axis=1, keepdims=True), out=d)
            np.exp(d, out=d)
            d /= d.sum(axis=1, keepdims=True)
            loss = -float(np.log(d[rows, y]).mean())
            d[rows, y] -= 1
            d *= np.float32(1 / n)
        else:
            np.subtract(out, y, out=d)
            loss = float(np.vdot(d, d)) * (1.0 if w.loss == "sse" else 1.0 / d.size)
            d *= scale
        for i in range(last, -1, -1):
            W, dW, b, db = Ws[i], dWs[i], bs[i], dbs[i]
            np.matmul(ins[i].T, d, out=dW)
            np.sum(d, axis=0, out=db)
            if i > 0:
                prev = ds[i - 1]
                np.matmul(d, W.T, out=prev)  # with W before its update
                if sigmoid:
                    np.subtract(1, hs[i - 1], out=tmp[i - 1])
                    prev *= hs[i - 1]
                    prev *= tmp[i - 1]
                else:
                    prev *= masks[i - 1]
                d = prev
            dW *= lr  # this layer's update, while dW is in cache
            W -= dW
            db *= lr
            b -= db
        return loss

    return step


IMPLEMENTATIONS = {
    "shenjing": shenjing_step,
    "torch": torch_step,
    "sklearn": sklearn_step,
    "numpy": numpy_step,
    "numpy-buffered": numpy_buffered_step,
    "numpy-fused": numpy_fused_step,
}

#: The module each peer needs; a peer whose module is missing is skipped.
REQUIRES = {"torch": "torch", "sklearn": "sklearn"}


def ceiling_step(size: int = 2048) -> tuple[Callable[[], float], int]:
    """A large square float32 matrix product: the chip's practical GEMM ceiling."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)

    def step() -> float:
        np.matmul(a, b, out=out)
        return 0.0

    return step, 2 * size**3
