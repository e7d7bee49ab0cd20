"""The checkpoint file of ``fit(checkpoint="run.ckpt")``: a version-2 model file.

:class:`FileStore` writes the network's parameters with the ``optimizer`` and
``training`` sections that :mod:`shenjing.training.checkpoint` and
:mod:`shenjing.training.resume` build, atomically (the old checkpoint or the new one is
on disk, never a part, whenever the process dies), and reads them back checked whole:
``sj.load("run.ckpt")`` also reads it, as the network with its optimizer. Importing this
module registers it as the loop's file store.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..base.errors import ModelFileError
from ..network.sequential import Sequential
from ..nn.layer import Layer
from ..training.checkpoint import Section, register_file_store
from . import modelfile


class FileStore:
    """A checkpoint at ``path`` (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def read(self, net: Any) -> tuple[dict[str, np.ndarray], dict[str, Section]] | None:
        """``None`` if there is no file yet; else its parameters and sections.

        Raises:
            ModelFileError: the file is damaged, or holds another architecture than
                ``net`` (other layer types, configs or parameter shapes).
        """
        if not os.path.exists(self.path):
            return None
        saved, sections = modelfile.read(self.path)
        layers = net.layers if isinstance(net, Sequential) else [net]
        mine = [(type(layer).__name__, layer.get_config()) for layer in layers]
        theirs = [(type(layer).__name__, layer.get_config()) for layer in saved.layers]
        if _json(mine) != _json(theirs):
            raise ModelFileError(
                f"{self.path}: the checkpoint holds another network ({saved!r}), not {net!r}"
            )
        params = {p.name: p.value for p in saved.parameters()}
        return params, sections

    def write(self, net: Layer, sections: dict[str, Section]) -> None:
        modelfile.write(net, self.path, {}, sections)

    def __repr__(self) -> str:
        return f"FileStore({self.path!r})"


def _json(value: Any) -> Any:
    # Configs as a file gives them back: tuples as lists.
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


register_file_store(FileStore)
