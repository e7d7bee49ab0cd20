"""scikit-learn's own estimator checks on shenjing's MLPs: every one it runs on its own.

Each estimator is checked with its default solver and with non-default settings
(lbfgs; sgd with Nesterov momentum and an adaptive rate; activations only shenjing
has), with no expected failures, and a test counts the checks so that none goes
missing through a tag.
"""

from __future__ import annotations

import warnings
from collections import Counter

import pytest

pytest.importorskip("sklearn")

from sklearn import neural_network
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

from shenjing.sklearn import MLPClassifier, MLPRegressor

# The checks' data are small (≤ 200 rows): a 32-unit layer with a larger step converges
# by the tol rule (without a ConvergenceWarning) well inside max_iter.
FAST = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=5000, tol=1e-3)
# scikit-learn checks its own lbfgs MLP with max_iter=100, which stops some fits
# short (a ConvergenceWarning, ignored there as here: see the test).
LBFGS = dict(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=100)
SGD = dict(
    hidden_layer_sizes=(32,),
    solver="sgd",
    momentum=0.9,
    nesterovs_momentum=True,
    learning_rate="adaptive",
    max_iter=5000,
    tol=1e-3,
)

ESTIMATORS = [
    MLPClassifier(**FAST, random_state=0),
    MLPRegressor(**FAST, random_state=0),
    MLPClassifier(**LBFGS, random_state=0),
    MLPRegressor(**LBFGS, random_state=0),
    MLPClassifier(**SGD, learning_rate_init=0.05, random_state=0),
    MLPRegressor(**SGD, learning_rate_init=0.005, random_state=0),
    MLPClassifier(activation="maxout", **FAST, random_state=0),
    MLPRegressor(activation="leaky_relu", **FAST, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    # As scikit-learn's own test of its estimators does, a fit that stops at max_iter
    # may warn (ConvergenceWarning) without failing the check.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _check_names(estimator) -> Counter:
    names: Counter = Counter()
    for _, check in estimator_checks_generator(estimator, mark=None):
        names[getattr(check, "func", check).__name__] += 1
    return names


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (MLPClassifier(), neural_network.MLPClassifier()),
        (MLPRegressor(), neural_network.MLPRegressor()),
        (MLPClassifier(solver="lbfgs"), neural_network.MLPClassifier(solver="lbfgs")),
    ],
    ids=["classifier", "regressor", "classifier-lbfgs"],
)
def test_every_check_scikit_learn_runs_on_its_own_runs_on_ours(ours, theirs):
    mine, its = _check_names(ours), _check_names(theirs)
    assert not its - mine, f"checks skipped on shenjing's: {sorted((its - mine).elements())}"
    assert sum(mine.values()) >= sum(its.values())
