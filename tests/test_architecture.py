"""The package's layers: imports flow one way, with no circle and no import of the root.

base → nn → training → diagnosis → network → features → plot → cli, read from the source
itself (every import statement, at module level or inside a function, under
``TYPE_CHECKING`` too), so a lazy import cannot hide an arrow that runs back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shenjing"

#: Each top-level part of the package and its level: a module may import its own level
#: and the levels below, never one above.
LEVELS = {
    "base": 0,
    "nn": 1,
    "training": 2,
    "diagnosis": 3,
    "network": 4,
    "data": 5,
    "interop": 5,
    "comparison": 5,
    "tabular": 5,
    "playground": 5,
    "sklearn": 5,
    "notes": 5,
    "lrfind": 5,
    "plot": 6,
    "cli": 7,
    "__main__": 8,
}
CORE = ("base", "nn", "training")


def module_name(path: Path) -> str:
    parts = ["shenjing", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every shenjing module ``path`` imports, resolved to its absolute name."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "shenjing"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "shenjing":
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import losses` imports a module
                sub = f"{target}.{alias.name}"
                found.add(sub if module_path(sub) else target)
    return found


def module_path(name: str) -> Path | None:
    rel = Path(*name.split(".")[1:])
    for candidate in (SRC / rel.with_suffix(".py"), SRC / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def level(name: str) -> int | None:
    parts = name.split(".")
    return None if len(parts) == 1 else LEVELS[parts[1]]


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}
GRAPH = {name: {m for m in imported_modules(p) if m in MODULES} for name, p in MODULES.items()}


def test_every_part_of_the_package_has_a_level():
    parts = {name.split(".")[1] for name in MODULES if name != "shenjing"}
    assert parts <= set(LEVELS), sorted(parts - set(LEVELS))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "shenjing"))
def test_imports_flow_one_way(name):
    own = level(name)
    for target in sorted(GRAPH[name]):
        assert target != "shenjing", f"{name} imports the package root"
        assert level(target) <= own, (
            f"{name} (level {own}) imports {target} (level {level(target)})"
        )


def test_the_core_imports_no_feature():
    for name, targets in GRAPH.items():
        if name.split(".")[1:2] and name.split(".")[1] in CORE:
            upward = [t for t in targets if t.split(".")[1] not in CORE]
            assert not upward, f"core module {name} imports {upward}"


def test_no_circle():
    # Depth-first search for a back edge; reports the circle it finds.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                circle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import circle: " + " -> ".join(circle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)


def test_the_checker_sees_an_arrow_that_runs_back_up(tmp_path, monkeypatch):
    # The checks above must be able to fail: a lazy import of the loop from a layer.
    fake = tmp_path / "shenjing" / "nn"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from ..training import loop\n")
    (tmp_path / "shenjing" / "training").mkdir()
    (tmp_path / "shenjing" / "training" / "loop.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "SRC", tmp_path / "shenjing")
    found = imported_modules(fake / "bad.py")
    assert found == {"shenjing.training.loop"}
    assert level("shenjing.training.loop") > level("shenjing.nn.bad")
