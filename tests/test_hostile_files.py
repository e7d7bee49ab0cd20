"""A fuzz test: hostile model files and CSV files only ever raise the library's error.

The corpus (``tests/_hostile.py``) is generated from a fixed seed and covers every
family of the reliability issue: truncation, bit flips, zip structure, JSON paths and
values, ``.npy`` headers, shapes, non-finite weights, special files, and hostile CSVs.
Each file is read with an audit hook armed (nothing may exec, compile, unpickle or
start a process) and tracemalloc on. Its size is kept to a few seconds on two busy
cores; ``python tests/_hostile.py 20000 2000`` runs a larger corpus by hand.
"""

from __future__ import annotations

import os
import time

import pytest

import shenjing as sj
from _hostile import csv_corpus, install_audit_hook, model_corpus, read_model, read_table, try_file

pytest.importorskip("pandas")

#: CPU seconds one file may take, whatever it holds (the loads measured take < 0.1 s).
TIME_BOUND = 2.0
#: Peak traced memory one file may take: twice the file plus a small constant.
MEMORY_CONSTANT = 64 * 2**20


def _check(outcomes) -> None:
    bad = [o for o in outcomes if o.kind not in ("refused", "read")]
    assert not bad, bad[:5]
    slow = [o for o in outcomes if o.seconds > TIME_BOUND]
    assert not slow, slow[:5]
    big = [o for o in outcomes if o.peak_bytes > 2 * o.size + MEMORY_CONSTANT]
    assert not big, big[:5]


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_hostile_model_files_raise_only_model_file_error(tmp_path):
    install_audit_hook()
    outcomes = [
        try_file(family, make(), read_model, (sj.ModelFileError,))
        for family, make in model_corpus(str(tmp_path), n=420, seed=15)
    ]
    _check(outcomes)
    families = {o.family for o in outcomes}
    assert families == {
        "special file",
        "truncation",
        "bit flips",
        "zip structure",
        "json",
        "npy header",
        "shape",
        "nan",
    }
    # The corpus is hostile: nearly every file is refused (a few flips land in padding).
    assert sum(o.kind == "refused" for o in outcomes) > 0.9 * len(outcomes)


def test_hostile_csv_files_raise_only_data_or_config_error(tmp_path):
    install_audit_hook()
    outcomes = [
        try_file(family, make(), read_table, (sj.DataError, sj.ConfigError))
        for family, make in csv_corpus(str(tmp_path), n=48, seed=15)
    ]
    _check(outcomes)
    refused = {o.family for o in outcomes if o.kind == "refused"}
    for family in ("long cell", "long line", "many columns", "many categories", "special file"):
        assert family in refused


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.shj"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(sj.ModelFileError, match="FIFO"):
        sj.load(fifo)
    with pytest.raises(sj.DataError, match="FIFO"):
        sj.read_csv(fifo)
    assert time.monotonic() - start < 5  # a blocked open never returns at all


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_reading(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(sj.ModelFileError, match="not a regular file"):
        sj.load(device)
    with pytest.raises(sj.DataError, match="not a regular file"):
        sj.read_csv(device)
