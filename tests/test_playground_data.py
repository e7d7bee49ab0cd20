"""The playground's points, features and split, and the CSV upload's checks."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.playground import data
from shenjing.playground.upload import MAX_BYTES, MAX_CLASSES, MAX_ROWS, read_points


@pytest.mark.parametrize("name", data.NAMES)
def test_every_dataset_is_seeded_shaped_and_on_the_plane(name):
    x, y = data.dataset(name, noise=0.2, seed=4)
    assert x.shape == (data.POINTS, 2) and x.dtype == np.float64
    x2, y2 = data.dataset(name, noise=0.2, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = data.dataset(name, noise=0.2, seed=5)
    assert not np.array_equal(x, x3)
    clean, _ = data.dataset(name, seed=4)
    assert np.abs(clean).max() <= data.EXTENT
    if name in data.CLASSIFICATION:
        assert y.shape == (data.POINTS,) and y.dtype == np.int64
        assert set(np.unique(y)) == {0, 1}
        assert abs(int(y.sum()) - data.POINTS // 2) <= data.POINTS // 10  # roughly balanced
    else:
        assert y.shape == (data.POINTS, 1) and y.dtype == np.float64


def test_clean_classification_labels_follow_their_rule():
    x, y = data.dataset("circle", seed=0)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert (radius[y == 1] <= 2).all() and (radius[y == 0] >= 3.5).all()
    x, y = data.dataset("xor", seed=0)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    x, y = data.dataset("gauss", seed=0)
    assert x[y == 1].mean(axis=0) == pytest.approx([2, 2], abs=0.3)
    x, y = data.dataset("plane", seed=0)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] + x[:, 1]) / 12)


def test_noise_moves_points_more_as_it_grows():
    clean, _ = data.dataset("spiral", seed=1)
    little, _ = data.dataset("spiral", noise=0.1, seed=1)
    much, _ = data.dataset("spiral", noise=0.5, seed=1)
    assert 0 < np.abs(little - clean).mean() < np.abs(much - clean).mean()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "moons"}, "dataset must be one of"),
        ({"name": "circle", "noise": 0.6}, "noise"),
        ({"name": "circle", "noise": -0.1}, "noise"),
        ({"name": "circle", "points": 2}, "points"),
    ],
)
def test_bad_dataset_arguments_are_refused(kwargs, message):
    with pytest.raises(sj.ConfigError, match=message):
        data.dataset(**kwargs)


def test_split_keeps_every_row_once_in_the_ratio():
    x, y = data.dataset("gauss", seed=2)
    (xtr, ytr), (xte, _) = data.split(x, y, 30, seed=2)
    assert len(xtr) == 150 and len(xte) == 350
    rows = np.concatenate([xtr, xte])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))
    labels = {tuple(r): t for r, t in zip(x, y, strict=True)}
    assert all(labels[tuple(r)] == t for r, t in zip(xtr, ytr, strict=True))
    for bad in (5, 95):
        with pytest.raises(sj.ConfigError, match="train_percent"):
            data.split(x, y, bad)


def test_features_and_grid():
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    f = data.features(x, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])
    expected = [
        [1, 2, 1, 4, 2, np.sin(1), np.sin(2)],
        [-3, 0.5, 9, 0.25, -1.5, np.sin(-3), np.sin(0.5)],
    ]
    np.testing.assert_allclose(f, expected)
    with pytest.raises(sj.ConfigError, match="at least one"):
        data.features(x, [])
    with pytest.raises(sj.ConfigError, match="unknown feature 'x3'"):
        data.features(x, ["x3"])
    g = data.grid(4)
    assert g.shape == (16, 2)
    assert g[0].tolist() == [-4.5, 4.5]  # top left
    assert g[-1].tolist() == [4.5, -4.5]  # bottom right


def test_csv_with_class_names_and_numbers():
    points = read_points(
        b"\xef\xbb\xbfheight;weight;kind\n1;10;cat\n2;20;dog\n3;15;cat\n4;25;dog\n"
    )
    assert points.columns == ["height", "weight", "kind"]
    assert points.classes == ["cat", "dog"] and points.y.tolist() == [0, 1, 0, 1]
    assert points.x.min(axis=0).tolist() == [-5, -5] and points.x.max(axis=0).tolist() == [5, 5]
    assert points.problem == "classification" and "4 rows" in points.describe()
    numeric = read_points("a,b,c\n0,0,10\n1,0,2\n0,1,2\n1,1,10\n")
    assert numeric.classes == ["2", "10"]  # whole numbers sort as numbers
    assert numeric.y.tolist() == [1, 0, 0, 1]


def test_csv_with_a_real_target_is_regression():
    points = read_points("a,b,y\n0,0,0.5\n1,0,1.5\n0,1,2.5\n1,1,-0.5\n")
    assert points.problem == "regression" and points.classes is None
    assert points.y.shape == (4, 1)
    assert points.y.min() == -1 and points.y.max() == 1
    assert points.ranges[2] == (-0.5, 2.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b\n1,2\n", "needs 3"),
        ("1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n", "header"),
        ("a,b,c\n1,2,x\n", "at least 4"),
        ("a,b,c\n1,2,x\n3,4,y\n5,6\n7,8,x\n", "line 4 has 2 fields"),
        ("a,b,c\n1,2,x\n3,four,y\n5,6,x\n7,8,y\n", "line 3, column 'b': 'four'"),
        ("a,b,c\n1,2,x\n3,inf,y\n5,6,x\n7,8,y\n", "not a\\s+finite number"),
        ("a,b,c\n1,2,x\n3,4,\n5,6,x\n7,8,y\n", "line 3, column 'c': the label is empty"),
        ("a,b,c\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n", "only one label"),
    ],
)
def test_bad_csv_gets_one_line(text, message):
    with pytest.raises(sj.DataError, match=message) as info:
        read_points(text)
    assert "\n" not in str(info.value)


def test_csv_limits():
    with pytest.raises(sj.DataError, match="limit is"):
        read_points(b"a" * (MAX_BYTES + 1))
    many = "a,b,c\n" + "".join(f"{i},{i},x{i % 2}\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(sj.DataError, match=f"limit is {MAX_ROWS}"):
        read_points(many)
    labels = "a,b,c\n" + "".join(f"{i},{i},k{i}\n" for i in range(MAX_CLASSES + 1))
    with pytest.raises(sj.DataError, match="distinct labels"):
        read_points(labels)
    with pytest.raises(sj.DataError, match="not UTF-8"):
        read_points(b"a,b,c\n\xff\xfe,1,2\n")


def test_the_training_half_needs_no_web_extra():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import shenjing.playground.snippet, shenjing.playground.upload\n"
        "print(sorted({'starlette', 'uvicorn', 'websockets', 'anyio'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
