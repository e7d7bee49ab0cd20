"""Each unbounded load the reliability issue measured is refused, before the work.

The files are the issue's, scaled down where the limit allows: what is checked is the
message (the limit named) and that the refusal comes from the bound, not from the
work it protects (a spy, a message length, a member count).
"""

from __future__ import annotations

import json
import zipfile

import pytest

import shenjing as sj
from shenjing.interop import bounded

pd = pytest.importorskip("pandas")


@pytest.fixture
def members(tmp_path):
    path = tmp_path / "good.shj"
    sj.save(sj.Sequential(sj.Linear(2, 3, seed=0), sj.ReLU()), path)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write(path, members, text=None, extra=()):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, text if (text is not None and name == "shenjing.json") else data)
        for name in extra:
            zf.writestr(name, b"")
    return path


def document(members):
    return json.loads(members["shenjing.json"])


def test_huge_config_integers_are_refused_by_the_json_reader(tmp_path, members):
    doc = document(members)
    text = json.dumps(doc).replace('"out_features": 3', '"out_features": ' + "9" * 4000)
    with pytest.raises(
        sj.ModelFileError, match="larger than 340282366920938463463374607431768211456"
    ) as info:
        sj.load(write(tmp_path / "m.shj", members, text))
    assert len(str(info.value)) < 500


def test_many_config_integers_stop_at_the_first_product_over_the_stored_values(tmp_path, members):
    doc = document(members)
    doc["layers"][1]["config"] = {f"k{i}": 2**62 for i in range(700)}
    with pytest.raises(sj.ModelFileError, match="asks for more than the 0 values"):
        sj.load(write(tmp_path / "m.shj", members, json.dumps(doc)))


def test_an_archive_of_too_many_members_is_refused_from_its_end_record(
    tmp_path, members, monkeypatch
):
    path = write(tmp_path / "m.shj", members, extra=[f"x{i}" for i in range(bounded.MAX_MEMBERS)])
    parsed = []
    real = zipfile.ZipFile.__init__
    monkeypatch.setattr(
        zipfile.ZipFile, "__init__", lambda self, *a, **k: parsed.append(1) or real(self, *a, **k)
    )
    with pytest.raises(sj.ModelFileError, match=f"more than the {bounded.MAX_MEMBERS}"):
        sj.load(path)
    assert parsed == []  # the directory was never parsed


@pytest.mark.parametrize(
    ("junk", "match"),
    [
        ("[" + ",".join(["[]"] * (bounded.MAX_JSON_CONTAINERS + 1)) + "]", "objects and arrays"),
        ("[" * (bounded.MAX_JSON_DEPTH + 1) + "]" * (bounded.MAX_JSON_DEPTH + 1), "levels deep"),
        ("[" + "0," * bounded.MAX_JSON_VALUES + "0]", "values, more than"),
        ('"' + "x" * (bounded.MAX_JSON_STRING + 1) + '"', "a string of about"),
    ],
    ids=["containers", "depth", "values", "string"],
)
def test_json_is_bounded_before_it_is_parsed(tmp_path, members, junk, match, monkeypatch):
    doc = document(members)
    text = json.dumps(doc)[:-1] + ', "junk": ' + junk + "}"
    parsed = []
    monkeypatch.setattr(bounded.json, "loads", lambda *a, **k: parsed.append(1))
    with pytest.raises(sj.ModelFileError, match=match) as info:
        sj.load(write(tmp_path / "m.shj", members, text))
    assert parsed == []
    assert len(str(info.value)) < 500 and "\n" not in str(info.value)


def test_a_long_string_in_an_error_is_cut_short(tmp_path, members):
    doc = document(members)
    doc["layers"][0]["type"] = "x" * 500_000
    with pytest.raises(sj.ModelFileError, match="unknown layer type") as info:
        sj.load(write(tmp_path / "m.shj", members, json.dumps(doc)))
    assert len(str(info.value)) <= 400


def test_a_tabular_model_with_a_number_beyond_float_is_a_model_file_error(tmp_path):
    frame = pd.DataFrame({"x": [str(i) for i in range(8)], "y": ["a", "b"] * 4})
    model = sj.TabularModel.fit(frame, "y", hidden=[2], epochs=1, batch_size=4)
    model.save(tmp_path / "t.shj")
    with zipfile.ZipFile(tmp_path / "t.shj") as zf:
        saved = {n: zf.read(n) for n in zf.namelist()}
    text = saved["shenjing.json"].replace(b'"std": 1.0', b'"std": 1' + b"0" * 310)
    assert text != saved["shenjing.json"]
    with pytest.raises(sj.ModelFileError, match="larger than"):
        sj.TabularModel.load(write(tmp_path / "bad.shj", saved, text))


# -- CSV --------------------------------------------------------------------------------
def test_a_cell_over_the_field_limit_is_a_data_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1," + "x" * 200_000 + "\n")
    with pytest.raises(sj.DataError, match=r"line 2: .*at most 131072 characters"):
        sj.read_csv(path)


def test_a_line_over_the_limit_is_refused_before_parsing(tmp_path):
    from shenjing.data import csvdata

    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"3" * (csvdata.MAX_LINE_BYTES + 1) + b",4\n")
    with pytest.raises(sj.DataError, match="line 3 is longer than"):
        sj.read_csv(path)


def test_a_table_of_too_many_columns_is_refused_at_its_header(tmp_path):
    path = tmp_path / "t.csv"
    header = ",".join(f"c{i}" for i in range(100_000))
    path.write_text(header + "\n" + ",".join("1" * 100_000) + "\n")
    with pytest.raises(sj.DataError, match="100000 columns, more than the 10000"):
        sj.read_csv(path)


def test_a_categorical_column_of_too_many_values_is_refused_by_name(tmp_path):
    from shenjing.data.csvdata import MAX_CATEGORIES

    frame = pd.DataFrame(
        {"id": [f"u{i}" for i in range(MAX_CATEGORIES + 1)], "x": ["1"] * (MAX_CATEGORIES + 1)}
    )
    with pytest.raises(sj.DataError, match=f"column 'id' has {MAX_CATEGORIES + 1} distinct"):
        sj.Preprocessor().fit(frame)
    frame["id"] = [f"u{i % MAX_CATEGORIES}" for i in range(MAX_CATEGORIES + 1)]
    assert len(sj.Preprocessor().fit(frame).feature_names) == MAX_CATEGORIES + 1


def test_a_load_holds_the_weights_and_their_gradients_and_nothing_more(tmp_path):
    """Issue 15's memory goal: under twice the arrays' bytes plus a small constant.

    A loaded network has its weights and, beside them, gradient arrays of the same size
    (allocated, never drawn into). Building the layers draws no initial weights (no
    float64 temporary as large as a layer) and the members are streamed in 1 MiB chunks.
    """
    import tracemalloc

    import numpy as np

    net = sj.Sequential(
        sj.Linear(1024, 2048, dtype="float64", seed=0),
        sj.ReLU(),
        sj.Linear(2048, 1024, dtype="float64", seed=1),
    )
    path = tmp_path / "big.shj"
    sj.save(net, path)
    array_bytes = sum(p.value.nbytes for p in net.parameters())  # 32 MiB
    tracemalloc.start()
    try:
        loaded = sj.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * array_bytes + 4 * 2**20, (peak, array_bytes)
    for a, b in zip(net.parameters(), loaded.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)
