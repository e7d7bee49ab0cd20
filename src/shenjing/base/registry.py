"""Name → object registries, with errors that list the valid names.

One registry per kind of thing (activations, losses, optimizers, initialisers, layer
types for the file format). Names are matched case-insensitively, with ``-`` and spaces
read as ``_``, so ``"Leaky-ReLU"`` finds ``"leaky_relu"``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, cast

from .errors import ConfigError

T = TypeVar("T")
B = TypeVar("B")


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


class Registry(Generic[T]):
    """A fixed table of names for one kind of object (``kind`` is used in messages)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._canonical: list[str] = []

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            self.add(item, name, *aliases)
            return item

        return add

    def add(self, item: T, name: str, *aliases: str) -> None:
        for key in (name, *aliases):
            key = _normalise(key)
            if key in self._items:
                raise ValueError(f"{self.kind} name {key!r} registered twice")
            self._items[key] = item
        self._canonical.append(_normalise(name))

    def get(self, name: object) -> T:
        """The object registered under ``name``; :class:`ConfigError` if there is none."""
        if not isinstance(name, str):
            raise ConfigError(f"{self.kind} name must be a string, got {name!r}")
        key = _normalise(name)
        if key in self._items:
            return self._items[key]
        valid = ", ".join(sorted(self._canonical))
        close = difflib.get_close_matches(key, list(self._items), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"Unknown {self.kind} {name!r}; valid names: {valid}.{hint}")

    def create(self, spec: object, base: type[B], **kwargs: object) -> B:
        """An instance of ``base`` from a name, a subclass or an instance (kept as is).

        A name or class is called with ``kwargs``; giving ``kwargs`` with an instance is
        an error, since they would be silently ignored.
        """
        if isinstance(spec, base):
            if kwargs:
                raise ConfigError(f"{self.kind} arguments can only be given with a name or class")
            return spec
        cls = spec if isinstance(spec, type) and issubclass(spec, base) else self.get(spec)
        return cast("Callable[..., B]", cls)(**kwargs)

    def names(self) -> list[str]:
        """Canonical names, sorted."""
        return sorted(self._canonical)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _normalise(name) in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
