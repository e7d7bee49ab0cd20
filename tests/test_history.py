"""History is a read-only mapping of the per-epoch records; its attributes stay."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

import shenjing as sj


@pytest.fixture(scope="module")
def history():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [8], 3, seed=0)
    return net.fit(
        x,
        y,
        loss="softmax_cross_entropy",
        epochs=3,
        seed=0,
        validation_split=0.2,
        metrics=["accuracy"],
    )


def test_history_is_a_mapping_of_per_epoch_records(history):
    assert isinstance(history, Mapping)
    assert "val_loss" in history and "val_accuracy" in history
    assert "nope" not in history
    assert list(history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert dict(history) == history.per_epoch
    assert len(history) == 4
    assert history.get("nope") is None
    assert history["val_loss"] is history.per_epoch["val_loss"]
    assert dict(history.items())["loss"] == history.per_epoch["loss"]


def test_it_is_read_only_and_keeps_its_attributes(history):
    with pytest.raises(TypeError):
        history["loss"] = []  # type: ignore[index]
    with pytest.raises(KeyError, match="recorded:"):
        history["val_los"]
    assert len(history.loss) == len(history.lr) == 3 * 8  # 240 rows, 32 a batch
    assert history.epochs_run == 3 and history.stopped_early is False
    assert history.best_epoch is None and history.diagnostics is None
    assert "3 epochs" in repr(history)


def test_without_validation_there_is_no_val_loss():
    x, y = sj.datasets.spiral(seed=0)
    h = sj.mlp(2, [4], 3, seed=0).fit(x, y, loss="softmax_cross_entropy", epochs=1)
    assert "val_loss" not in h and set(h) == {"loss"}
