"""TabularModel: training from a frame, the one model file, and predictions from raw rows."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj

pd = pytest.importorskip("pandas")
from shenjing.data.csvdata import read_csv  # noqa: E402
from shenjing.data.target import stratified_split  # noqa: E402
from shenjing.tabular import TabularModel, build_network, macro_f1  # noqa: E402

CUSTOMERS = Path(__file__).parent / "data" / "customers.csv"
FAST = {"hidden": (16,), "epochs": 15, "batch_size": 16, "lr": 0.01}


@pytest.fixture(scope="module")
def customers():
    return read_csv(CUSTOMERS)


@pytest.fixture(scope="module")
def churn(customers):
    return TabularModel.fit(customers, "churned", missing="mean", source="c.csv", **FAST)


def frame(**columns):
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index(range(2, n + 2), name="line"))


def test_mixed_table_trains_a_classifier(churn, customers):
    assert churn.task == "classify"
    assert churn.training["task_reason"] == "target 'churned' holds text"
    assert churn.classes == ["no", "yes"]
    counts = churn.training["class_counts"]
    assert sum(counts["train"].values()) + sum(counts["validation"].values()) == len(customers)
    assert churn.preprocessor.feature_names[:4] == [
        "age",
        "plan=basic",
        "plan=plus",
        "plan=premium",
    ]
    # Better than always answering the majority class.
    majority = max(counts["validation"].values()) / churn.training["validation_rows"]
    assert churn.metrics["on"] == "validation"
    assert churn.metrics["accuracy"] > majority
    proba = churn.predict_proba(customers)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    labels = churn.predict(customers)
    np.testing.assert_array_equal(labels, np.array(churn.classes)[proba.argmax(axis=1)])


def test_save_load_reproduces_predictions(churn, customers, tmp_path):
    path = tmp_path / "churn.shj"
    churn.save(path)
    back = TabularModel.load(path)
    assert back.classes == churn.classes and back.target == "churned"
    assert back.metrics == churn.metrics
    np.testing.assert_array_equal(back.predict_proba(customers), churn.predict_proba(customers))
    np.testing.assert_array_equal(back.transform(customers), churn.transform(customers))
    # The core reader still reads it: the network, with the rest as metadata.
    net = sj.load(path)
    assert isinstance(net, sj.Sequential)
    assert net.metadata["format"] == "shenjing-tabular"


def test_same_seed_same_model(customers):
    a = TabularModel.fit(customers, "churned", missing="mean", seed=3, **FAST)
    b = TabularModel.fit(customers, "churned", missing="mean", seed=3, **FAST)
    np.testing.assert_array_equal(a.predict_proba(customers), b.predict_proba(customers))
    c = TabularModel.fit(customers, "churned", missing="mean", seed=4, **FAST)
    assert not np.array_equal(a.predict_proba(customers), c.predict_proba(customers))


def test_regression_with_scaled_target(customers):
    # A row without its target cannot be learnt from: such rows are dropped first.
    known = customers[customers["monthly_fee"].notna()].drop(columns=["churned"])
    model = TabularModel.fit(known, "monthly_fee", missing="most_frequent", **FAST)
    assert model.task == "regress"
    assert "numbers with fractions" in model.training["task_reason"]
    assert model.classes is None
    y = known["monthly_fee"].astype(float).to_numpy()
    pred = model.predict(known)
    # The fee follows the plan; the network finds that much.
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.5 * y.std()
    assert model.metrics["r2"] > 0.5
    np.testing.assert_allclose(
        model.encode_target(known["monthly_fee"])[:, 0], (y - model.target_mean) / model.target_std
    )
    with pytest.raises(sj.ConfigError, match="needs a classifier"):
        model.predict_proba(known)


def test_metrics_match_scikit_learn(churn, customers):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    assert macro_f1(y, p) == pytest.approx(metrics.f1_score(y, p, average="macro"))
    assert macro_f1(np.array([0, 0, 1]), np.array([2, 0, 1])) == pytest.approx(
        metrics.f1_score([0, 0, 1], [2, 0, 1], average="macro")
    )


def test_whole_number_targets_become_classes_in_numeric_order():
    f = frame(x=[str(i) for i in range(12)], y=["10", "2", "02", "10", "2", "10"] * 2)
    model = TabularModel.fit(f, "y", hidden=(), epochs=1, validation=0)
    assert model.classes == ["2", "10"]  # "02" and "2" are one class, 2 before 10
    assert "2 distinct whole numbers" in model.training["task_reason"]
    np.testing.assert_array_equal(model.encode_target(pd.Series([10, "2", 2.0])), [1, 0, 0])
    with pytest.raises(
        sj.DataError, match="data: target 'y' has '7' on row 0, which is not one of the classes"
    ):
        model.encode_target(["7"])
    assert model.metrics["on"] == "training"


def test_many_whole_numbers_make_a_regression():
    f = frame(x=[str(i) for i in range(30)], y=[str(3 * i) for i in range(30)])
    model = TabularModel.fit(f, "y", hidden=(), epochs=1)
    assert model.task == "regress"
    assert model.training["task_reason"] == "target 'y' holds whole numbers with 30 distinct values"


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 80 + [1] * 20)
    train, val = stratified_split(100, y, 0.25, np.random.default_rng(1), "d")
    assert np.bincount(y[val]).tolist() == [20, 5]
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 100
    again = stratified_split(100, y, 0.25, np.random.default_rng(1), "d")
    np.testing.assert_array_equal(again[1], val)
    # A class of one row keeps it for training.
    train, val = stratified_split(5, np.array([0, 0, 0, 0, 1]), 0.5, np.random.default_rng(0), "d")
    assert 4 in train


def test_balanced_class_weights(customers):
    model = TabularModel.fit(customers, "churned", missing="mean", class_weight="balanced", **FAST)
    counts = model.training["class_counts"]["train"]
    n = sum(counts.values())
    weights = model.training["class_weights"]
    for c in model.classes:
        assert weights[c] == pytest.approx(n / (2 * counts[c]))
    assert "class_weight" in model.training["loss"]


def test_maxout_and_other_activations(customers):
    model = TabularModel.fit(customers, "churned", missing="mean", activation="maxout", **FAST)
    assert isinstance(model.net[0], sj.Maxout)
    assert repr(build_network(3, [4], 2, "tanh", 0)) == (
        "Sequential(Linear(3 -> 4), Tanh(), Linear(4 -> 2))"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"target": "Churned"}, sj.DataError, r"no column 'Churned'.*Did you mean 'churned'"),
        (
            {"task": "regress"},
            sj.DataError,
            r"task='regress', but target 'churned' holds text \(.*\); use task='classify'",
        ),
        ({"task": "cluster"}, sj.ConfigError, "task must be"),
        ({"loss": "huber"}, sj.ConfigError, "softmax_cross_entropy, not 'huber'"),
        ({"activation": "swish"}, sj.ConfigError, "Unknown activation 'swish'"),
        ({"hidden": (0,)}, sj.ConfigError, "hidden must be positive"),
        ({"validation": 1.0}, sj.ConfigError, "validation must be a fraction"),
        ({"class_weight": "auto"}, sj.ConfigError, "class_weight must be"),
    ],
)
def test_bad_arguments(customers, kwargs, error, match):
    kwargs = {"target": "churned", "missing": "mean", **kwargs}
    with pytest.raises(error, match=match):
        TabularModel.fit(customers, kwargs.pop("target"), epochs=1, **kwargs)


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (["a", "a", "a"], r"d\.csv: target 'y' has one class only \('a' in all 3 rows\)"),
        (["a", None, "b"], r"d\.csv: target 'y' is missing on line 3 \(1 row in all\)"),
        (["1", "inf", "2"], r"d\.csv: target 'y' holds an infinite value \('inf'\) on line 3"),
    ],
)
def test_bad_targets(target, match):
    with pytest.raises(sj.DataError, match=match):
        TabularModel.fit(frame(x=["1", "2", "3"], y=target), "y", source="d.csv", epochs=1)


def test_continuous_target_cannot_be_classified():
    with pytest.raises(
        sj.DataError,
        match=r"task='classify', but target 'y' holds continuous values "
        r"\('2\.5' on line 3\)",
    ):
        TabularModel.fit(frame(x=["1", "2"], y=["1", "2.5"]), "y", task="classify", epochs=1)


def test_messages_name_the_arguments_not_the_command_line_options(customers):
    with pytest.raises(sj.ConfigError, match=r"use one of mse, huber, sse, or task='classify'$"):
        TabularModel.fit(
            customers[customers["monthly_fee"].notna()].drop(columns=["churned"]),
            "monthly_fee",
            missing="mean",
            loss="softmax_cross_entropy",
            task="regress",
        )
    with pytest.raises(sj.DataError, match="task='classify', but") as info:
        TabularModel.fit(frame(x=["1", "2"], y=["1", "2.5"]), "y", task="classify", epochs=1)
    assert "--" not in str(info.value)


def test_too_few_rows():
    f = frame(x=["1", "2", "3"], y=["a", "b", "a"])
    with pytest.raises(sj.DataError, match=r"3 rows are too few for a validation fraction of 0.1"):
        TabularModel.fit(f, "y", validation=0.1, source="d.csv", epochs=1)
    with pytest.raises(sj.DataError, match=r"or use validation=0$"):  # the argument, not --
        TabularModel.fit(f, "y", validation=0.1, source="d.csv", epochs=1)
    with pytest.raises(sj.DataError, match="1 row is too few"):
        TabularModel.fit(frame(x=["1"], y=["a"]), "y", epochs=1)


def _rewrite(path: Path, change) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    doc = json.loads(members["shenjing.json"])
    change(doc["metadata"])
    members["shenjing.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m.update(version=2), "tabular model version 2 is not supported"),
        (lambda m: m.update(task="cluster"), "task must be"),
        (lambda m: m.update(classes=["no"]), "at least two unique strings"),
        (lambda m: m.update(classes=["a", "b", "c"]), "the task needs 3 outputs"),
        (lambda m: m.update(target=3), "target must be a string"),
        (lambda m: m["target_scaling"].update(std=-1), "target_scaling"),
        (lambda m: m.pop("metrics"), "exactly the fields"),
        (lambda m: m["preprocessing"]["columns"].pop(), "preprocessing makes"),
        (lambda m: m["preprocessing"].update(missing=1), "missing must be one of"),
    ],
)
def test_load_refuses_malformed_metadata(churn, tmp_path, change, match):
    path = tmp_path / "m.shj"
    churn.save(path)
    _rewrite(path, change)
    with pytest.raises(sj.ModelFileError, match=match) as info:
        TabularModel.load(path)
    assert str(path) in str(info.value)


def test_load_of_a_plain_network(tmp_path):
    path = tmp_path / "net.shj"
    sj.save(sj.Sequential(sj.Linear(2, 1, seed=0)), path)
    with pytest.raises(sj.ModelFileError, match=r"a plain network.*sj\.load"):
        TabularModel.load(path)


def test_readme_own_data_example_holds(tmp_path, monkeypatch, capsys):
    """The README's "Your own data" python block runs and its comment is true."""
    import re

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own data", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    namespace = {"sj": sj}
    exec(compile(block, "README.md", "exec"), namespace)
    model = namespace["model"]
    assert model.task == "classify" and model.classes == ["no", "yes"]
    assert model.metrics["accuracy"] == 1.0
    assert (tmp_path / "shop.shj").is_file()
    assert "classify ['no', 'yes']" in capsys.readouterr().out
