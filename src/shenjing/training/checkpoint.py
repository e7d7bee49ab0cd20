"""What a checkpoint holds, as JSON and arrays, and where ``fit`` sends it.

A checkpoint is a model file (``docs/file-format.md``, version 2) with two more
*sections*, each a JSON document plus named arrays:

* ``optimizer``: the optimizer's class, config and per-parameter state
  (:func:`optimizer_state`), also what ``sj.save(net, path, optimizer=opt)`` writes;
* ``training``: the loop's position, RNG states, schedule, History and callbacks
  (:mod:`shenjing.training.resume`).

The loop (this level) builds the sections; the file itself is written and read by
:mod:`shenjing.interop.checkpoint`, a feature above the loop. The loop reaches it
through the one store registered here (:func:`register_file_store`), which
``import shenjing`` does, as layers reach the model file through their registry: the
loop never imports the level that writes files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..base.errors import ConfigError, ModelFileError
from ..nn.layer import Parameter
from . import optim as optim_mod

#: A section: a JSON object and named arrays (names are ``[A-Za-z0-9_.-]``).
Section = tuple[dict[str, Any], dict[str, np.ndarray]]

#: State entries an optimizer uses as work space: never saved, remade on loading.
_WORKSPACE = ("scratch", "decayed")


class CheckpointStore(Protocol):
    """Where ``fit(checkpoint=...)`` keeps its checkpoint."""

    def read(self, net: Any) -> tuple[dict[str, np.ndarray], dict[str, Section]] | None:
        """The saved parameters (by name) and sections, checked whole against ``net``
        (same layers and shapes), or ``None`` when there is no checkpoint yet."""

    def write(self, net: Any, sections: dict[str, Section]) -> None:
        """Save ``net``'s parameters and ``sections`` atomically."""


_FILE_STORE: list[Callable[[str], CheckpointStore]] = []


def register_file_store(factory: Callable[[str], CheckpointStore]) -> None:
    """Make ``factory(path)`` the store of ``fit(checkpoint="path")`` (one at a time)."""
    _FILE_STORE[:] = [factory]


def store_for(checkpoint: Any) -> CheckpointStore | None:
    """``None``, a path (str or path-like) or a :class:`CheckpointStore` as a store."""
    if checkpoint is None:
        return None
    if isinstance(checkpoint, (str, os.PathLike)):
        if not _FILE_STORE:
            raise ConfigError("no checkpoint file format is registered (import shenjing)")
        return _FILE_STORE[0](os.fspath(checkpoint))
    if callable(getattr(checkpoint, "read", None)) and callable(getattr(checkpoint, "write", None)):
        return checkpoint  # type: ignore[no-any-return]
    raise ConfigError(
        f"checkpoint must be a file path or an object with read and write, got {checkpoint!r}"
    )


# -- the optimizer section ----------------------------------------------------------
def optimizer_state(opt: optim_mod.Optimizer, params: list[Parameter]) -> Section:
    """``opt``'s class, config and state for ``params``, as a section.

    State arrays are named ``<parameter>.<key>`` (``0.W.m``); scalars such as Adam's
    step count go in the JSON. Work space (``scratch``) is not kept.
    """
    name = type(opt).__name__
    if optim_mod.OPTIMIZERS.get(name.lower()) is not type(opt):
        raise ConfigError(
            f"a {name} cannot be saved: files store the registered optimizers "
            f"({', '.join(optim_mod.names())})"
        )
    known = {p.name for p in params}
    state: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    for pname, entries in opt.state.items():
        if pname not in known:
            raise ConfigError(f"the optimizer holds state for {pname!r}, not a parameter of net")
        scalars = state[pname] = {}
        for key, value in entries.items():
            if key in _WORKSPACE:
                continue
            if isinstance(value, np.ndarray):
                arrays[f"{pname}.{key}"] = value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                scalars[key] = encode(value)
            else:
                raise ConfigError(f"cannot save optimizer state {pname}.{key}: {value!r:.60}")
    return {"type": name, "config": encode(opt.get_config()), "state": state}, arrays


