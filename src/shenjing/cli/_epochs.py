"""One progress bar per epoch for 'shenjing train', made to fit the terminal (80 columns).

Each epoch gets its own tqdm line, left on screen when the epoch ends, like Keras'
one line per epoch::

    epoch  3/50  38%|██████▍          | 12/32, loss 0.4133 val_loss 0.4401

The line is at most the terminal's width (``COLUMNS``, else the terminal's own, else
80) and never wider than :data:`WIDTH`; the bar shrinks to make room for the numbers,
which are cut to four significant digits.
"""

from __future__ import annotations

import math
import shutil
import sys
from typing import Any

#: The widest a line gets, whatever the terminal.
WIDTH = 80
#: The per-epoch records shown after the bar, in this order, when fit records them.
SHOWN = ("loss", "val_loss", "val_accuracy")


class EpochBars:
    """A ``fit`` callback drawing one bar per epoch on ``file`` (default stderr).

    Args:
        batch_size: rows per step, to know how many steps an epoch has.
        file: where to draw; ``columns``: the width to fit (default: the terminal's).
    """

    def __init__(self, batch_size: int, file: Any = None, columns: int | None = None) -> None:
        self.batch_size, self.file = batch_size, file
        self.columns = columns
        self.steps: int | None = None
        self.epochs = 0
        self.bar: Any = None

    def plan(self, model: Any) -> None:
        """Learn the epoch's length and the number of epochs from the planned model."""
        t = model.training
        rows = t["train_rows"]
        self.steps = math.ceil(rows / min(self.batch_size, rows))
        self.epochs = t["epochs"]

    def width(self) -> int:
        columns = self.columns or shutil.get_terminal_size((WIDTH, 24)).columns
        return max(40, min(columns, WIDTH))

    def on_epoch_begin(self, state: Any) -> None:
        from tqdm.auto import tqdm

        digits = len(str(self.epochs or state.epoch + 1))
        self.bar = tqdm(
            total=self.steps,
            desc=f"epoch {state.epoch + 1:>{digits}}/{self.epochs}",
            ncols=self.width(),
            file=self.file if self.file is not None else sys.stderr,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}",
            leave=True,
        )

    def on_step_end(self, state: Any) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_epoch_end(self, state: Any) -> None:
        if self.bar is None:
            return
        shown = [f"{k} {state.logs[k]:.4g}" for k in SHOWN if k in state.logs]
        self.bar.set_postfix_str(" ".join(shown), refresh=False)
        self.bar.close()
        self.bar = None

    def on_train_end(self, state: Any) -> None:
        if self.bar is not None:  # stopped inside an epoch
            self.bar.close()
            self.bar = None
