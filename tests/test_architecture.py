"""The package's import structure: no circles, no upward imports against docs/architecture.md's layer order, no
`from latentatlas ...` inside function bodies outside cli/, no source file over 300 lines.

The imports are read with `ast` from the source files (nothing is imported), so the test also sees imports that
only run on some code paths.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "latentatlas"

# Layer of each top-level module or package, as docs/architecture.md writes it down; `ALLOWED` says which layers
# each one may import (its own layer's modules always; circles among them are caught separately).
LAYER = {
    **dict.fromkeys(
        ["_version", "errors", "choices", "outdir", "jsonio", "textio", "device", "heap", "dist", "__init__"], "base"
    ),
    "data": "data",
    "models": "models",
    "losses": "losses",
    "config_schema": "config",
    "config": "config",
    "configs": "config",
    "train": "train",
    "analysis": "analysis",
    "latentmaps": "latentmaps",
    "report": "report",
    "tasks": "tasks",
    "sweep": "sweep",
    "explorer": "explorer",
    "api": "api",
    "cli": "cli",
    "__main__": "cli",
}
BELOW_TASKS = {"base", "data", "models", "losses", "config", "train", "analysis", "latentmaps", "report"}
ALLOWED = {
    "base": {"base"},
    "data": {"base", "data"},
    "models": {"base", "models"},
    "losses": {"base", "losses"},
    "config": {"base", "data", "models", "losses", "config"},
    "train": {"base", "config", "train"},
    "analysis": {"base", "analysis"},  # geometry of ANY embeddings: nothing of training, models or shapes
    "latentmaps": {"base", "data", "analysis", "latentmaps"},
    "report": {"base", "data", "config", "analysis", "latentmaps", "report"},  # config: to tell config keys
    "tasks": BELOW_TASKS | {"tasks"},
    "sweep": BELOW_TASKS | {"tasks", "sweep"},
    "explorer": BELOW_TASKS | {"tasks", "explorer"},
    "api": BELOW_TASKS | {"tasks", "explorer", "api"},
    "cli": set(LAYER.values()),
}
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = ["latentatlas", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return LAYER["__init__"] if len(parts) == 1 else LAYER[parts[1]]


def resolve(name: str) -> str:
    """The module an import names: itself when it is a module or package of ours, else its parent."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported latentatlas module, line, inside a function?) for every import statement of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            names = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [f"{child.module}.{a.name}" for a in child.names]
            for name in names:
                if name == "latentatlas" or name.startswith("latentatlas."):
                    found.append((resolve(name), child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


GRAPH = {name: imports(path) for name, path in MODULES.items()}


def test_every_top_level_module_has_a_layer():
    unknown = sorted({m.split(".")[1] for m in MODULES if "." in m} - set(LAYER))
    assert not unknown, f"add {unknown} to LAYER here and to docs/architecture.md's layer order"


def test_no_upward_import_against_the_layer_order():
    bad = [
        f"{mod} ({layer_of(mod)}) line {line} imports {target} ({layer_of(target)})"
        for mod, edges in GRAPH.items()
        for target, line, _ in edges
        if layer_of(target) not in ALLOWED[layer_of(mod)]
    ]
    assert not bad, "\n".join(bad)


def test_no_import_inside_functions_outside_cli():
    bad = [
        f"{mod} line {line} imports {target} inside a function"
        for mod, edges in GRAPH.items()
        for target, line, in_function in edges
        if in_function and layer_of(mod) != "cli"
    ]
    assert not bad, "\n".join(bad)


def test_no_import_circle_between_files():
    graph = {mod: {t for t, _, _ in edges if t != mod} for mod, edges in GRAPH.items()}
    # A package's __init__ re-exports its modules; a module importing a sibling through the package would be a
    # circle too, and is caught here like any other.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], path[len(path) :] = 1, [node]
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for mod in sorted(graph):
        if mod not in state and (cycle := visit(mod)):
            pytest.fail("import circle: " + " -> ".join(cycle))


def test_no_source_file_over_300_lines():
    long = {str(p.relative_to(SRC)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these files by concept: {long}"


def test_the_checker_sees_a_circle_and_an_upward_import(tmp_path):
    """The walker itself: an upward import and a function-level import in a made-up file are found."""
    fake = tmp_path / "fake.py"
    fake.write_text("from latentatlas.report import html\n\ndef f():\n    from latentatlas.train import loop\n")
    found = imports(fake)
    assert ("latentatlas.report.html", 1, False) in found
    assert ("latentatlas.train.loop", 4, True) in found
    assert layer_of("latentatlas.report.html") not in ALLOWED[layer_of("latentatlas.analysis.io")]
