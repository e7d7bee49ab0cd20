"""shenjing.sklearn: scikit-learn's own estimator checks, pipelines, search, partial_fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import make_blobs, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import shenjing as sj
from shenjing.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    return X, y


def test_sj_sklearn_is_loaded_lazily_from_the_package_root():
    assert sj.sklearn.MLPClassifier is MLPClassifier
    assert "sklearn" not in sj.__all__  # a module, reached as sj.sklearn


def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", MLPClassifier((16,), learning_rate_init=0.01, max_iter=300, random_state=0)),
        ]
    )
    grid = {"mlp__activation": ["relu", "maxout"], "mlp__alpha": [1e-4, 1e-1]}
    search = GridSearchCV(pipe, grid, cv=3)
    with pytest.warns(ConvergenceWarning):  # 300 epochs is short of the tol rule here
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["mlp__activation"] in ("relu", "maxout")
    assert search.best_score_ > 0.85
    best = search.best_estimator_.named_steps["mlp"]
    assert isinstance(best.net_, sj.Sequential)
    assert search.score(X, y) > 0.85
    assert search.predict(X).shape == y.shape


@pytest.mark.parametrize("activation", [*sj.activations.names(), "maxout"])
def test_every_activation_learns(activation, blobs):
    X, y = blobs
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(
        (16,), activation=activation, learning_rate_init=0.02, max_iter=150, random_state=0
    )
    with warnings.catch_warnings():  # some converge before 150 epochs, some do not
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.score(X, y) > 0.85
    assert clf.n_iter_ == len(clf.loss_curve_) <= 150
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    if activation == "maxout":
        assert isinstance(clf.net_[0], sj.Maxout) and clf.net_[0].pieces == 2
    else:
        assert type(clf.net_[1]) is type(sj.activations.get(activation))


def test_binary_classifier_has_one_logit_and_string_labels():
    X, y = make_blobs(n_samples=80, centers=2, n_features=3, random_state=1)
    labels = np.array(["no", "yes"])[y]
    clf = MLPClassifier((8,), learning_rate_init=0.02, max_iter=2000, tol=1e-3, random_state=0)
    clf.fit(X, labels)
    assert clf.net_[-1].out_features == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"no", "yes"}
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) > 0.95
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_random_state_reproduces_the_run(blobs):
    X, y = blobs
    kw = dict(hidden_layer_sizes=(8,), max_iter=30, batch_size=16)
    with pytest.warns(ConvergenceWarning):
        a = MLPClassifier(random_state=3, **kw).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        b = MLPClassifier(random_state=3, **kw).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        c = MLPClassifier(random_state=4, **kw).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.net_[0].W, c.net_[0].W)
    # A RandomState instance is consumed, as scikit-learn's own estimators do.
    rs = np.random.RandomState(0)
    with pytest.warns(ConvergenceWarning):
        d = MLPClassifier(random_state=rs, **kw).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        e = MLPClassifier(random_state=rs, **kw).fit(X, y)
    assert d.loss_curve_ != e.loss_curve_


def test_partial_fit_classifier(blobs):
    X, y = blobs
    clf = MLPClassifier((16,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(sj.ConfigError, match="classes="):
        clf.partial_fit(X, y)
    # The first batch lacks class 2; classes= declares it.
    first = y != 2
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (150, 3) and clf.n_outputs_ == 3
    for _ in range(40):
        clf.partial_fit(X, y)
    # As scikit-learn: n_iter_ counts the last call's epochs, t_ and loss_curve_ all.
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 41
    assert clf.t_ == first.sum() + 40 * len(X)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[1]
    assert clf.score(X, y) > 0.85
    with pytest.raises(sj.DataError, match="differs from the classes of the first"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(sj.DataError, match=r"not in classes_.*\[7\]"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)


def test_partial_fit_continues_where_fit_stopped():
    X, y = make_regression(n_samples=60, n_features=3, noise=0.1, random_state=0)
    y = y / y.std()
    reg = MLPRegressor(
        hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=20, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    weights = reg.net_[0].W.copy()
    reg.partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 21
    assert not np.array_equal(weights, reg.net_[0].W)
    with pytest.raises(sj.DataError, match="target column"):
        reg.partial_fit(X, np.c_[y, y])


def test_fit_starts_again_from_fresh_weights(blobs):
    X, y = blobs
    clf = MLPClassifier((8,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    first_curve = list(clf.loss_curve_)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.loss_curve_ == first_curve and clf.n_iter_ == 5


def test_regressor_single_and_multi_output():
    X, Y = make_regression(n_samples=120, n_features=4, n_targets=2, noise=1.0, random_state=0)
    Y = Y / Y.std(axis=0)
    kw = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=3000, tol=1e-4)
    one = MLPRegressor(random_state=0, **kw).fit(X, Y[:, 0])
    assert one.predict(X).shape == (120,) and one.n_outputs_ == 1
    assert one.score(X, Y[:, 0]) > 0.95
    two = MLPRegressor(random_state=0, **kw).fit(X, Y)
    assert two.predict(X).shape == (120, 2) and two.n_outputs_ == 2
    assert two.score(X, Y) > 0.95
    assert one.n_iter_ < 3000  # stopped by the tol rule, not by max_iter


def test_early_stopping_keeps_the_best_validation_epoch(blobs):
    X, y = blobs
    clf = MLPClassifier(
        (16,),
        learning_rate_init=0.01,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=5,
        max_iter=500,
        random_state=0,
    ).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < 500
    assert clf.best_validation_score_ == max(scores) > 0.85
    assert clf.best_loss_ is None  # as in scikit-learn: the loss was not the criterion
    assert clf.score(X, y) > 0.85
    # Without early stopping there are no validation scores, as in scikit-learn.
    with pytest.warns(ConvergenceWarning):
        plain = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None


def test_convergence_warning_names_max_iter(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3 epochs reached"):
        MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)


def test_feature_names_from_a_data_frame(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier((4,), max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert clf.n_features_in_ == 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"activation": "sigmoidd"}, r"valid names: .*maxout"),
        ({"solver": "lbfgsb"}, r"Unknown solver 'lbfgsb'; valid names: lbfgs, adagrad"),
        ({"learning_rate": "cyclic"}, "learning_rate must be one of constant"),
        ({"momentum": 1.5}, "Invalid momentum"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"max_fun": 0}, "max_fun must be a positive integer"),
        ({"warm_start": "no"}, "warm_start must be True or False"),
        ({"hidden_layer_sizes": (8, 0)}, r"hidden_layer_sizes\[1\] must be a positive integer"),
        ({"hidden_layer_sizes": "8"}, "hidden_layer_sizes must be an int or a sequence"),
        ({"alpha": -1.0}, "Invalid alpha"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate_init": 0.0}, "Invalid learning_rate_init"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"validation_fraction": 1.0}, "Invalid validation_fraction"),
        ({"maxout_pieces": 1, "activation": "maxout"}, "maxout_pieces must be at least 2"),
        ({"shuffle": "yes"}, "shuffle must be True or False"),
        ({"dtype": "int8"}, "dtype must be 'float32' or 'float64'"),
        ({"random_state": -1.5}, "random_state must be None, a non-negative int"),
        ({"random_state": -1}, "random_state must be None, a non-negative int"),
    ],
)
def test_bad_parameters_fail_in_fit_not_init(params, message, blobs):
    X, y = blobs
    clf = MLPClassifier(**params)  # scikit-learn's rule: __init__ only stores
    assert clf.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(sj.ShenjingError, match=message):
        clf.fit(X, y)


def test_one_class_is_refused():
    with pytest.raises(sj.DataError, match="only one class"):
        MLPClassifier().fit(np.ones((5, 2)), [3] * 5)


def test_float32_network():
    X, y = make_blobs(n_samples=60, centers=2, n_features=2, random_state=0)
    clf = MLPClassifier((8,), dtype="float32", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.net_.dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32


def test_alpha_penalises_weights_not_biases():
    # One hand-worked full-batch SGD step of a linear model, as scikit-learn takes it:
    # L = ½ mean((XW + b - y)²) + alpha/(2N)‖W‖²; W -= lr (dW + alpha/N W), b -= lr db.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    reg = MLPRegressor(
        hidden_layer_sizes=(),
        solver="sgd",
        momentum=0.0,
        alpha=0.5,
        batch_size=8,
        learning_rate_init=0.1,
        shuffle=False,
        random_state=0,
    )
    reg.partial_fit(X, y)
    W, b = reg.coefs_[0].copy(), reg.intercepts_[0].copy()
    reg.partial_fit(X, y)
    residual = (X @ W + b)[:, 0] - y
    dW = X.T @ residual[:, None] / 8 + 0.5 / 8 * W
    db = residual.sum() / 8
    np.testing.assert_allclose(reg.coefs_[0], W - 0.1 * dW, rtol=1e-12)
    np.testing.assert_allclose(reg.intercepts_[0], b - 0.1 * db, rtol=1e-12)
    loss = 0.5 * np.mean(residual**2) + 0.5 * 0.5 / 8 * float((W**2).sum())
    assert reg.loss_curve_[-1] == pytest.approx(loss, rel=1e-12)


def test_loss_curve_includes_the_penalty(blobs):
    # One full-batch epoch with a negligible step: the recorded loss is the data loss
    # plus alpha/(2·B)·Σ‖W‖² over the weight matrices (the biases are not penalised).
    X, y = blobs
    clf = MLPClassifier(
        (8,), alpha=10.0, batch_size=150, learning_rate_init=1e-12, max_iter=1, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    data_loss = clf.net_.evaluate(X, y, loss="softmax_cross_entropy")["loss"]
    penalty = 0.5 * (10.0 / 150) * sum(float((layer.W**2).sum()) for layer in clf.net_[::2])
    assert penalty > 0.01 * data_loss
    assert clf.loss_curve_[0] == pytest.approx(data_loss + penalty, rel=1e-9)


def test_clone_keeps_parameters_only(blobs):
    X, y = blobs
    clf = MLPClassifier((4,), max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "net_")


def test_partial_fit_refuses_early_stopping(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    with pytest.raises(sj.ConfigError, match="partial_fit does not support early_stopping"):
        clf.partial_fit(X, y)


def test_training_goes_on_after_a_read_only_memory_mapped_load(blobs, tmp_path):
    joblib = pytest.importorskip("joblib")
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), alpha=1e-3, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    joblib.dump(clf, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib", mmap_mode="r")
    before = loaded.predict_proba(X)
    loaded.partial_fit(X, y)  # the weight penalty's work buffers must be writable too
    assert not np.array_equal(loaded.predict_proba(X), before)
