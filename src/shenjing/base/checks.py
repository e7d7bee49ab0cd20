"""Validation of user input, shared by every public entry point.

These run once per public call (and once per ``fit``, not once per step), so they
favour clear messages over speed, but they never copy an array that is already right.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, cast, overload

import numpy as np

from .errors import ConfigError, DataError, DTypeError, ShapeError

FLOAT_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}
#: The largest count (epochs, a batch size, a patience…) accepted: what an int64 holds.
#: A larger one cannot index an array, and would make a loop run for ever.
MAX_COUNT = 2**63 - 1


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for a one-line message of bounded length."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """Resolve ``"float32"``, ``"float64"``, ``np.float32``… to a floating ``np.dtype``."""
    try:
        resolved: np.dtype = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"{name} must be 'float32' or 'float64', got {dtype!r}") from exc
    if resolved not in FLOAT_DTYPES.values():
        raise DTypeError(f"{name} must be 'float32' or 'float64', got {resolved.name!r}")
    return resolved


def as_float_array(
    x: Any,
    name: str,
    dtype: np.dtype,
    ndim: int | tuple[int, ...] | None = None,
    finite: bool = False,
) -> np.ndarray:
    """Return ``x`` as a C-contiguous array of ``dtype``, checking its kind and rank.

    Integers and booleans are converted (the notes' XOR data is integer); objects,
    strings and complex numbers are refused. No copy is made when ``x`` is already right.
    With ``finite=True``, NaN and inf are refused too, and so are values that become
    inf in a narrower dtype (1e308 in float32), with a message saying so.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{name} must be an array of numbers: {exc}") from exc
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold real numbers, got dtype {arr.dtype.name!r}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ShapeError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{name} is empty (shape {arr.shape}); expected at least one value")
    if not finite:
        return np.asarray(arr, dtype=dtype, order="C")
    check_finite(arr, name)
    with np.errstate(over="ignore"):  # reported below, with a clearer message
        out = np.asarray(arr, dtype=dtype, order="C")
    if out is not arr and out.dtype.itemsize < arr.dtype.itemsize:
        try:
            check_finite(out, name)
        except DataError:
            big = np.abs(arr).max()
            raise DataError(
                f"{name} holds values too large for {dtype.name} (largest magnitude {big:g}, "
                f"limit {np.finfo(dtype).max:g}); rescale the data or use float64"
            ) from None
    return out


def real_array(
    x: Any, name: str, dtype: np.dtype, xp: Any = np, finite: bool = False
) -> np.ndarray:
    """``x`` as an array of ``dtype`` from the array module ``xp``; no copy if it is one.

    Unlike :func:`as_float_array` it takes any shape, empty included (a layer's checked
    pass compares shapes itself), but text, objects and complex numbers are a
    :class:`DTypeError` naming ``name``, and with ``finite=True`` NaN and inf a
    :class:`DataError`.
    """
    try:
        arr: np.ndarray = xp.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{name} must be an array of numbers: {str(exc)[:100]}") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold real numbers, got dtype {arr.dtype.name!r}")
    arr = xp.asarray(arr, dtype=dtype)
    if finite:
        check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise :class:`DataError` naming the first NaN or inf in ``arr``."""
    if arr.dtype.kind != "f":
        return
    # One fast reduction first: a finite sum proves every entry finite. The sum can
    # overflow on finite data, so only then pay for the element-wise test.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):
            return
    if arr.ndim == 0:
        raise DataError(f"{name} must be finite, got {arr[()]}")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size == 0:
        return
    where = tuple(int(i) for i in bad[0])
    value = arr[where]
    raise DataError(
        f"{name} contains {len(bad)} non-finite value(s) (NaN or inf); "
        f"the first is {value} at index {where if len(where) > 1 else where[0]}"
    )


def finite_rows(out: np.ndarray) -> np.ndarray:
    """``out`` (N, ...) unless a row holds NaN or inf: then a DataError naming the first.

    Predictions go through this: NaN (or a class picked from NaN scores) is never
    returned; it comes from weights that are not finite or an input far outside the
    training range.
    """
    finite = np.isfinite(out).reshape(len(out), -1).all(axis=1)
    if not finite.all():
        row, others = int(np.argmin(finite)), int((~finite).sum()) - 1
        raise DataError(
            f"the network's output for row {row} (counted from 0) and {others} other(s) is "
            "NaN or inf: an input far outside the training range, or weights that are not "
            "finite"
        )
    return out


def check_rows(n_x: int, y: Any, x_name: str = "x", y_name: str = "y") -> None:
    """Raise :class:`ShapeError` unless ``y`` has ``n_x`` rows (checked before its shape)."""
    shape = np.shape(y)
    if not shape:
        raise ShapeError(f"{y_name} must be an array with one row per row of {x_name}")
    if shape[0] != n_x:
        raise ShapeError(
            f"{x_name} and {y_name} must have the same number of rows, got {n_x} and {shape[0]}"
        )


@overload
def positive_int(value: Any, name: str, allow_none: Literal[False] = False) -> int: ...
@overload
def positive_int(value: Any, name: str, allow_none: bool) -> int | None: ...
def positive_int(value: Any, name: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or not 1 <= value <= MAX_COUNT
    ):
        want = "a positive integer" + (" or None" if allow_none else "")
        big = isinstance(value, (int, np.integer)) and value > MAX_COUNT
        limit = " (at most 2**63 - 1)" if big else ""
        raise ConfigError(f"{name} must be {want}{limit}, got {shown(value)}")
    return int(value)


def boolean(value: Any, name: str) -> bool:
    """``value`` if it is a real boolean (``True``, ``False`` or a NumPy bool).

    Strings are refused: ``"False"`` is truthy, so ``restore_best="False"`` would act as
    ``True``; numbers are refused so that a misplaced positional argument is caught.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def text(value: Any, name: str) -> str:
    """``value`` if it is a ``str``, else :class:`ConfigError` naming ``name``."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {shown(value)}")
    return value


def names(value: Any, name: str) -> list[str]:
    """A list of strings from a list, tuple or other iterable of strings.

    A single string is refused rather than split into its letters (``numeric="age"``
    would otherwise mean the columns ``a``, ``g`` and ``e``); so are bytes.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigError(
            f"{name} must be a list of names, e.g. [{shown(value)}], got {shown(value)}"
        )
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{name} must hold strings only, got {shown(item)} in it")
    return items


def number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check a real hyper-parameter against a range, e.g. ``0 <= momentum < 1``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ConfigError(f"{name} must be a real number, got {shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond what a float holds, e.g. 10**400
        raise ConfigError(f"{name} must be a finite real number, got {shown(value)}") from None
    ok = np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
        hi = "" if high is None else f" {'<' if high_open else '<='} {high}"
        raise ConfigError(f"Invalid {name}: {value!r}; expected {lo}{name}{hi}")
    return cast(float, value)
