"""The layer registry: one table of layer types for every part of the package.

A new layer type is one class and one decorator::

    @register_layer                  # or @register_layer(kind="relu"), see KINDS
    class Scale(Layer):
        ...

Registering a class gives it:

* a place in model files: :func:`shenjing.save` stores a layer under its class name and
  :func:`shenjing.load` builds it again with ``cls(**layer.get_config())``. Loading
  reaches only the classes registered here, by exact name; nothing a file names is
  imported.
* a diagnostic kind: what :func:`shenjing.diagnose` measures on its outputs (see
  :data:`KINDS`).
* a name that exporters key their lowerings by (:mod:`shenjing.interop.onnx_export`
  refuses a registered layer it has no lowering for).

Lookups are by *exact* class: a subclass may change the function, and with it what a
file would rebuild or what "dead" means. A subclass that is not registered itself cannot
be stored, and is diagnosed as ``"other"``; registered, it gets its own entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..base.registry import Registry

if TYPE_CHECKING:  # only for annotations: the protocol module may import this one
    from .layer import Layer

#: Diagnostic kinds, and what :func:`shenjing.diagnose` measures for each:
#:
#: * ``"relu"``, ``"leaky_relu"``: dead and nearly dead units (outputs never > 0);
#: * ``"sigmoid"``, ``"tanh"``: saturated units (derivative far below its peak);
#: * ``"maxout"``: pieces that never win (needs ``layer.pieces`` and ``layer.winner``,
#:   the (N, M) index of each unit's winning piece, as :class:`shenjing.Maxout` has);
#: * ``"other"``: output and gradient statistics only.
KINDS = ("relu", "leaky_relu", "sigmoid", "tanh", "maxout", "other")


@dataclass(frozen=True)
class LayerType:
    """One registered layer type.

    Attributes:
        name: the name stored in model files and used by exporters: the class name.
        cls: the class itself.
        kind: its diagnostic kind, one of :data:`KINDS`.
    """

    name: str
    cls: type[Layer]
    kind: str


#: Every registered layer type, by name (matched like every registry: ``"leakyrelu"``
#: finds ``LeakyReLU``). Two names that differ only in case are refused, so a name in a
#: file is never ambiguous.
LAYERS: Registry[LayerType] = Registry("layer type")
_BY_NAME: dict[str, LayerType] = {}  # exact names, as files store them
_BY_CLASS: dict[type, LayerType] = {}

L = TypeVar("L", bound=type)


@overload
def register_layer(cls: L, /) -> L: ...
@overload
def register_layer(*, kind: str = "other") -> Callable[[L], L]: ...
def register_layer(cls: Any = None, /, *, kind: str = "other") -> Any:
    """Class decorator: register a layer type, under its class name.

    Used bare (``@register_layer``, kind ``"other"``) or with a kind
    (``@register_layer(kind="relu")``). The class must be built back from its
    ``get_config()`` (``cls(**config)``) and its ``params`` for model files to hold it.

    Raises:
        ValueError: the name (or a name differing only in case) or the class is
            registered already, or ``kind`` is not one of :data:`KINDS`.
        TypeError: what is decorated is not a class with ``forward`` and ``backward``.
    """
    if kind not in KINDS:
        raise ValueError(f"layer kind must be one of {', '.join(KINDS)}; got {kind!r}")

    def add(cls: L) -> L:
        if not isinstance(cls, type) or not all(
            callable(getattr(cls, method, None)) for method in ("forward", "backward")
        ):
            raise TypeError(f"register_layer decorates a layer class, got {cls!r}")
        if cls in _BY_CLASS:
            raise ValueError(f"layer class {cls.__qualname__} registered twice")
        entry = LayerType(cls.__name__, cls, kind)
        LAYERS.add(entry, entry.name)  # raises on a name taken already
        _BY_NAME[entry.name] = entry
        _BY_CLASS[cls] = entry
        return cls

    return add if cls is None else add(cls)


def layer_type(layer: Layer | type) -> LayerType | None:
    """The registration of ``layer``'s exact class (or of the class given); else ``None``."""
    cls = layer if isinstance(layer, type) else type(layer)
    return _BY_CLASS.get(cls)


def layer_kind(layer: Layer | type) -> str:
    """The diagnostic kind of ``layer``'s exact class; ``"other"`` for an unregistered one."""
    entry = layer_type(layer)
    return "other" if entry is None else entry.kind


class _LayerTypes(Mapping[str, "type[Layer]"]):
    """Read-only, live view: exact class name → class, sorted by name."""

    def __getitem__(self, name: str) -> type[Layer]:
        return _BY_NAME[name].cls

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(_BY_NAME))

    def __len__(self) -> int:
        return len(_BY_NAME)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in _BY_NAME

    def __repr__(self) -> str:
        return f"LAYER_TYPES({', '.join(self)})"


#: The classes a model file can name, by exact class name: a live, read-only view of the
#: registry (a layer registered later appears in it). A file cannot reach anything else.
LAYER_TYPES: Mapping[str, type[Layer]] = _LayerTypes()

__all__ = [
    "KINDS",
    "LAYERS",
    "LAYER_TYPES",
    "LayerType",
    "layer_kind",
    "layer_type",
    "register_layer",
]
