"""Saving and loading networks: a small, versioned file format without pickle.

``sj.save(net, "xor.shj")`` writes one file and ``sj.load("xor.shj")`` rebuilds the network
from it. Loading never imports or runs anything a file names: layer types come from a
table of registered layers (:data:`LAYER_TYPES`), arrays are read with ``allow_pickle=False``, and a
file that is missing, truncated, corrupted, too new or hostile raises
:class:`~shenjing.ModelFileError` and nothing else.

The format, version 1, is defined in ``docs/file-format.md``: a ZIP archive of *stored*
members, ``shenjing.json`` (the architecture as JSON) then one ``params/<i>.<name>.npy``
per parameter (NumPy's ``.npy`` format 1.0, little-endian, C order). Version 2 adds
what layers keep besides their parameters: ``state/<i>.<name>.npy`` for each persistent
array (``BatchNorm``'s running statistics) and a layer's ``rng_state`` (``Dropout``'s)
in ``shenjing.json``, and optional sections after the parameters (the optimizer's state,
a checkpoint's training position): ``<section>.json`` and the arrays it declares. A
network without any of these is still written as version 1.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from ..base.checks import shown
from ..base.errors import ConfigError, DTypeError, ModelFileError, ShenjingError
from ..base.files import atomic_write
from ..network.sequential import Sequential
from ..nn.initializers import skipping_initial_draws
from ..nn.layer import Layer
from ..nn.registry import LAYER_TYPES
from ..training.checkpoint import Section, optimizer_state
from . import bounded, members
from . import sections as sections_mod
from .modelstate import give_layer_state, layer_state_keys

FORMAT = "shenjing-model"
VERSION = 2
SUPPORTED_VERSIONS = (1, 2)  # 2 adds optional sections after the parameters (sections.py)
#: Layer keys version 2 adds, both optional: persistent arrays and the random state.
_STATE_KEYS = {"state": dict, "rng_state": dict}
#: A config may ask for this many values (512 KiB in float64) whatever the file stores.
_FREE_VALUES = 2**16

# LAYER_TYPES, the only classes a model file can name, is the read-only view of the
# layer registry (shenjing.nn.registry, @register_layer) by exact class name: a file
# cannot reach anything else by name ("os.system" is just an unknown layer type).

_JSON_MEMBER = "shenjing.json"
_NPY_DTYPES: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
# What zipfile, json and NumPy raise on bytes they cannot parse (RecursionError is a
# RuntimeError).
_PARSE_ERRORS = (OSError, EOFError, ValueError, RuntimeError, OverflowError, NotImplementedError)


def save(
    net: Sequential | Layer,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    optimizer: Any = None,
) -> None:
    """Write ``net`` to ``path`` in the format above, atomically.

    The file is written beside ``path`` under a temporary name, flushed to disk and
    renamed over ``path``: a reader sees the old file or the new one, never a part, and
    if anything fails the old file is left untouched and the temporary one removed.

    Args:
        net: a :class:`~shenjing.Sequential` of layers from :data:`LAYER_TYPES` (the
            registered layer types), or one such layer (saved as a network of one layer).
        path: the file to write (str or path-like); an existing file is replaced.
        metadata: a JSON object kept with the model, e.g. ``{"epochs": 200}``; by
            default ``net.metadata``. JSON's rules apply: tuples come back as lists
            and keys as strings.
        optimizer: an optimizer whose state (moments, step counts…) is kept too (a
            version-2 file); :func:`load` gives it back as ``net.optimizer``.

    Raises:
        ConfigError: a layer the format cannot store, or metadata that is not JSON
            (NaN, inf, arbitrary objects). Nothing is written then.
        DTypeError: ``net`` is not a layer, or its layers' dtypes differ.
        ModelFileError: the folder of ``path`` does not exist, or ``path`` is a folder.
        OSError: the write itself failed (disk full, no permission).

    Example:
        >>> sj.save(net, "xor.shj", metadata={"epochs": 200})
        >>> sj.load("xor.shj").metadata
        {'epochs': 200}
    """
    net = _as_network(net)
    sections = (
        {} if optimizer is None else {"optimizer": optimizer_state(optimizer, net.parameters())}
    )
    write(net, path, net.metadata if metadata is None else metadata, sections)


def write(
    net: Sequential | Layer,
    path: str | os.PathLike[str],
    metadata: dict[str, Any],
    sections: dict[str, Section],
) -> None:
    """:func:`save` with ``sections`` (name → (JSON object, arrays)) after the parameters."""
    net = _as_network(net)
    text = _document(net, metadata, has_sections=bool(sections))
    entries: dict[str, np.ndarray | bytes] = {
        _member(i, name): value
        for i, layer in enumerate(net.layers)
        for name, value in layer.params.items()
    }
    for i, layer in enumerate(net.layers):
        entries.update((_member(i, k, "state"), v) for k, v in layer.persistent_state().items())
    for section, (doc, arrays) in sections.items():
        entries.update(sections_mod.to_members(section, doc, arrays))
    atomic_write(
        path, lambda f: members.write_zip(f, (_JSON_MEMBER, text), entries), error=ModelFileError
    )


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read a network written by :func:`save`; ``net.metadata`` holds its metadata.

    Only a regular file is opened (a FIFO, a device or a folder is refused before a
    byte is read), and everything a file could make grow — members, JSON size, nesting,
    string lengths, integers, shapes — is bounded first (:mod:`shenjing.interop.bounded`,
    limits in ``docs/file-format.md``), so a load takes time and memory in proportion to
    the arrays it holds.

    Raises:
        ModelFileError: for any file that is not a valid model file of a supported
            version: missing, a folder, truncated, corrupted (every member's CRC-32 is
            checked), hostile, or written by a newer shenjing. The message is one
            line of bounded length; the cause is chained.
    """
    net, sections = read(path)
    net.optimizer = sections_mod.optimizer_of(sections, net.parameters(), os.fspath(path))
    return net


