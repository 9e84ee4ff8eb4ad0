"""The shape docs/ARCHITECTURE.md promises: no import cycle in refactor/, no
module over 450 lines, click only in cli.py, one place that starts processes."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "refactor"
MAX_LINES = 450


def imports(path: Path) -> set[str]:
    """The refactor modules `path` imports (relative imports, either form)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
    return found


def graph() -> dict[str, set[str]]:
    mods = {p.stem: p for p in PKG.glob("*.py") if p.stem != "__init__"}
    return {m: {i for i in imports(p) if i in mods} for m, p in mods.items()}


def cycle(g: dict[str, set[str]]) -> list[str]:
    """One import cycle of `g`, or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        stack.append(m)
        for n in sorted(g[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = 2
        stack.pop()
        return []

    for m in sorted(g):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return []


def test_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_refactor():
    assert cycle(graph()) == []


def test_no_module_over_the_size_limit():
    big = {p.name: n for p in PKG.glob("*.py")
           if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert big == {}


def test_click_only_in_cli_and_processes_only_in_proc():
    for p in PKG.glob("*.py"):
        text = p.read_text()
        if p.stem != "cli":
            assert "import click" not in text, p.name
        if p.stem != "proc":
            assert "subprocess.run(" not in text and "subprocess.Popen(" not in text, p.name
