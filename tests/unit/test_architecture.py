"""The code's shape (issue 13): small modules and functions, no import cycle, stages in order."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "arkhiv"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the package (a package by its __init__)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports, anywhere in it (lazy imports included). An
    import of a.b.c counts as an import of a.b.c only, not of its parent packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    out.add(sub)
                elif base in modules:
                    out.add(base)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(path, name, modules) for name, path in modules.items()}
    assert graph["arkhiv.api"] >= {"arkhiv.pipeline.batch"}  # the walk sees imports at all
    assert _cycles(graph) == []


def test_the_library_never_imports_the_cli() -> None:
    modules = _modules()
    users = [
        name
        for name, path in modules.items()
        if not name.startswith("arkhiv.cli")
        and any(m.startswith("arkhiv.cli") for m in _imports(path, name, modules))
    ]
    assert users == []


def test_modules_are_small() -> None:
    too_long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_functions_are_small() -> None:
    too_long = {}
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long[f"{name}.{node.name}"] = length
    assert too_long == {}


def test_the_engine_marks_the_stages_the_readme_names_in_order() -> None:
    """The README's "How it works" names the stages; the engine marks each call of one with
    its number and name (`# 3. OCR`), and the two lists agree."""
    readme = (SRC.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"^\d+\. \*\*(\w+)\*\*", section, flags=re.M)
    assert named == ["discover", "plan", "OCR", "record", "assemble", "describe", "index"]
    source = (PACKAGE / "pipeline" / "batch.py").read_text(encoding="utf-8")
    marked = sorted({(int(n), stage) for n, stage in re.findall(r"# (\d)\. (\w+)", source)})
    assert marked == list(enumerate(named, start=1))
