"""The house rules of the package, read from the sources with ``ast`` (nothing is imported).

- no import circles among actnn's modules (imports inside functions count: a lazy import that
  closes a circle is still a circle);
- the core (everything outside ``actnn.datasets`` and ``actnn.studies``) imports neither;
  ``actnn.datasets`` does not import ``actnn.studies``; only the command line (``actnn.cli``)
  sits above them all;
- no module of more than 600 lines;
- the tests mirror the packages: a test folder per subpackage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "actnn"
MAX_LINES = 600
#: Layers, lowest first: a module may import its own layer and those below it.
TOP_LAYERS = {"datasets": 1, "studies": 2}
FRONT_DOORS = {"actnn.cli"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path) -> set[str]:
    """actnn modules that the module imports (at the top or inside functions)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + [node.module or ""]).strip(".")
            else:
                base = node.module or ""
            # ``from pkg import sub`` runs the package ``pkg`` too, so both count
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in MODULES:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate not in (name, "actnn"):
                targets.add(candidate)
    return targets


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(name: str) -> int:
    if name in FRONT_DOORS:
        return 3
    parts = name.split(".")
    return TOP_LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    assert _cycles(GRAPH) == []


def test_layers_import_only_downwards():
    upward = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in sorted(targets)
        if _layer(target) > _layer(name)
    ]
    assert upward == []


def test_layers_are_what_the_docs_say():
    assert _layer("actnn.glm") == _layer("actnn.metrics.scores") == 0
    assert _layer("actnn.datasets.fremtpl2") == 1
    assert _layer("actnn.studies.sw2019") == 2
    assert _layer("actnn.cli") == 3


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_has_at_most_600_lines(name):
    n_lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_LINES, f"{MODULES[name]} has {n_lines} lines"


def test_tests_mirror_the_packages():
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    test_folders = {
        p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"
    }
    assert packages <= test_folders
