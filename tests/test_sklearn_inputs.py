"""shenjing.sklearn's inputs and attributes: sparse matrices a chunk at a time, multi-label
targets, float32, labels of any type, sample weights, warm starts, the two bugs fixed,
search and pipelines, and shenjing's extras on a fitted estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import scipy.sparse as sp
from sklearn import neural_network
from sklearn.datasets import make_blobs, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import shenjing as sj
from shenjing.sklearn import MLPClassifier, MLPRegressor, _data


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    return X, y


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_trains_as_the_dense_one(solver, fmt, blobs):
    X, y = blobs
    kw = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=20, batch_size=32, random_state=0)
    dense = quiet(MLPClassifier(**kw).fit, X, y)
    sparse = quiet(MLPClassifier(**kw).fit, sp.csr_matrix(X).asformat(fmt), y)
    for a, b in zip(dense.coefs_, sparse.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)), rtol=1e-10
    )


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_a_sparse_matrix_is_densified_a_chunk_at_a_time(solver, monkeypatch):
    rng = np.random.default_rng(0)
    X = sp.random(3000, 40, density=0.05, format="csr", random_state=0)
    y = rng.normal(size=3000)
    rows = []
    dense = _data.dense

    def spy(matrix, part=None):
        out = dense(matrix, part)
        rows.append(len(out))
        return out

    monkeypatch.setattr(_data, "dense", spy)
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver=solver, max_iter=2, batch_size=100)
    quiet(reg.fit, X, y)
    reg.predict(X)
    assert rows and max(rows) <= _data.CHUNK_ROWS < X.shape[0]


def test_multilabel_targets_have_logistic_outputs_per_label():
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    kw = dict(hidden_layer_sizes=(16,), max_iter=200, random_state=0)
    clf = quiet(MLPClassifier(**kw).fit, X, Y)
    theirs = quiet(neural_network.MLPClassifier(**kw).fit, X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 4) and ((proba > 0) & (proba < 1)).all()
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    # Per label, as good as scikit-learn's (within 0.05); its loss is theirs (summed
    # over the labels), to within 20%.
    assert np.mean(clf.predict(X) == Y) >= np.mean(theirs.predict(X) == Y) - 0.05
    assert clf.loss_ == pytest.approx(theirs.loss_, rel=0.2)
    quiet(clf.partial_fit, X, Y)  # later calls take the indicator matrix too
    with pytest.raises(sj.DataError, match="indicator matrix"):
        clf.partial_fit(X, Y[:, :3])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_stays_float32(solver, blobs):
    X, y = blobs
    X32 = X.astype(np.float32)
    clf = quiet(MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=5).fit, X32, y)
    assert clf.net_.dtype == np.float32
    assert {c.dtype for c in clf.coefs_ + clf.intercepts_} == {np.dtype(np.float32)}
    assert clf.predict_proba(X32).dtype == np.float32
    reg = quiet(MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=5).fit, X32, X[:, 0])
    assert reg.predict(X32).dtype == np.float32
    as64 = quiet(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5).fit, X, y)
    assert as64.coefs_[0].dtype == np.float64


@pytest.mark.parametrize(
    "labels", [["cat", "dog", "emu"], [True, False, True], [2.0, -1.0, 7.0]], ids=str
)
def test_labels_of_any_type_are_kept(labels, blobs):
    X, y = blobs
    named = np.asarray(labels)[y]
    clf = quiet(MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit, X, named)
    np.testing.assert_array_equal(clf.classes_, np.unique(named))
    assert clf.predict(X).dtype == clf.classes_.dtype
    assert set(clf.predict(X)) <= set(np.unique(named))


def test_an_unknown_label_is_named_as_given(blobs):
    X, y = blobs
    named = np.array(["cat", "dog", "emu"])[y]
    clf = quiet(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit, X, named)
    with pytest.raises(sj.DataError, match=r"\['cat', 'dog', 'emu'\]: \['yak'\]"):
        clf.partial_fit(X[:2], ["cat", "yak"])


def test_coefs_are_the_networks_weights(blobs):
    X, y = blobs
    clf = quiet(MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=3).fit, X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 8), (8, 6), (6, 3)]
    assert clf.coefs_[0] is clf.net_[0].W and clf.intercepts_[2] is clf.net_[4].b
    clf.coefs_[1][...] = 0.0  # writing through the views changes the network
    assert not clf.net_[2].W.any()
    before = clf.coefs_[0].copy()
    quiet(clf.partial_fit, X, y)
    assert not np.array_equal(before, clf.coefs_[0]) and clf.coefs_[0] is clf.net_[0].W


def test_sample_weight_in_partial_fit_counts_rows(blobs):
    X, y = blobs
    X, y = X[:40], y[:40]
    w = np.random.default_rng(0).integers(1, 4, len(X))  # ≤ 120 rows: one "auto" batch
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, random_state=0)
    a = MLPClassifier(**kw).partial_fit(X, y, sample_weight=w, classes=[0, 1, 2])
    b = MLPClassifier(**kw).partial_fit(np.repeat(X, w, 0), np.repeat(y, w), classes=[0, 1, 2])
    for p, q in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    assert a.loss_ == pytest.approx(b.loss_, rel=1e-12)


@pytest.mark.parametrize("kind", [MLPClassifier, MLPRegressor])
def test_warm_start_continues_exactly_where_fit_stopped(kind, blobs):
    X, y = blobs
    kw = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.0,
        shuffle=False,
        n_iter_no_change=np.inf,
        learning_rate_init=0.01,
        random_state=0,
    )
    once = quiet(kind(max_iter=7, **kw).fit, X, y)
    twice = quiet(kind(max_iter=3, **kw).fit, X, y)
    quiet(twice.set_params(warm_start=True, max_iter=4).fit, X, y)
    for a, b in zip(once.coefs_ + once.intercepts_, twice.coefs_ + twice.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert twice.loss_curve_ == once.loss_curve_ and twice.t_ == once.t_ == 7 * len(X)
    assert twice.n_iter_ == 4  # the last fit's epochs, as scikit-learn counts


def test_early_stopping_on_two_rows_raises():
    with pytest.raises(sj.DataError, match="needs at least 2"):
        MLPRegressor(early_stopping=True).fit([[0.0], [1.0]], [0.0, 1.0])


def test_divergence_under_early_stopping_is_shenjings_error():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)) * 1e3
    y = X @ [1e3, -1e3, 5e2]
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1.0,
        early_stopping=True,
        max_iter=50,
        random_state=0,
    )
    with pytest.raises(sj.DivergenceError):
        reg.fit(X, y)


def test_grid_search_over_solver_learning_rate_and_alpha(blobs):
    X, y = blobs
    grid = {
        "solver": ["sgd", "adam", "lbfgs"],
        "learning_rate": ["constant", "adaptive"],
        "alpha": [1e-4, 1.0],
    }
    search = GridSearchCV(
        MLPClassifier(
            hidden_layer_sizes=(8,), learning_rate_init=0.05, max_iter=60, random_state=0
        ),
        grid,
        cv=3,
    )
    quiet(search.fit, X, y)
    assert len(search.cv_results_["params"]) == 12
    assert search.best_score_ > 0.85 and search.best_params_["solver"] in grid["solver"]


def test_pipeline_on_a_sparse_text_like_matrix():
    rng = np.random.default_rng(0)
    words = [[f"a{i}" for i in range(30)], [f"b{i}" for i in range(30)]]
    docs, labels = [], []
    for n in range(120):
        topic = n % 2
        picks = rng.choice(words[topic], 8).tolist() + rng.choice(words[1 - topic], 3).tolist()
        docs.append(" ".join(picks))
        labels.append(["sport", "music"][topic])
    pipe = make_pipeline(
        TfidfVectorizer(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=100, random_state=0)
    )
    quiet(pipe.fit, docs, labels)
    assert pipe[-1].n_features_in_ == len(pipe[0].vocabulary_) == 60
    assert pipe.score(docs, labels) > 0.9
    assert set(pipe.predict(["a1 a2 a3 b4"])) <= {"sport", "music"}


def test_the_extras_work_on_a_fitted_estimator(blobs, tmp_path):
    X, y = blobs
    clf = quiet(
        MLPClassifier(
            hidden_layer_sizes=(8,), activation="leaky_relu", max_iter=30, random_state=0
        ).fit,
        X,
        y,
    )
    report = sj.diagnose(clf.net_, X, y, loss="softmax_cross_entropy")
    assert report is not None
    path = tmp_path / "clf.shj"
    sj.save(clf.net_, path)
    np.testing.assert_allclose(sj.load(path).predict_proba(X), clf.predict_proba(X))
