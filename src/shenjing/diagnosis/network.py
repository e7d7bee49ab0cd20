"""What the diagnostics need of a network, checked before they measure it."""

from __future__ import annotations

from typing import Any

from ..base.errors import DTypeError

#: The measuring API every diagnostic uses (see ``Sequential.forward_trace``).
_NEEDED = ("layers", "check_input", "forward_trace", "backward_trace", "output_features")


def require_network(net: Any, name: str = "net") -> None:
    """Raise :class:`~shenjing.DTypeError` unless ``net`` offers the measuring API.

    The diagnostics sit below the network class in the package's layers, so they ask
    for what they use rather than for a class: a :class:`shenjing.Sequential` has it.
    """
    if not all(hasattr(net, attr) for attr in _NEEDED):
        raise DTypeError(f"{name} must be a shenjing Sequential, got {type(net).__name__}")
