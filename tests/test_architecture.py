"""The layers hold: imports point down, the service's rooms keep to their side, no circles.

Imports are read with :mod:`ast` from the source (every ``import`` statement, also inside
functions and under ``TYPE_CHECKING``), so the test sees what a reader sees without importing
anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The packages, lowest layer first: each may import only the ones before it (and itself).
LAYERS = ["competency_model", "training_data", "recommender", "service"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The repo module an imported name lives in (``a.b.c`` → ``a.b`` if ``c`` is not a module)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        for name in names:
            resolved = _resolve(name)
            if resolved is not None and resolved != module:
                targets.add(resolved)
    return targets


GRAPH = {module: _imports(module) for module in MODULES}


def _offenders(importer_prefix: str, imported_prefix: str) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module == importer_prefix or module.startswith(importer_prefix + ".")
        for target in targets
        if target == imported_prefix or target.startswith(imported_prefix + ".")
    )


def test_the_import_graph_was_read() -> None:
    # Guards the test itself: a parser that found nothing would pass every rule below.
    assert "service.db.stores.records" in GRAPH["service.db.stores.scope"]
    assert "service.usecases.recommendations" in GRAPH["service.api.routes.teacher_models"]


@pytest.mark.parametrize(
    ("lower", "higher"),
    [(LAYERS[i], LAYERS[j]) for i in range(len(LAYERS)) for j in range(i + 1, len(LAYERS))],
)
def test_a_lower_layer_never_imports_a_higher_one(lower: str, higher: str) -> None:
    assert _offenders(lower, higher) == []


@pytest.mark.parametrize("room", ["service.db", "service.usecases", "service.cli", "service.state"])
def test_only_the_http_edge_imports_service_api(room: str) -> None:
    assert _offenders(room, "service.api") == []


def test_stores_never_import_use_cases_or_state() -> None:
    assert _offenders("service.db", "service.usecases") == []
    assert _offenders("service.db", "service.state") == []


def test_there_is_no_import_circle() -> None:
    # Tarjan's strongly connected components: any component of two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(GRAPH[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert circles == []


def test_no_module_calls_another_classs_private_methods() -> None:
    """A private method (``_name``) of a class is called only inside the module defining it.

    Helpers that reach into another object's private methods were one of the stumbles of the
    rooms issue (13): they make the class's real interface invisible. ``self``/``cls``/``super()``
    calls are the class's own business and pass.
    """
    defined: dict[str, set[Path]] = {}
    trees: dict[Path, ast.Module] = {}
    for room in ("competency_model", "training_data", "recommender", "service"):
        for path in sorted((ROOT / room).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            trees[path] = tree
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    for member in node.body:
                        name = getattr(member, "name", "")
                        if (
                            isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
                            and name.startswith("_")
                            and not name.startswith("__")
                        ):
                            defined.setdefault(name, set()).add(path)
    offenders = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr not in defined:
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super":
                continue
            if path not in defined[node.attr]:
                offenders.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(owner)}.{node.attr}"
                )
    assert offenders == []
