"""What a tabular model file keeps besides the weights, checked on the way in.

:meth:`TabularModel.save <shenjing.TabularModel.save>` writes the preprocessing, the task,
the classes and the target's scaling as the model file's JSON metadata;
:func:`stored_fields` checks all of it against the network before a model is rebuilt.
"""

from __future__ import annotations

import math
from typing import Any

from ..base.errors import ModelFileError
from ..data.preprocess import Preprocessor
from ..network.sequential import Sequential
from .options import FORMAT, TASKS, VERSION


def stored_fields(net: Sequential, meta: dict[str, Any]) -> tuple[Any, ...]:
    """The checked constructor arguments of :class:`~shenjing.TabularModel` after ``net``.

    ``(preprocessor, task, target, classes, target_mean, target_std, metrics, training)``
    from ``meta``, the model file's metadata.

    Raises:
        ModelFileError: a plain network's file, another version, or metadata that is
            malformed or does not fit ``net``.
    """
    if meta.get("format") != FORMAT:
        raise ModelFileError(
            "a plain network, not a model trained from a table (read it with sj.load)"
        )
    if meta.get("version") != VERSION:
        raise ModelFileError(
            f"tabular model version {meta.get('version')!r} is not supported; "
            f"this shenjing reads version {VERSION}"
        )
    expected = {
        "format",
        "version",
        "task",
        "target",
        "classes",
        "target_scaling",
        "preprocessing",
        "metrics",
        "training",
    }
    if set(meta) != expected:
        raise ModelFileError(f"the metadata must have exactly the fields {sorted(expected)}")
    task, target, classes = meta["task"], meta["target"], meta["classes"]
    if task not in TASKS:
        raise ModelFileError(f"task must be 'classify' or 'regress', got {task!r:.40}")
    if not isinstance(target, str):
        raise ModelFileError("target must be a string")
    if task == "classify":
        if (
            not isinstance(classes, list)
            or len(classes) < 2
            or not all(isinstance(c, str) for c in classes)
            or len(set(classes)) != len(classes)
        ):
            raise ModelFileError("classes must be a list of at least two unique strings")
    elif classes is not None:
        raise ModelFileError("a regression has no classes (null)")
    scaling = meta["target_scaling"]
    if (
        not isinstance(scaling, dict)
        or set(scaling) != {"mean", "std"}
        or not all(type(v) in (int, float) and math.isfinite(v) for v in scaling.values())
        or scaling["std"] <= 0
    ):
        raise ModelFileError("target_scaling must be {mean, std} finite numbers, std > 0")
    if not isinstance(meta["metrics"], dict) or not isinstance(meta["training"], dict):
        raise ModelFileError("metrics and training must be objects")
    pre = Preprocessor.from_dict(meta["preprocessing"])
    width = len(pre.feature_names)
    n_out = len(classes) if task == "classify" else 1
    if net.input_features not in (None, width) or net.output_features(width) != n_out:
        raise ModelFileError(
            f"the network maps {net.input_features} inputs to {net.output_features(width)} "
            f"outputs, but the preprocessing makes {width} inputs and the task needs "
            f"{n_out} outputs"
        )
    return (
        pre,
        task,
        target,
        classes,
        scaling["mean"],
        scaling["std"],
        meta["metrics"],
        meta["training"],
    )
