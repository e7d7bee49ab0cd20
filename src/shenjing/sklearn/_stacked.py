"""The lbfgs objective's passes over a dense X, run in the transposed layout.

``solver="lbfgs"`` runs the network on every row at once, 50 to 15,000 times on the same
X. For a stack of :class:`~shenjing.nn.linear.Linear` layers and elementwise
activations (every network scikit-learn's MLP builds, and shenjing's with any
elementwise activation), :class:`StackedPasses` runs the same forward and backward
pass with the hidden activations held transposed, one row per unit (``aᵀ``, shape
(units, N)), and the first layer's bias folded into its matrix product:

    forward, hidden layer:   zᵀ = Wᵀ aᵀ + b          aᵀ ← f(zᵀ)       (f elementwise)
    forward, first layer:    zᵀ = [W; b]ᵀ [xᵀ; 1]     (one product, no bias pass)
    forward, output layer:   zᵀ = Wᵀ aᵀ + b,  z = (zᵀ)ᵀ  (copied into rows, for the loss)
    backward, output layer:  dW = aᵀ dz               db = Σ_n dz[n]    daᵀ = W dzᵀ
    backward, hidden layer:  dzᵀ = f'(zᵀ) ⊙ daᵀ       dW = aᵀ dzᵀᵀ      db = Σ_n dzᵀ[:, n]
    backward, first layer:   [dW; db] = [xᵀ; 1] dzᵀᵀ  (one product; no dx)

Why: the products are the same as the row layout's, but OpenBLAS runs these shapes
(few rows, N long columns) faster, a hidden bias's sum runs along contiguous rows, and
the first layer's bias add and bias sum, each a full pass over an (N, units) array,
disappear into its two products. On digits (1797 x 64, 100 hidden units, float64,
one BLAS thread) one evaluation took 1.85 ms against the row layout's 2.1-2.5 ms.

The cost is one copy of X, transposed, with a row of ones: ``STACK_LIMIT`` bytes at
most, past which the objective runs the network's own passes (row layout, no copy).
[W; b] is one matrix because the objective made each layer's W and b adjacent slices
of one flat θ (and their gradients of one flat ∇f); :func:`stack` checks that.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.activations import Activation
from ..nn.linear import Linear

#: The largest copy of X (transposed, with a row of ones) the stacked passes make.
STACK_LIMIT = 256 * 2**20


class StackedPasses:
    """Forward and backward of a Linear/activation stack over all the rows of X at once.

    ``forward()`` returns the predictions (N, K) in rows; ``backward(dout)`` takes the
    loss's gradient (N, K) and writes every Linear layer's ``grads["W"]`` and
    ``grads["b"]`` in place, as the network's own backward pass would (up to rounding).
    Built by :func:`stack`, which says whether a network qualifies.
    """

    def __init__(
        self,
        groups: list[tuple[Linear, list[Activation]]],
        xt: np.ndarray,
        wb: np.ndarray,
        gwb: np.ndarray,
    ) -> None:
        self._groups = groups
        self._xt = xt  # [xᵀ; 1], (D + 1, N)
        n, dtype = xt.shape[1], xt.dtype
        # [W; b] and [dW; db] of the first layer, as single (D + 1, units) matrices.
        self._wb, self._gwb = wb, gwb
        # zᵀ of each layer, (units, N); the prediction z in rows, (N, K).
        self._zt = [np.empty((lin.out_features, n), dtype) for lin, _ in groups]
        self._pred = np.empty((n, groups[-1][0].out_features), dtype)
        self._ones = np.ones(n, dtype)  # Σ_n dz[n] as a product: 1ᵀ dz
        # daᵀ reaching each layer after the first, (in_features, N).
        self._dat = [np.empty((lin.in_features, n), dtype) for lin, _ in groups[1:]]
        self._inputs: list[np.ndarray] = []

    def forward(self) -> np.ndarray:
        at = self._xt
        inputs = self._inputs = []
        for i, (lin, acts) in enumerate(self._groups):
            inputs.append(at)
            zt = self._zt[i]
            if i == 0:
                np.matmul(self._wb.T, at, out=zt)  # [W; b]ᵀ [xᵀ; 1] = Wᵀxᵀ + b
            else:
                np.matmul(lin.params["W"].T, at, out=zt)  # zᵀ = Wᵀ aᵀ + b
                zt += lin.params["b"][:, None]
            for act in acts:
                zt = act.forward_unchecked(zt)  # elementwise: any layout will do
            at = zt
        np.copyto(self._pred, at.T)  # the loss takes rows: z = (zᵀ)ᵀ
        return self._pred

    def backward(self, dout: np.ndarray) -> None:
        last, inputs = len(self._groups) - 1, self._inputs
        lin = self._groups[last][0]
        if last == 0:
            np.matmul(inputs[0], dout, out=self._gwb)  # [xᵀ; 1] dz = [dW; db]
            return
        np.matmul(inputs[last], dout, out=lin.grads["W"])  # dW = aᵀ dz
        # db = Σ_n dz[n], as 1ᵀ dz: NumPy's sum down the N short rows took 3x as long.
        np.matmul(self._ones, dout, out=lin.grads["b"])
        dt = self._dat[last - 1]
        np.matmul(lin.params["W"], dout.T, out=dt)  # daᵀ = W dzᵀ
        for i in range(last - 1, -1, -1):
            lin, acts = self._groups[i]
            for act in reversed(acts):
                dz = act.backward_unchecked(dt)  # dzᵀ = f'(zᵀ) ⊙ daᵀ
                assert dz is not None  # need_dx defaults to True; narrows the type
                dt = dz
            if i == 0:
                np.matmul(inputs[0], dt.T, out=self._gwb)  # [xᵀ; 1] dzᵀᵀ = [dW; db]
                return
            np.matmul(inputs[i], dt.T, out=lin.grads["W"])  # dW = aᵀ dzᵀᵀ
            np.add.reduce(dt, axis=1, out=lin.grads["b"])  # db = Σ_n dzᵀ[:, n]
            below = self._dat[i - 1]
            np.matmul(lin.params["W"], dt, out=below)  # daᵀ = W dzᵀ
            dt = below


def stack(net: Any, X: Any, values: np.ndarray, grads: np.ndarray) -> StackedPasses | None:
    """:class:`StackedPasses` for ``net`` on a dense X, or ``None`` when it does not apply.

    It applies to Linear layers with biases, each followed by any number of elementwise
    activations, ending in a Linear layer, where the first layer's W and b are
    consecutive slices of the flat ``values`` (their gradients of ``grads``), and the
    copy of X fits ``STACK_LIMIT``.
    """
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        return None
    groups: list[tuple[Linear, list[Activation]]] = []
    for layer in net.layers:
        if type(layer) is Linear and layer.bias:
            groups.append((layer, []))
        elif isinstance(layer, Activation) and groups:
            groups[-1][1].append(layer)
        else:
            return None  # Maxout, normalisation, dropout, a leading activation, ...
    if not groups or groups[-1][1]:
        return None  # the loss must see the last Linear layer's output
    first = groups[0][0]
    wb = _joined(values, first.params["W"], first.params["b"])
    gwb = _joined(grads, first.grads["W"], first.grads["b"])
    if wb is None or gwb is None:
        return None
    dtype = first.params["W"].dtype
    n, d = X.shape
    if (d + 1) * n * dtype.itemsize > STACK_LIMIT:
        return None
    xt = np.empty((d + 1, n), dtype)
    xt[:d] = X.T
    xt[d] = 1
    return StackedPasses(groups, xt, wb, gwb)


def _joined(flat: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The (D + 1, M) matrix [w; b], a view of ``flat``, when ``w`` (D, M, C-ordered) and
    then ``b`` (M,) are consecutive slices of the 1-D ``flat``; otherwise ``None``."""
    d, m = w.shape
    if not w.flags.c_contiguous or b.shape != (m,) or w.dtype != flat.dtype:
        return None
    start, rest = divmod(w.ctypes.data - flat.ctypes.data, flat.itemsize)
    if rest or start < 0 or start + (d + 1) * m > flat.size:
        return None
    joined = flat[start : start + (d + 1) * m].reshape(d + 1, m)
    if joined.ctypes.data != w.ctypes.data or joined[d].ctypes.data != b.ctypes.data:
        return None
    return joined