def nonfinite_parameters(net: Sequential) -> list[str]:
    """The parameters of ``net`` that hold NaN or inf, as ``layers[i].params.NAME``.

    :func:`save` and :func:`load` keep every bit of a parameter, NaN included (a
    diverged network can be saved to be looked at); what predicts from a file
    (:class:`~shenjing.TabularModel`, ``shenjing predict``) refuses such a network.
    """
    return [
        f"layers[{i}].params.{name}"
        for i, layer in enumerate(net.layers)
        for name, value in layer.params.items()
        if not np.isfinite(value).all()
    ]


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked ``shenjing.json`` of a model file (its format, version, writer…).

    Raises:
        ModelFileError: as :func:`load`, for the archive and the document.
    """
    return bounded.read_archive(path, _checked_document, _PARSE_ERRORS)


def read(path: str | os.PathLike[str]) -> tuple[Sequential, dict[str, Section]]:
    """The network of a model file and its sections (name → (JSON object, arrays)).

    Raises:
        ModelFileError: as :func:`load`; the whole file is read and checked first.
    """
    return bounded.read_archive(path, _read, _PARSE_ERRORS)


# -- writing ------------------------------------------------------------------------
def _as_network(net: Any) -> Sequential:
    if not isinstance(net, Layer):
        raise DTypeError(f"net must be a Sequential or a layer, got {type(net).__name__}")
    layers = net.layers if isinstance(net, Sequential) else [net]
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if LAYER_TYPES.get(kind) is not type(layer):
            raise ConfigError(
                f"layer {i} is a {kind}, which a model file cannot store; it stores the "
                f"registered layer types (@register_layer), {', '.join(LAYER_TYPES)}"
            )
    if not isinstance(net, Sequential):
        net = Sequential(net)
    for i, layer in enumerate(net.layers):
        # Not `layer.dtype not in (None, ...)`: a dtype equals None when it is float64.
        if layer.dtype is not None and layer.dtype != net.dtype:
            raise DTypeError(
                f"layer {i} ({layer!r}) has {layer.dtype.name} parameters but the network "
                f"{net.dtype.name}; convert it with net.astype(...) first"
            )
    return net


def _document(net: Sequential, metadata: Any, has_sections: bool = False) -> bytes:
    """The UTF-8 ``shenjing.json``; every check of a save happens here, before any write.

    Version 2 only when the file needs it (sections, or layer state), so that a plain
    network stays readable by shenjing 0.1.
    """
    from ..base.version import __version__

    if not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"metadata must be JSON without NaN or inf: {exc}") from exc
    layers = [
        {
            "type": type(layer).__name__,
            "config": layer.get_config(),
            "params": {
                name: {"shape": list(value.shape), "dtype": value.dtype.name}
                for name, value in layer.params.items()
            },
            **layer_state_keys(layer),
        }
        for layer in net.layers
    ]
    stateful = any(key in spec for spec in layers for key in _STATE_KEYS)
    document = {
        "format": FORMAT,
        "version": VERSION if stateful or has_sections else 1,
        "shenjing_version": __version__,
        "dtype": net.compute_dtype.name,
        "layers": layers,
        "metadata": metadata,
    }
    return json.dumps(document, allow_nan=False).encode("utf-8")


def _member(index: int, name: str, folder: str = "params") -> str:
    return f"{folder}/{index}.{name}.npy"


# -- reading ------------------------------------------------------------------------
def _checked_document(zf: zipfile.ZipFile, file_size: int) -> dict[str, Any]:
    names = zf.namelist()
    if len(set(names)) != len(names):
        # zipfile would quietly use the last of two members with one name.
        raise ModelFileError("the archive has two members with the same name")
    if _JSON_MEMBER not in names:
        raise ModelFileError(f"not a model file: the archive has no {_JSON_MEMBER}")
    raw = members.read_member(zf, _JSON_MEMBER, 0, bounded.MAX_JSON_BYTES, file_size)
    return _read_document(raw)


def _read(zf: zipfile.ZipFile, file_size: int) -> tuple[Sequential, dict[str, Section]]:
    doc = _checked_document(zf, file_size)
    names = zf.namelist()
    expected = {_JSON_MEMBER} | {
        _member(i, name) for i, spec in enumerate(doc["layers"]) for name in spec["params"]
    }
    section_docs = sections_mod.read_documents(
        names,
        doc["version"],
        lambda m: members.read_member(zf, m, 0, bounded.MAX_JSON_BYTES, file_size),
    )
    expected |= sections_mod.member_names(section_docs)
    for i, spec in enumerate(doc["layers"]):
        expected |= {_member(i, name, "state") for name in spec.get("state", {})}
    if set(names) != expected:
        extra, missing = sorted(set(names) - expected), sorted(expected - set(names))
        raise ModelFileError(
            f"unexpected members {shown(extra[:5], 120)}, missing members {shown(missing[:5], 120)}"
        )
    dtype = _NPY_DTYPES[doc["dtype"]]
    layers = [_read_layer(zf, i, spec, dtype, file_size) for i, spec in enumerate(doc["layers"])]
    try:
        net = Sequential(layers)
    except ShenjingError as exc:
        raise ModelFileError(f"the layers do not fit together: {exc}") from exc
    net.metadata = doc["metadata"]
    sections = sections_mod.read_arrays(
        section_docs, lambda m, shape, dtype: members.read_array(zf, m, shape, dtype, file_size)
    )
    return net, sections


def _read_document(raw: bytes) -> dict[str, Any]:
    doc = bounded.parse_json(raw, _JSON_MEMBER)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f'not a model file: {_JSON_MEMBER} lacks "format": "{FORMAT}"')
    version = doc.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise ModelFileError(
            f"format version {shown(version)} (from shenjing "
            f"{shown(doc.get('shenjing_version'))}) "
            f"is not supported; this shenjing reads versions {list(SUPPORTED_VERSIONS)}"
        )
    bounded.check_fields(
        doc,
        _JSON_MEMBER,
        format=str,
        version=int,
        shenjing_version=str,
        dtype=str,
        layers=list,
        metadata=dict,
    )
    if doc["dtype"] not in _NPY_DTYPES:
        raise ModelFileError(f'"dtype" must be "float32" or "float64", got {shown(doc["dtype"])}')
    if not doc["layers"]:
        raise ModelFileError('"layers" is empty; a network has at least one layer')
    for i, spec in enumerate(doc["layers"]):
        # A layer entry may be anything in a hostile file; check_fields says what.
        present = spec if isinstance(spec, dict) and version >= 2 else {}
        added = {k: v for k, v in _STATE_KEYS.items() if k in present}
        bounded.check_fields(spec, f"layers[{i}]", type=str, config=dict, params=dict, **added)
        arrays = [("params", n, p) for n, p in spec["params"].items()]
        arrays += [("state", n, p) for n, p in spec.get("state", {}).items()]
        for folder, name, param in arrays:
            where = f"layers[{i}].{folder}.{name}"
            bounded.check_fields(param, where, shape=list, dtype=str)
            shape = param["shape"]
            if len(shape) > bounded.MAX_NDIM:
                raise ModelFileError(f"{where}.shape has more than {bounded.MAX_NDIM} dimensions")
            if not all(type(n) is int and n >= 0 for n in shape):
                raise ModelFileError(f"{where}.shape must hold integers >= 0, got {shape!r:.60}")
            if param["dtype"] != doc["dtype"]:
                raise ModelFileError(
                    f"{where}.dtype is {shown(param['dtype'])}, not {doc['dtype']!r}"
                )
    return doc


def _read_layer(
    zf: zipfile.ZipFile, i: int, spec: dict[str, Any], dtype: np.dtype, file_size: int
) -> Layer:
    cls = LAYER_TYPES.get(spec["type"])
    if cls is None:
        known = ", ".join(LAYER_TYPES)
        raise ModelFileError(
            f"layers[{i}]: unknown layer type {shown(spec['type'])}; known: {known}"
        )
    # Linear and Maxout allocate in × out (× pieces) values from their config before
    # their shapes can be compared with the file's. Bounding the product of the config's
    # integers by the values the file declares (each declared shape capped by what the
    # file could hold; each is checked against its member below) stops a few bytes of
    # JSON from asking for gigabytes. A layer may have no stored values at all (LayerNorm
    # without affine parameters, of `features` inputs): up to _FREE_VALUES are allowed.
    most = file_size // dtype.itemsize
    n_values = 0
    for declared in [*spec["params"].values(), *spec.get("state", {}).values()]:
        fits = bounded.product_at_most(declared["shape"], most)
        n_values += int(np.prod(declared["shape"], dtype=np.int64)) if fits else most
    # A seed is an integer that sizes nothing (Dropout's, from mlp(seed=...), is 63 bits).
    sizes = [abs(v) for k, v in spec["config"].items() if type(v) is int and k != "seed"]
    if not bounded.product_at_most(sizes, max(n_values, _FREE_VALUES)):
        raise ModelFileError(f"layers[{i}].config asks for more than the {n_values} values stored")
    try:
        with skipping_initial_draws():  # the file's arrays replace the initial weights
            layer = cls(**spec["config"])
    except Exception as exc:  # whatever the config makes the constructor raise
        raise ModelFileError(
            f"layers[{i}]: cannot build {cls.__name__}: {shown(str(exc), 200)}"
        ) from exc
    if set(layer.params) != set(spec["params"]):
        raise ModelFileError(
            f"layers[{i}]: {layer!r} has parameters {sorted(layer.params)}, "
            f"the file {sorted(spec['params'])}"
        )
    # One member at a time, after the layer is built: a load holds the network plus one
    # member's bytes, not every array twice.
    for name, declared in spec["params"].items():
        param, shape = layer.params[name], tuple(declared["shape"])
        members.check_fits(_member(i, name), shape, dtype, file_size)
        if param.shape != shape or param.dtype.name != dtype.name:
            raise ModelFileError(
                f"layers[{i}].params.{name}: {layer!r} needs {param.dtype.name} {param.shape}, "
                f"the file holds {dtype.name} {shape}"
            )
        if param.dtype.str == dtype.str and param.flags.c_contiguous:
            members.read_array_into(zf, _member(i, name), param, file_size)
        else:  # a big-endian machine: read, then convert
            param[...] = members.read_array(zf, _member(i, name), shape, dtype, file_size)
    specs = spec.get("state", {})
    arrays = {
        name: members.read_array(zf, _member(i, name, "state"), tuple(s["shape"]), dtype, file_size)
        for name, s in specs.items()
    }
    give_layer_state(layer, i, arrays, spec.get("rng_state"))
    return layer
