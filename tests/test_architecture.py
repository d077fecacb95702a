"""The layering rules of docs/ARCHITECTURE.md, checked on the source itself.

- ``m2p_core`` never imports Apache Beam; ``transforms`` never imports ``pipelines`` or
  ``commands``; ``pipelines`` never imports ``commands``.
- The module-level import graph of the project has no cycle.
- No module imports another module's private (``_name``) attribute.
- Every subpackage's ``__all__`` resolves.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("m2p_core", "transforms", "pipelines", "commands")


def _modules() -> dict[str, Path]:
    out = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path, top_level_only: bool) -> list[tuple[str, list[str]]]:
    """(module imported, names imported from it) for each import statement."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
    return found


def _project_target(module: str, name: str) -> str | None:
    """The project module an import refers to (``from pkg import mod`` -> ``pkg.mod``)."""
    if f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    return module if module in MODULES else None


def test_layers_import_only_downwards():
    forbidden = {"m2p_core": ("apache_beam", "transforms", "pipelines", "commands"),
                 "transforms": ("pipelines", "commands"), "pipelines": ("commands",)}
    bad = []
    for name, path in MODULES.items():
        rules = forbidden.get(name.split(".")[0], ())
        for module, _ in _imports(path, top_level_only=False):
            if module.split(".")[0] in rules:
                bad.append(f"{name} imports {module}")
    assert not bad, bad


def test_module_import_graph_has_no_cycle():
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for module, names in _imports(path, top_level_only=True):
            for target in {_project_target(module, n) for n in names or [""]}:
                if target and target != name:
                    deps.add(target)
        graph[name] = deps
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep] if dep in stack else [node, dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])


def test_no_private_names_imported_across_modules():
    bad = []
    for name, path in MODULES.items():
        for module, names in _imports(path, top_level_only=False):
            if module.split(".")[0] in LAYERS:
                bad += [f"{name}: from {module} import {n}" for n in names if n.startswith("_")]
    assert not bad, bad


@pytest.mark.parametrize("package", ["audio", "colour", "files", "generate", "model", "outputs",
                                     "palette", "recolor", "synth", "training", "video"])
def test_every_subpackage_index_resolves(package):
    module = importlib.import_module(f"m2p_core.{package}")
    assert module.__doc__ and module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, name
