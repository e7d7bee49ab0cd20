"""Metrics: accuracy, rmse, mae and r2 against direct formulas, streamed or in one pass."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shenjing.metrics import predicted_classes

import shenjing as sj


def one_pass(name, pred, target, **kwargs):
    metric = sj.metrics.get(name, **kwargs)
    metric.update(pred, target)
    return metric.result()


def streamed(name, pred, target, cuts, **kwargs):
    metric = sj.metrics.get(name, **kwargs)
    for start, stop in zip([0, *cuts], [*cuts, len(pred)], strict=True):
        metric.update(pred[start:stop], target[start:stop])
    return metric.result()


# -- accuracy ------------------------------------------------------------------------------


def test_accuracy_with_labels():
    pred = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 4.0, 2.0]])
    labels = np.array([0, 1, 0, 2])
    assert one_pass("accuracy", pred, labels) == 2 / 4


def test_accuracy_with_one_hot_rows_equals_labels(rng):
    pred = rng.standard_normal((50, 4))
    labels = rng.integers(0, 4, 50)
    expected = np.mean(pred.argmax(axis=1) == labels)
    assert 0 < expected < 1
    assert one_pass("accuracy", pred, labels) == expected
    assert one_pass("accuracy", pred, np.eye(4)[labels]) == expected


def test_accuracy_with_a_single_output_reads_score_above_zero():
    pred = np.array([[0.3], [-0.2], [2.0], [-1.0], [0.0]])
    # score > 0 means class 1 (probability above one half); 0 itself is class 0
    assert one_pass("accuracy", pred, np.array([[1.0], [0.0], [0.0], [0.0], [0.0]])) == 4 / 5
    assert one_pass("accuracy", pred, np.array([[1.0], [1.0], [1.0], [0.0], [1.0]])) == 3 / 5


def test_multilabel_accuracy_counts_every_output():
    pred = np.array([[1.0, -1.0], [-2.0, 0.5], [0.1, 0.2]])
    target = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    # right: (0,0) (0,1) (1,1) (2,1); wrong: (1,0) (2,0)
    assert one_pass("accuracy", pred, target, multilabel=True) == 4 / 6


def test_accuracy_streamed_equals_one_pass(rng):
    pred = rng.standard_normal((37, 3))
    labels = rng.integers(0, 3, 37)
    assert streamed("accuracy", pred, labels, [5, 6, 20]) == one_pass("accuracy", pred, labels)


def test_predicted_classes():
    np.testing.assert_array_equal(
        predicted_classes(np.array([[1.0, 3.0, 2.0], [5.0, 0.0, 0.0]])), [1, 0]
    )
    np.testing.assert_array_equal(predicted_classes(np.array([[0.1], [-0.1], [0.0]])), [1, 0, 0])


# -- regression metrics ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(20, 1), (15, 3)], ids=str)
def test_rmse_and_mae_against_numpy(shape, rng):
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    rmse = math.sqrt(np.mean((pred - target) ** 2))
    mae = np.mean(np.abs(pred - target))
    assert one_pass("rmse", pred, target) == pytest.approx(rmse, rel=1e-15)
    assert one_pass("mae", pred, target) == pytest.approx(mae, rel=1e-15)
    assert streamed("rmse", pred, target, [1, 7]) == pytest.approx(rmse, rel=1e-14)
    assert streamed("mae", pred, target, [1, 7]) == pytest.approx(mae, rel=1e-14)


def test_regression_metrics_take_flat_targets_for_one_output(rng):
    pred, target = rng.standard_normal((10, 1)), rng.standard_normal(10)
    for name in ("rmse", "mae", "r2"):
        assert one_pass(name, pred, target) == one_pass(name, pred, target[:, None])


def r2_direct(pred, target):
    """1 - SS_res / SS_tot per output, averaged over outputs."""
    ss_res = np.sum((target - pred) ** 2, axis=0)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / ss_tot))


@pytest.mark.parametrize("shape", [(20, 1), (30, 4)], ids=str)
def test_r2_against_the_formula(shape, rng):
    target = rng.standard_normal(shape)
    pred = target + 0.3 * rng.standard_normal(shape)
    expected = r2_direct(pred, target)
    assert 0.5 < expected < 1
    assert one_pass("r2", pred, target) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    ("offset", "rtol"),
    [
        (0.0, 1e-12),
        # Merging batch means of size 1e6 (Chan et al.) costs about eps * 1e6 = 2e-10 of
        # relative accuracy; a naive Σy² - (Σy)²/n would lose eps * 1e12 = 2e-4 (9e-5 on
        # this data), so 1e-8 still tells the two apart.
        (1e6, 1e-8),
    ],
)
def test_r2_streamed_over_batches_equals_one_pass(offset, rtol, rng):
    target = offset + rng.standard_normal((41, 2))
    pred = target + 0.5 * rng.standard_normal((41, 2))
    whole = one_pass("r2", pred, target)
    expected = r2_direct(pred, target)
    assert whole == pytest.approx(expected, rel=1e-12)
    assert streamed("r2", pred, target, [1, 2, 10, 25]) == pytest.approx(expected, rel=rtol)
    assert streamed("r2", pred, target, [20]) == pytest.approx(expected, rel=rtol)


def test_r2_conventions():
    target = np.array([[1.0], [2.0], [3.0]])
    assert one_pass("r2", target.copy(), target) == 1.0
    assert one_pass("r2", np.full((3, 1), 2.0), target) == 0.0  # predicting the mean
    assert one_pass("r2", np.full((3, 1), 5.0), target) < 0.0
    constant = np.full((4, 1), 7.0)
    assert one_pass("r2", constant.copy(), constant) == 1.0
    assert one_pass("r2", constant + 1.0, constant) == 0.0
    assert math.isnan(one_pass("r2", np.ones((1, 1)), np.ones((1, 1))))


@pytest.mark.parametrize("name", ["accuracy", "rmse", "mae", "r2"])
def test_result_before_any_update_is_nan_and_reset_forgets(name, rng):
    metric = sj.metrics.get(name)
    assert math.isnan(metric.result())
    pred, target = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    target_for = np.eye(2)[[0, 1, 1, 0, 1, 0]] if name == "accuracy" else target
    metric.update(pred + 100.0, target_for)
    metric.reset()
    metric.update(pred, target_for)
    assert metric.result() == one_pass(name, pred, target_for)


# -- macro-F1, and the one-pass functions ---------------------------------------------


def direct_macro_f1(y, pred):
    scores = []
    for k in np.union1d(y, pred):
        tp = np.sum((pred == k) & (y == k))
        fp = np.sum((pred == k) & (y != k))
        fn = np.sum((pred != k) & (y == k))
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def test_macro_f1_matches_the_formula_streamed_or_not(rng):
    y = rng.integers(0, 4, size=60)
    scores = rng.normal(size=(60, 4))
    expected = direct_macro_f1(y, scores.argmax(axis=1))
    assert one_pass("macro_f1", scores, y) == expected
    assert streamed("f1_macro", scores, y, [7, 30, 31]) == expected
    assert one_pass("macro_f1", scores, np.eye(4)[y]) == expected  # one-hot rows
    assert sj.metrics.macro_f1(y, scores.argmax(axis=1)) == expected


def test_macro_f1_counts_classes_seen_in_targets_or_predictions():
    assert sj.metrics.macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])) == pytest.approx(
        (2 / 3 + 0.8) / 2
    )
    # class 2 only predicted: its F1 of 0 counts in the mean
    assert sj.metrics.macro_f1(np.array([0, 1]), np.array([0, 2])) == pytest.approx(1 / 3)
    # a single output reads score > 0 as class 1
    assert one_pass("macro_f1", np.array([[1.0], [-1.0]]), np.array([1, 0])) == 1.0
    assert math.isnan(sj.metrics.get("macro_f1").result())


def test_macro_f1_agrees_with_scikit_learn(rng):
    f1_score = pytest.importorskip("sklearn.metrics").f1_score
    y, pred = rng.integers(0, 5, size=80), rng.integers(0, 5, size=80)
    assert sj.metrics.macro_f1(y, pred) == pytest.approx(f1_score(y, pred, average="macro"))


def test_rmse_and_r2_functions(rng):
    y, pred = rng.normal(size=50), rng.normal(size=50)
    assert sj.metrics.rmse(y, pred) == pytest.approx(math.sqrt(np.mean((y - pred) ** 2)))
    assert sj.metrics.rmse(y, pred) == pytest.approx(one_pass("rmse", pred[:, None], y[:, None]))
    assert sj.metrics.r2(y, pred) == pytest.approx(one_pass("r2", pred[:, None], y[:, None]))
    assert sj.metrics.r2(np.ones(3), np.ones(3)) is None  # undefined for a constant target
    assert sj.metrics.r2(y, y) == 1.0


# -- lookup ------------------------------------------------------------------------------


def test_get_by_name_and_alias():
    assert type(sj.metrics.get("acc")) is sj.metrics.Accuracy
    assert type(sj.metrics.get("R-Squared")) is sj.metrics.R2Score
    metric = sj.metrics.get("mae")
    assert sj.metrics.get(metric) is metric
    assert sj.metrics.names() == ["accuracy", "macro_f1", "mae", "r2", "rmse"]


def test_unknown_metric_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(sj.ConfigError, match=r"Unknown metric 'acuracy'") as info:
        sj.metrics.get("acuracy")
    assert "Did you mean 'accuracy'?" in str(info.value)
    for name in sj.metrics.names():
        assert name in str(info.value)
