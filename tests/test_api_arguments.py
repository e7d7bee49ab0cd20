"""Bad arguments to the public API raise the library's error, naming the argument.

``tests/_api_cases.py`` lists the public callables with one valid call each and the
kind of every argument; here every bad value of every argument of every callable must
raise a :class:`shenjing.ShenjingError` (no raw NumPy or Python exception, no silent
acceptance, no NaN result, no hang), and a Hypothesis test draws arbitrary values for
the same arguments: whatever it draws, the call succeeds with finite results or raises
the library's error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing as sj
from _api_cases import bad_values, cases, outcome

pytest.importorskip("pandas")
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

CASES = {case.name: case for case in cases()}


@pytest.mark.parametrize("name", list(CASES))
def test_every_bad_argument_raises_the_library_error(name):
    case = CASES[name]
    failures = []
    for arg, kind in case.kinds.items():
        for value in bad_values(kind):
            result, detail = outcome(case, arg, value)
            if result != "library":
                failures.append(f"{name}({arg}={value!r:.40}): {result} {detail}")
    assert not failures, failures


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: sj.SGD(lr=10**400), "lr"),
        (lambda: sj.SGD().step(None), "model"),
        (lambda: sj.EarlyStopping(monitor=None), "monitor"),
        (lambda: sj.EarlyStopping(restore_best="False"), "restore_best"),
        (lambda: sj.Preprocessor(numeric="age"), "numeric"),
        (lambda: sj.gradcheck(sj.Linear(2, 2, dtype="float64"), np.ones((3, 2)), eps=-1), "eps"),
        (
            lambda: sj.gradcheck(
                sj.Linear(2, 2, dtype="float64"), np.ones((3, 2)), tolerance=math.nan
            ),
            "tolerance",
        ),
        (
            lambda: sj.fit(
                sj.Sequential(sj.Linear(2, 2)),
                np.ones((4, 2)),
                np.array([0, 1, 0, 1]),
                loss="softmax_cross_entropy",
                shuffle="no",
            ),
            "shuffle",
        ),
    ],
    ids=[
        "lr-huge",
        "step-none",
        "monitor-none",
        "restore-best-str",
        "numeric-str",
        "eps",
        "tolerance",
        "shuffle-str",
    ],
)
def test_the_issues_examples_name_their_argument(call, argument):
    with pytest.raises(sj.ShenjingError, match=argument):
        call()


_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([2**63, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.lists(st.one_of(st.integers(-2, 9), st.floats(), st.text(max_size=3)), max_size=4),
    st.sampled_from(["relu", "adam", "mse", "float32", "float64", "age", "y", "loss"]),
    st.just(object()),
)


@hypothesis.settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@hypothesis.given(data=st.data())
def test_any_argument_value_succeeds_or_raises_the_library_error(data):
    case = data.draw(st.sampled_from(list(CASES.values())), label="callable")
    arg = data.draw(st.sampled_from(list(case.kinds)), label="argument")
    value = data.draw(_ANY, label="value")
    result, detail = outcome(case, arg, value)
    # "accepted" is fine here: a drawn value may well be valid.
    assert result in ("library", "accepted"), f"{case.name}({arg}={value!r:.60}): {detail}"
