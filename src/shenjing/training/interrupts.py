"""Ctrl-C between steps: :class:`DeferredInterrupt`.

An interrupt that lands inside ``optimizer.step`` leaves some parameters updated and
others not. Inside ``with DeferredInterrupt() as interrupt:`` a SIGINT only sets
``interrupt.pending``; the loop looks at it after each whole step and raises
``KeyboardInterrupt`` there, so the weights and the optimizer's state are those of one
step exactly. The handler is installed only in the main thread (the only one Python
delivers signals to) and only over Python's default one; the previous handler is put
back on leaving.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType


class DeferredInterrupt:
    """Hold SIGINT until the loop asks (see the module docstring)."""

    def __init__(self) -> None:
        self.pending = False
        self._previous: object = None

    def __enter__(self) -> DeferredInterrupt:
        self.pending = False
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.pending = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._previous = None
