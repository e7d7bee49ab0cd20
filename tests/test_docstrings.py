"""Every ``>>>`` example in shenjing's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import shenjing as sj

MODULES = sorted(m.name for m in pkgutil.walk_packages(sj.__path__, "shenjing."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write here
    module = importlib.import_module(name)
    extraglobs = {name: getattr(sj, name) for name in sj.__all__}
    extraglobs.update(np=np, sj=sj, net=sj.Sequential(sj.Linear(2, 3, seed=0), sj.ReLU()))
    result = doctest.testmod(module, extraglobs=extraglobs, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_examples_are_found():
    finder = doctest.DocTestFinder()
    count = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name))
    )
    assert count >= 10
