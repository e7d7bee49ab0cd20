"""read_csv: text cells indexed by line, and one clear line for every unreadable file."""

from __future__ import annotations

import pytest

import shenjing as sj

pd = pytest.importorskip("pandas")
from shenjing.data.csvdata import column_list, nearest, read_csv  # noqa: E402


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_cells_are_text_indexed_by_line(tmp_path):
    path = write(tmp_path, "a,b,c\n1,x,2.5\n\n3,,4\n")
    frame = read_csv(path)
    assert list(frame.columns) == ["a", "b", "c"]
    assert list(frame.index) == [2, 4]  # the blank line 3 is skipped, lines still counted
    assert frame.index.name == "line"
    assert frame.loc[2].tolist() == ["1", "x", "2.5"]
    assert pd.isna(frame.loc[4, "b"])


def test_quoted_fields_spanning_lines_keep_their_start_line(tmp_path):
    path = write(tmp_path, 'a,b\n"one\ntwo",1\n"x, y",2\n')
    frame = read_csv(path)
    assert frame["a"].tolist() == ["one\ntwo", "x, y"]
    assert list(frame.index) == [2, 4]


def test_other_delimiter_and_encoding(tmp_path):
    path = write(tmp_path, "prix;ville\n3;Besançon\n".encode("latin-1"))
    frame = read_csv(path, sep=";", encoding="latin-1")
    assert frame["ville"].tolist() == ["Besançon"]


def test_byte_order_mark_is_dropped(tmp_path):
    path = write(tmp_path, "\ufeffa,b\n1,2\n".encode())
    assert list(read_csv(path).columns) == ["a", "b"]


def test_nan_and_inf_strings_are_read_as_text_or_missing(tmp_path):
    # pandas' missing-value markers (nan, NA, empty) become missing; "inf" stays text
    # here and is refused later, by the preprocessing, naming its line.
    frame = read_csv(write(tmp_path, "a,b\nnan,inf\nNA,1\n"))
    assert frame["a"].isna().all()
    assert frame["b"].tolist() == ["inf", "1"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"data\.csv: the file is empty"),
        ("\n  \n", r"data\.csv: the file is empty"),
        ("a,b,c\n", r"data\.csv: the file has a header \('a', 'b', 'c'\) but no data rows"),
        ("a,b,a\n1,2,3\n", r"data\.csv: the header names column 'a' 2 times \(columns 1, 3\)"),
        ("a,,c\n1,2,3\n", r"data\.csv: column 2 of the header has no name"),
        ("a,b\n1,2\n3,4,5\n", r"data\.csv: line 3 has 3 fields, but the header has 2"),
        ("a,b\n1,2\n\n3\n", r"data\.csv: line 4 has 1 field, but the header has 2"),
        ("a;b;c\n1;2;3\n", r"data\.csv: found a single column named 'a;b;c'.*pass --sep ';'"),
        ("a\tb\n1\t2\n", r"data\.csv: found a single column named 'a\\tb'.*--sep '\\t'"),
    ],
)
def test_unreadable_tables(tmp_path, text, match):
    with pytest.raises(sj.DataError, match=match):
        read_csv(write(tmp_path, text))


def test_not_utf8_names_the_line(tmp_path):
    path = write(tmp_path, "a,b\n1,x\n2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(sj.DataError, match=r"data\.csv: not utf-8 text: byte 0xe9 on line 3"):
        read_csv(path)


def test_bad_sep_and_encoding_are_config_errors(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(sj.ConfigError, match="sep must be one character"):
        read_csv(path, sep=";;")
    with pytest.raises(sj.ConfigError, match="unknown encoding 'klingon'"):
        read_csv(path, encoding="klingon")


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_csv(tmp_path / "nope.csv")


def test_nearest_and_column_list():
    assert nearest("Price", ["price", "size"]) == " Did you mean 'price'?"
    assert nearest("prise", ["price", "size"]) == " Did you mean 'price'?"
    assert nearest("zzz", ["price", "size"]) == ""
    assert column_list(list("abc"), limit=2) == "'a', 'b' and 1 more"


def test_without_pandas_the_error_says_what_to_install(tmp_path, monkeypatch, capsys):
    import sys

    from shenjing.cli import main

    path = write(tmp_path, "a,b\n1,2\n")
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError, match=r"pip install 'shenjing\[csv\]'"):
        read_csv(path)
    assert main(["train", str(path), "--target", "b"]) == 1
    assert "pip install 'shenjing[csv]'" in capsys.readouterr().err
