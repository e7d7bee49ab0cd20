"""Shared by the command and figure tests: run a command in-process, check a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def check_png(path: Path, size: tuple[int, int] | None = None, min_colours: int = 8) -> np.ndarray:
    """Read ``path`` with matplotlib; check (width, height) and the number of colours."""
    import matplotlib.image

    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4)
    if size is not None:
        assert (pixels.shape[1], pixels.shape[0]) == size
    rgb = np.round(pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(rgb, axis=0)
    assert len(colours) >= min_colours, f"{path} has only {len(colours)} colours"
    return pixels


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``shenjing ARGV`` in-process: (exit status, stdout, stderr), argparse's exits included."""
    from shenjing.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
