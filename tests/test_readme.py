"""The README's code runs as printed: every ```python block, in order, in a scratch folder."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_tour_runs(tmp_path, monkeypatch, capsys):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README has no python code"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    # The tour's claims hold, not just its syntax.
    assert round(namespace["neuron"].forward([1.0, 0.2]), 4) == 0.5987
    assert namespace["history"].loss[-1] < 1e-3 * namespace["history"].loss[0]
    assert namespace["hist"]["val_accuracy"][-1] > 0.9
    assert (tmp_path / "spiral.shj").is_file()
    assert "gradcheck passed" in capsys.readouterr().out
