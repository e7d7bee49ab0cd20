"""Agreement figures (not speed) for Dropout, BatchNorm, LayerNorm and Softmax.

Prints the float64 gradient-check error of each layer in training and evaluation mode,
the largest difference from torch 2 (forward, backward, running statistics) relative to
torch's largest value, and from onnxruntime (a network of all four, opsets 13, 17, 18)
relative to predict's largest output. Needs torch, onnx and onnxruntime. The tests pin
the same comparisons with tolerances: tests/test_batchnorm.py, test_layernorm.py,
test_softmax_layer.py, test_dropout.py, test_onnx.py.

    python benchmarks/layer_agreement.py
"""

import os
import tempfile

import numpy as np
import onnxruntime as ort
import torch

import shenjing as sj

rng = np.random.default_rng(0)
print("== gradcheck (float64, max relative error over x and every parameter)")


def layer(name):
    if name == "Dropout":
        return sj.Dropout(0.4, seed=2)
    if name == "Softmax":
        return sj.Softmax()
    lay = getattr(sj, name)(5, dtype="float64")
    for v in lay.params.values():
        v[...] = rng.standard_normal(v.shape)
    if name == "BatchNorm":
        lay.running_mean[...] = rng.standard_normal(5)
        lay.running_var[...] = rng.uniform(0.5, 2, 5)
    return lay


for name in ("Dropout", "BatchNorm", "LayerNorm", "Softmax"):
    x = rng.standard_normal((8, 5)) * 2 + 1
    for training in (True, False):
        r = sj.gradcheck(layer(name), x, training=training)
        print(f"{name:10s} training={training!s:5s} max error {r.max_error:.2e}  ok={r.ok}")

print("== torch 2 agreement: max |ours - torch| / max|torch|")


def rel(a, b):
    b = np.asarray(b)
    return float(np.abs(np.asarray(a) - b).max() / max(np.abs(b).max(), 1e-300))


for dt in ("float64", "float32"):
    tdt = getattr(torch, dt)
    ours = sj.BatchNorm(6, momentum=0.2, eps=1e-3, dtype=dt)
    theirs = torch.nn.BatchNorm1d(6, momentum=0.2, eps=1e-3, dtype=tdt)
    worst = dict(y=0, dx=0, dgamma=0, running_var=0)
    for _ in range(4):
        x = (rng.standard_normal((16, 6)) * 3 + 5).astype(dt)
        d = rng.standard_normal((16, 6)).astype(dt)
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        yt.backward(torch.tensor(d))
        worst["y"] = max(worst["y"], rel(ours.forward(x), yt.detach()))
        worst["dx"] = max(worst["dx"], rel(ours.backward(d), xt.grad))
        worst["dgamma"] = max(worst["dgamma"], rel(ours.grads["gamma"], theirs.weight.grad))
        theirs.weight.grad = theirs.bias.grad = None
        worst["running_var"] = max(
            worst["running_var"], rel(ours.running_var, theirs.running_var.detach())
        )
    ours.eval()
    theirs.eval()
    x = (rng.standard_normal((9, 6)) * 3 + 5).astype(dt)
    xt = torch.tensor(x)
    worst["eval y"] = rel(ours.forward(x), theirs(xt).detach())
    print(f"BatchNorm {dt}: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    ln = sj.LayerNorm(7, eps=1e-4, dtype=dt)
    tl = torch.nn.LayerNorm(7, eps=1e-4, dtype=tdt)
    x = (rng.standard_normal((12, 7)) * 3 + 4).astype(dt)
    d = rng.standard_normal((12, 7)).astype(dt)
    xt = torch.tensor(x, requires_grad=True)
    yt = tl(xt)
    yt.backward(torch.tensor(d))
    y_err, dx_err = rel(ln.forward(x), yt.detach()), rel(ln.backward(d), xt.grad)
    print(f"LayerNorm {dt}: y {y_err:.1e}, dx {dx_err:.1e}")
    sm = sj.Softmax()
    x = (rng.standard_normal((8, 5)) * 4).astype(dt)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.softmax(xt, 1)
    yt.backward(torch.tensor(d[:8, :5]))
    y_err, dx_err = rel(sm.forward(x), yt.detach()), rel(sm.backward(d[:8, :5]), xt.grad)
    print(f"Softmax   {dt}: y {y_err:.1e}, dx {dx_err:.1e}")

print("== onnxruntime vs predict: max |ort - predict| / max|predict| (x ~ 3 N(0,1), 4 rows x30)")
for dt in ("float32", "float64"):
    for opset in (13, 17, 18):
        kw = dict(dtype=dt)
        net = sj.Sequential(
            sj.Linear(5, 16, seed=0, **kw),
            sj.BatchNorm(16, **kw),
            sj.ReLU(),
            sj.Dropout(0.5, seed=0),
            sj.Linear(16, 8, seed=1, **kw),
            sj.LayerNorm(8, **kw),
            sj.Linear(8, 4, seed=2, **kw),
            sj.Softmax(),
        )
        for p in net.parameters():
            p.value[...] = rng.standard_normal(p.value.shape)
        net[1].running_mean[...] = rng.standard_normal(16)
        net[1].running_var[...] = rng.uniform(0.2, 3, 16)
        path = os.path.join(tempfile.mkdtemp(), "m.onnx")
        sj.export_onnx(net, path, opset=opset)
        x = rng.standard_normal((64, 5)) * 3
        x[:4] *= 30
        x = x.astype(dt)
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
            ["output"], {"input": x}
        )[0]
        print(f"{dt} opset {opset}: {rel(got, net.predict(x)):.1e}")
