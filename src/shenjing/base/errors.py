"""The errors shenjing raises.

Every error is a :class:`ShenjingError`, so ``except sj.ShenjingError`` catches all of
them. Each subclass also derives from the built-in exception a Python user would reach
for first (``ValueError`` or ``TypeError``), so existing ``except ValueError`` code keeps
working. Messages name the argument at fault and say what was expected.
"""

from __future__ import annotations

from typing import Any


class ShenjingError(Exception):
    """Base class of every error raised by shenjing."""


class ShapeError(ShenjingError, ValueError):
    """An array has the wrong number of dimensions or the wrong size along one."""


class DataError(ShenjingError, ValueError):
    """Data is unusable: NaN or inf, empty, or labels out of range."""


class ConfigError(ShenjingError, ValueError):
    """An unknown name or an invalid hyper-parameter or option."""


class DTypeError(ShenjingError, TypeError):
    """An argument has a type or dtype shenjing cannot work with."""


class StateError(ShenjingError, RuntimeError, ValueError):
    """A method was called out of order, such as ``backward`` before ``forward``."""


class DivergenceError(ShenjingError, ValueError):
    """Training produced a non-finite loss; the message names the step.

    Attributes:
        history: the :class:`shenjing.History` recorded up to that step (set by ``fit``).
        step: the steps completed before it (set by ``fit``).
    """

    history: Any = None
    step: int = 0


class ModelFileError(ShenjingError, ValueError):
    """A model file is missing, truncated, corrupted, of an unknown version or hostile."""
