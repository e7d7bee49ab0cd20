"""Each parameter of scikit-learn's MLPs, set the same way on the same data, on shenjing's
and on scikit-learn's: comparable scores, the same convergence behaviour, the same
warnings and errors.

Margins: the networks start from different random weights (shenjing's initialiser, not
scikit-learn's) and so end at different minima; training accuracy may differ by at most
``ACCURACY_MARGIN`` and R² by ``R2_MARGIN``. Small data and networks keep each fit short.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import neural_network
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.preprocessing import StandardScaler

from shenjing.sklearn import MLPClassifier, MLPRegressor

ACCURACY_MARGIN = 0.08
R2_MARGIN = 0.08

PAIRS = {
    "classifier": (MLPClassifier, neural_network.MLPClassifier),
    "regressor": (MLPRegressor, neural_network.MLPRegressor),
}


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def fit_both(kind, data, seed=0, **params):
    ours_cls, theirs_cls = PAIRS[kind]
    X, y = data
    fitted = []
    for cls in (ours_cls, theirs_cls):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = cls(random_state=seed, **params).fit(X, y)
        fitted.append((est, {w.category for w in caught}))
    return fitted


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_the_signature_is_scikit_learns_then_the_extras(kind):
    ours, theirs = (inspect.signature(c.__init__).parameters for c in PAIRS[kind])
    names = list(theirs)
    assert list(ours)[: len(names)] == names
    for name in names:
        assert ours[name].default == theirs[name].default, name
        assert ours[name].kind == theirs[name].kind, name
    assert list(ours)[len(names) :] == ["maxout_pieces", "dtype"]


# Settings in which both train to (near) convergence within max_iter, so that the
# score reflects the setting rather than the luck of the first weights.
SETTINGS = [
    dict(solver="adam", learning_rate_init=0.01),
    dict(solver="adam", learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate_init=0.05, momentum=0.5, nesterovs_momentum=False),
    dict(solver="sgd", learning_rate_init=0.05, momentum=0.0),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5, power_t=0.25),
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05),
    dict(solver="lbfgs"),
    dict(solver="lbfgs", alpha=1.0),
    dict(solver="adam", learning_rate_init=0.01, alpha=1.0),
    dict(solver="adam", learning_rate_init=0.01, batch_size=16, shuffle=False),
    dict(solver="adam", learning_rate_init=0.01, activation="tanh"),
    dict(solver="adam", learning_rate_init=0.01, activation="logistic"),
    dict(solver="adam", learning_rate_init=0.01, activation="identity"),
    dict(solver="adam", learning_rate_init=0.01, early_stopping=True, validation_fraction=0.2),
    dict(solver="sgd", learning_rate_init=0.05, early_stopping=True),
    dict(solver="adam", learning_rate_init=0.01, tol=1e-2, n_iter_no_change=3),
]


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items())


def _scores(kind, data, params):
    """Mean training score of ours and theirs, and the fitted pairs (seed 0 first).

    Early stopping holds out a fifth of 150 rows, and a loose tol stops after a few
    epochs: the stopping epoch, and so the score, swing with the split and the first
    weights, for scikit-learn's as for shenjing's; those settings are averaged over four
    seeds.
    """
    seeds = range(4) if params.get("early_stopping") or "tol" in params else range(1)
    X, y = data
    ours, theirs, fitted = [], [], []
    for seed in seeds:
        pair = fit_both(kind, data, seed=seed, hidden_layer_sizes=(16,), max_iter=150, **params)
        ours.append(pair[0][0].score(X, y))
        theirs.append(pair[1][0].score(X, y))
        fitted.append(pair)
    return float(np.mean(ours)), float(np.mean(theirs)), fitted[0]


def _converged_as_declared(est, caught):
    """The ConvergenceWarning comes exactly when max_iter stopped the run (each of them)."""
    if est.solver != "lbfgs":
        assert (ConvergenceWarning in caught) == (est.n_iter_ == est.max_iter)


@pytest.mark.parametrize("params", SETTINGS, ids=_id)
def test_classifier_scores_like_scikit_learns(params, classification):
    ours, theirs, ((a, w_a), (b, w_b)) = _scores("classifier", classification, params)
    assert abs(ours - theirs) <= ACCURACY_MARGIN
    _converged_as_declared(a, w_a)
    _converged_as_declared(b, w_b)
    _same_attributes(a, b)


@pytest.mark.parametrize("params", SETTINGS, ids=_id)
def test_regressor_scores_like_scikit_learns(params, regression):
    ours, theirs, ((a, w_a), (b, w_b)) = _scores("regressor", regression, params)
    assert abs(ours - theirs) <= R2_MARGIN
    _converged_as_declared(a, w_a)
    _converged_as_declared(b, w_b)
    _same_attributes(a, b)


def _same_attributes(ours, theirs):
    public = {a for a in vars(theirs) if a.endswith("_") and not a.startswith("_")}
    for name in public | {"coefs_", "intercepts_"}:
        assert hasattr(ours, name), name
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    # t_ counts the training rows seen, n_iter_ epochs of the same training split as
    # theirs (0 for lbfgs, as theirs).
    assert ours.t_ * max(theirs.n_iter_, 1) == theirs.t_ * max(ours.n_iter_, 1)
    if hasattr(theirs, "loss_curve_"):
        assert len(ours.loss_curve_) == ours.n_iter_
        assert (ours.validation_scores_ is None) == (theirs.validation_scores_ is None)
        assert (ours.best_loss_ is None) == (theirs.best_loss_ is None)
    for a, b in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        assert a.shape == b.shape and a.dtype == b.dtype


def test_poisson_loss_like_scikit_learns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
    (ours, _), (theirs, _) = fit_both(
        "regressor",
        (X, y),
        loss="poisson",
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        max_iter=200,
    )
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert (ours.predict(X) > 0).all()
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= R2_MARGIN
    # The final loss is half the Poisson deviance (plus the small penalty), as theirs.
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=0.1)


def test_n_iter_no_change_inf_runs_every_epoch(classification):
    (ours, w_ours), (theirs, w_theirs) = fit_both(
        "classifier",
        classification,
        hidden_layer_sizes=(8,),
        max_iter=30,
        n_iter_no_change=np.inf,
        tol=10.0,
    )
    assert ours.n_iter_ == theirs.n_iter_ == 30
    assert ConvergenceWarning in w_ours and ConvergenceWarning in w_theirs


def test_a_loose_tol_converges_early_in_both(classification):
    (ours, w_ours), (theirs, w_theirs) = fit_both(
        "classifier",
        classification,
        hidden_layer_sizes=(8,),
        max_iter=300,
        tol=0.5,
        n_iter_no_change=2,
    )
    assert ours.n_iter_ < 10 and theirs.n_iter_ < 10
    assert ConvergenceWarning not in w_ours and ConvergenceWarning not in w_theirs


def test_max_fun_stops_lbfgs_with_a_warning_in_both(classification):
    (ours, w_ours), (theirs, w_theirs) = fit_both(
        "classifier", classification, hidden_layer_sizes=(8,), solver="lbfgs", max_fun=5
    )
    assert ConvergenceWarning in w_ours and ConvergenceWarning in w_theirs
    assert ours.n_iter_ <= 5 and theirs.n_iter_ <= 5


def test_verbose_prints_each_iteration_as_scikit_learn(classification, capsys):
    for cls in PAIRS["classifier"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cls(hidden_layer_sizes=(4,), max_iter=3, verbose=True, random_state=0).fit(
                *classification
            )
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    ours, theirs = lines[:3], lines[3:]
    assert [line.split(", loss = ")[0] for line in ours] == [
        line.split(", loss = ")[0] for line in theirs
    ]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("early_stopping_two_rows", ValueError),
        ("partial_fit_early_stopping", ValueError),
        ("zero_weights", ValueError),
        ("weights_shape", ValueError),
        ("column_y", DataConversionWarning),
        ("batch_larger_than_data", UserWarning),
        ("too_few_iterations", ConvergenceWarning),
    ],
)
def test_the_same_errors_and_warnings(kind, call, error, classification, regression):
    X, y = classification if kind == "classifier" else regression
    two = [int(np.flatnonzero(y == y[0])[0]), int(np.flatnonzero(y != y[0])[0])]
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    for cls in PAIRS[kind]:
        est = cls(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
        with warnings.catch_warnings():
            if error is not ConvergenceWarning:  # 5 epochs: beside the point here
                warnings.simplefilter("ignore", ConvergenceWarning)
            expect = pytest.warns(error) if issubclass(error, Warning) else pytest.raises(error)
            with expect:
                _attempt(call, est, X, y, two, extra)


def _attempt(call, est, X, y, two, extra):
    if call == "early_stopping_two_rows":  # one training row, one validation row
        est.set_params(early_stopping=True).fit(X[two], y[two])
    elif call == "partial_fit_early_stopping":
        est.set_params(early_stopping=True).partial_fit(X, y, **extra)
    elif call == "zero_weights":
        est.fit(X, y, sample_weight=np.zeros(len(X)))
    elif call == "weights_shape":
        est.fit(X, y, sample_weight=np.ones(3))
    elif call == "column_y":
        est.fit(X, y.reshape(-1, 1))
    elif call == "batch_larger_than_data":
        est.set_params(batch_size=10_000).fit(X, y)
    else:
        est.fit(X, y)


def test_partial_fit_is_not_offered_with_lbfgs_in_both():
    for cls in PAIRS["classifier"]:
        assert not hasattr(cls(solver="lbfgs"), "partial_fit")
        assert hasattr(cls(solver="sgd"), "partial_fit")


def test_warm_start_needs_the_same_classes_in_both(classification):
    X, y = classification
    for cls in PAIRS["classifier"]:
        est = cls(hidden_layer_sizes=(4,), max_iter=3, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
            with pytest.raises(ValueError, match="warm_start"):
                est.fit(X[y != 2], y[y != 2])


def test_sample_weight_like_scikit_learns(classification):
    X, y = classification
    w = np.where(y == 0, 5.0, 1.0)
    (ours, _), (theirs, _) = fit_both(
        "classifier", (X, y), hidden_layer_sizes=(8,), solver="lbfgs", max_iter=100, alpha=1.0
    )
    plain = abs(ours.score(X, y) - theirs.score(X, y))
    assert plain <= ACCURACY_MARGIN
    results = []
    for cls in PAIRS["classifier"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = cls(
                hidden_layer_sizes=(8,), solver="lbfgs", max_iter=100, alpha=1.0, random_state=0
            ).fit(X, y, sample_weight=w)
        # Weighting class 0 up makes both recall it at least as well as unweighted.
        results.append(float(np.mean(est.predict(X[y == 0]) == 0)))
    assert abs(results[0] - results[1]) <= ACCURACY_MARGIN
    assert ours.score(X, y, sample_weight=w) == pytest.approx(
        np.average(ours.predict(X) == y, weights=w)
    )
