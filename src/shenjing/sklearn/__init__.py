"""scikit-learn estimators built on shenjing: ``MLPClassifier`` and ``MLPRegressor``.

A drop-in for ``sklearn.neural_network``'s: every parameter of scikit-learn 1.9's MLPs,
with the same names, order, defaults and meaning (``MLPRegressor``'s first parameter is
``loss``), the same fitted attributes (``coefs_``, ``intercepts_``, ``n_layers_``,
``n_outputs_``, ``out_activation_``, ``t_``, ``loss_``, ``loss_curve_``, ``best_loss_``…)
and the same inputs (``sample_weight`` in ``fit`` and ``partial_fit``, scipy sparse CSR/CSC
matrices, multi-label indicator targets, float32 kept float32, labels of any type).
What they add: every shenjing activation (leaky ReLU, ELU, softplus, GELU…) and
``"maxout"``, shenjing's other optimizers as ``solver``, and the network itself, a plain
:class:`shenjing.Sequential` kept as ``net_``: ``sj.diagnose(est.net_, X)``,
``sj.save(est.net_, path)`` and ``sj.export_onnx(est.net_, path)`` work on it.

This package is the only part of shenjing that imports scikit-learn
(``pip install 'shenjing[sklearn]'``).

Training, as in scikit-learn:

* mini-batch solvers (``"adam"``, ``"sgd"``): an epoch is one pass over the (shuffled)
  rows in mini-batches of ``batch_size`` (``"auto"``: min(200, N)); each minimises the
  batch's weighted mean loss plus ``alpha / (2 Σ w) · Σ‖W‖²`` on the weight matrices
  (not the biases), w the rows' sample weights (1 by default); see
  :mod:`shenjing.sklearn._stochastic` for the schedules (``learning_rate``) and the
  stopping rule (``tol``, ``n_iter_no_change``, ``early_stopping``);
* ``"lbfgs"``: the same objective over all rows, minimised by
  ``scipy.optimize.minimize(method="L-BFGS-B")`` with ``max_iter``, ``max_fun`` and
  ``gtol=tol`` (:mod:`shenjing.sklearn._lbfgs`);
* the losses are scikit-learn's: log loss (summed over the labels for multi-label), half
  the squared error, half the Poisson deviance (``loss="poisson"``, predictions e^z);
* ``partial_fit`` runs one epoch and never stops early; ``warm_start=True`` makes ``fit``
  go on from the current weights (with a new optimizer state, as scikit-learn).

Example:
    >>> from shenjing.sklearn import MLPClassifier
    >>> X, y = sj.datasets.spiral(points_per_class=50, classes=3, seed=0)
    >>> clf = MLPClassifier((32,), activation="leaky_relu", learning_rate_init=0.02,
    ...                     tol=1e-3, max_iter=1000, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
"""

from __future__ import annotations

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