def optimizer_from_state(
    doc: dict[str, Any], arrays: dict[str, np.ndarray], params: list[Parameter]
) -> optim_mod.Optimizer:
    """A new optimizer from an ``optimizer`` section, its state checked against ``params``."""
    try:
        opt = optim_mod.get(doc["type"].lower(), **decode(doc["config"]))
    except (ConfigError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFileError(f"the optimizer section cannot be rebuilt: {exc}") from exc
    load_optimizer_state(opt, doc, arrays, params)
    return opt


def load_optimizer_state(
    opt: optim_mod.Optimizer,
    doc: dict[str, Any],
    arrays: dict[str, np.ndarray],
    params: list[Parameter],
) -> None:
    """Replace ``opt.state`` by the section's, after checking all of it (never half-loaded).

    Raises:
        ModelFileError: the section is for another optimizer class, names a parameter
            ``params`` lacks, or holds an array of another shape or dtype.
    """
    if doc.get("type") != type(opt).__name__:
        raise ModelFileError(f"the file holds {doc.get('type')!r} state, not {type(opt).__name__}")
    by_name = {p.name: p for p in params}
    saved = doc.get("state")
    if not isinstance(saved, dict):
        raise ModelFileError("the optimizer section's state must be an object")
    new: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for pname, scalars in saved.items():
        param = by_name.get(pname)
        if param is None or not isinstance(scalars, dict):
            raise ModelFileError(f"optimizer state for {pname!r}, which is not a parameter")
        entry: dict[str, Any] = {k: decode(v) for k, v in scalars.items()}
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in entry.values()):
            raise ModelFileError(f"optimizer state for {pname!r} holds a non-number")
        prefix = f"{pname}."
        for aname, value in arrays.items():
            if aname.startswith(prefix) and aname[len(prefix) :] not in _WORKSPACE:
                if value.shape != param.value.shape or value.dtype != param.value.dtype:
                    raise ModelFileError(
                        f"optimizer state {aname} is {value.dtype.name} {value.shape}; the "
                        f"parameter is {param.value.dtype.name} {param.value.shape}"
                    )
                entry[aname[len(prefix) :]] = value.copy()
                used.add(aname)
        entry["scratch"] = np.empty_like(param.value)
        new[pname] = entry
    if used != set(arrays):
        raise ModelFileError(f"optimizer arrays for no parameter: {sorted(set(arrays) - used)[:5]}")
    # Checked whole above; from here nothing can fail.
    opt.state.clear()
    opt.state.update(new)


# -- JSON values, exactly --------------------------------------------------------------
def encode(obj: Any) -> Any:
    """``obj`` as JSON values that :func:`decode` turns back into equal values.

    Non-finite floats and integers beyond 2^53 (PCG64's 128-bit state) become tagged
    strings, so that the JSON has neither NaN nor numbers other readers would round;
    NumPy arrays and scalars become tagged lists.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return encode(obj.item())
    if isinstance(obj, int):
        return obj if abs(obj) < 2**53 else {"__int__": str(obj)}
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.ndarray):
        return {"__array__": encode(obj.tolist()), "dtype": obj.dtype.str}
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    if isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
        if any(k.startswith("__") for k in obj):
            raise ConfigError(f"cannot save a dict whose keys start with '__': {sorted(obj)[:3]}")
        return {k: encode(v) for k, v in obj.items()}
    raise ConfigError(f"cannot save {type(obj).__name__} {obj!r:.60} in a checkpoint")


def decode(obj: Any) -> Any:
    """The inverse of :func:`encode`; raises ModelFileError on a malformed tag."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    try:
        if "__int__" in obj:
            text = obj["__int__"]
            if not isinstance(text, str) or len(text) > 80:
                raise ValueError("an integer of at most 80 digits")
            return int(text)
        if "__float__" in obj:
            if obj["__float__"] not in ("nan", "inf", "-inf"):
                raise ValueError("nan, inf or -inf")
            return float(obj["__float__"])
        if "__array__" in obj:
            dtype = np.dtype(obj["dtype"])
            if dtype.kind not in "biuf":
                raise ValueError(f"a numeric dtype, not {dtype}")
            return np.asarray(decode(obj["__array__"]), dtype=dtype)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"a malformed value in a checkpoint: {exc}") from exc
    return {k: decode(v) for k, v in obj.items()}
