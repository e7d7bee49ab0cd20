"""The optional sections of a version-2 model file (``docs/file-format.md``).

A section is a JSON member ``<section>.json`` whose ``"arrays"`` object declares each of
its arrays (``{"shape": [...], "dtype": "float64"}``), stored after the parameters as
``<section>/<name>.npy``. Two are defined: ``optimizer`` (``sj.save(net, path,
optimizer=opt)``) and ``training`` (``fit(checkpoint=...)``). :mod:`.modelfile` reads
the members with its bounds; this module turns sections into members and back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..base.errors import ConfigError, ModelFileError
from ..nn.layer import Parameter
from ..training.checkpoint import Section, optimizer_from_state
from ..training.optim import Optimizer
from . import bounded

SECTIONS = ("optimizer", "training")
DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "int64": np.dtype("<i8"),
}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_MAX_DIMS = 32


def to_members(section: str, doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The members of one section, JSON (bytes) first; every check before any write."""
    if section not in SECTIONS:
        raise ConfigError(f"a model file has the sections {SECTIONS}, not {section!r}")
    declared = {}
    for name, value in arrays.items():
        if not _NAME.fullmatch(name) or value.dtype.name not in DTYPES:
            raise ConfigError(f"cannot store {section} array {name!r:.60} of {value.dtype}")
        declared[name] = {"shape": list(value.shape), "dtype": value.dtype.name}
    try:
        text = json.dumps({**doc, "arrays": declared}, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"the {section} section must be JSON without NaN or inf: {exc}") from exc
    members: dict[str, Any] = {f"{section}.json": text}
    members.update({f"{section}/{name}.npy": value for name, value in arrays.items()})
    return members


def read_documents(
    names: list[str], version: int, read: Callable[[str], bytes]
) -> dict[str, dict[str, Any]]:
    """Each section's JSON (``read(member)`` gives its bytes, bounded by the caller)."""
    docs = {}
    for section in SECTIONS if version >= 2 else ():
        if f"{section}.json" in names:
            docs[section] = _document(section, read(f"{section}.json"))
    return docs


def member_names(docs: dict[str, dict[str, Any]]) -> set[str]:
    """Every member the sections declare."""
    out = set()
    for section, doc in docs.items():
        out |= {f"{section}.json"} | {f"{section}/{a}.npy" for a in doc["arrays"]}
    return out


def read_arrays(
    docs: dict[str, dict[str, Any]],
    read: Callable[[str, tuple[int, ...], np.dtype], np.ndarray],
) -> dict[str, Section]:
    """The sections whole: ``read(member, shape, dtype)`` checks and reads each array."""
    sections: dict[str, Section] = {}
    for section, doc in docs.items():
        doc = dict(doc)
        declared = doc.pop("arrays")
        sections[section] = (
            doc,
            {
                a: read(f"{section}/{a}.npy", tuple(spec["shape"]), DTYPES[spec["dtype"]])
                for a, spec in declared.items()
            },
        )
    return sections


def optimizer_of(
    sections: dict[str, Section], params: list[Parameter], path: str
) -> Optimizer | None:
    """The optimizer of an ``optimizer`` section, rebuilt for ``params``; else ``None``."""
    if "optimizer" not in sections:
        return None
    try:
        return optimizer_from_state(*sections["optimizer"], params)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc.__cause__


def _document(section: str, raw: bytes) -> dict[str, Any]:
    # Bounded before parsing, as shenjing.json is (sizes, nesting, strings, integers).
    doc = bounded.parse_json(raw, f"{section}.json")
    if not isinstance(doc, dict) or not isinstance(doc.get("arrays"), dict):
        raise ModelFileError(f'{section}.json must be an object with "arrays"')
    for name, spec in doc["arrays"].items():
        where = f"{section}.arrays.{name:.60}"
        if not _NAME.fullmatch(name):
            raise ModelFileError(f"{where}: names are letters, digits, '_', '.', '-'")
        if not isinstance(spec, dict) or spec.keys() != {"shape", "dtype"}:
            raise ModelFileError(f'{where} must be an object with "shape" and "dtype"')
        shape = spec["shape"]
        if (
            not isinstance(shape, list)
            or len(shape) > _MAX_DIMS
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise ModelFileError(f"{where}.shape must be at most {_MAX_DIMS} integers >= 0")
        if spec["dtype"] not in DTYPES:
            raise ModelFileError(f"{where}.dtype must be one of {list(DTYPES)}")
    return doc
