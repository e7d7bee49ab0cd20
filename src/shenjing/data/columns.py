"""What a model file's preprocessing column must hold (:meth:`Preprocessor.from_dict
<shenjing.data.preprocess.Preprocessor.from_dict>` checks each with this)."""

from __future__ import annotations

import math
from typing import Any

from ..base.errors import ModelFileError


def check_column(column: Any, where: str) -> dict[str, Any]:
    if not isinstance(column, dict) or not isinstance(column.get("name"), str):
        raise ModelFileError(f"{where} must be an object with a string name")
    kind = column.get("kind")
    if kind == "numeric":
        expected = {"name", "kind", "mean", "std", "fill"}
        for key in ("mean", "std"):
            if not _is_finite_number(column.get(key)):
                raise ModelFileError(f"{where}.{key} must be a finite number")
        if column["std"] <= 0:
            raise ModelFileError(f"{where}.std must be positive, got {column['std']}")
        if column.get("fill") is not None and not _is_finite_number(column["fill"]):
            raise ModelFileError(f"{where}.fill must be a finite number or null")
    elif kind == "categorical":
        expected = {"name", "kind", "categories", "fill"}
        categories = column.get("categories")
        if (
            not isinstance(categories, list)
            or not categories
            or not all(isinstance(c, str) for c in categories)
            or len(set(categories)) != len(categories)
        ):
            raise ModelFileError(f"{where}.categories must be a non-empty list of unique strings")
        if column.get("fill") is not None and column["fill"] not in categories:
            raise ModelFileError(f"{where}.fill must be one of its categories or null")
    else:
        raise ModelFileError(f'{where}.kind must be "numeric" or "categorical", got {kind!r}')
    if set(column) != expected:
        raise ModelFileError(f"{where} must have exactly the fields {sorted(expected)}")
    return dict(column)


def _is_finite_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)
