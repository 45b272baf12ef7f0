"""The package's structure: no import circles, lower rooms never import higher ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bayesbg"

# Rooms from the ground up: a module may import its own room and the rooms below.
FLOORS = {
    "bayesbg.atomic": 0,
    "bayesbg.logs": 0,
    "bayesbg.reading": 0,
    "bayesbg.config": 1,
    "bayesbg.parallel": 1,
    "bayesbg.toolchain": 2,
    "bayesbg.stan": 3,
    "bayesbg.sbc": 4,
    "bayesbg.report": 4,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """bayesbg modules imported anywhere in the file (also inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("bayesbg"):
                found.add(target)
    # a submodule import also runs its package's __init__, which is imported anyway
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walker_finds_a_circle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle():
    graph = _graph()
    # a package's __init__ re-exports its modules; a module importing its own package's
    # face is a circle through that __init__, and counts
    cycle = _find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def _floor(module: str) -> int | None:
    for room, floor in FLOORS.items():
        if module == room or module.startswith(room + "."):
            return floor
    return None


@pytest.mark.parametrize("room", sorted(FLOORS))
def test_lower_rooms_never_import_higher_ones(room):
    graph = _graph()
    floor = FLOORS[room]
    offending = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items() if _floor(module) == floor and
        (module == room or module.startswith(room + "."))
        for target in targets
        if (_floor(target) is None and target != "bayesbg") or (_floor(target) or 0) > floor
    )
    assert not offending, "\n".join(offending)


# COSI's rooms by stage (STYLE.md), from data in to the command line: a module may import
# its own room and the rooms below; the package's face, bayesbg.cosi, sits on top
COSI_FLOORS = {
    "bayesbg.cosi._validation": 0,
    "bayesbg.cosi.data": 0,
    "bayesbg.cosi.response": 0,
    "bayesbg.cosi.io": 1,
    "bayesbg.cosi.pointing": 2,
    "bayesbg.cosi.exposure": 3,
    "bayesbg.cosi.model": 4,
    "bayesbg.cosi.config": 5,
    "bayesbg.cosi.simulate": 5,
    "bayesbg.cosi.flight": 5,
    "bayesbg.cosi.fit": 6,
    "bayesbg.cosi.checks": 7,
    "bayesbg.cosi.scan": 7,
    "bayesbg.cosi.imaging": 7,
    "bayesbg.cosi.pointsource": 7,
    "bayesbg.cosi.skymodels": 7,
    "bayesbg.cosi.results": 8,
    "bayesbg.cosi.spectral": 7,
    "bayesbg.cosi.cli": 8,
    "bayesbg.cosi": 9,
}


def _cosi_floor(module: str) -> int | None:
    rooms = [room for room in COSI_FLOORS if module == room or
             (room != "bayesbg.cosi" and module.startswith(room + "."))]
    return COSI_FLOORS[max(rooms, key=len)] if rooms else None


def test_every_cosi_module_has_a_room():
    homeless = sorted(m for m in _modules() if m.startswith("bayesbg.cosi")
                      and _cosi_floor(m) is None)
    assert not homeless, "add to COSI_FLOORS: " + ", ".join(homeless)


def test_lower_cosi_rooms_never_import_higher_ones():
    graph = _graph()
    offending = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items() if module.startswith("bayesbg.cosi")
        for target in targets if target.startswith("bayesbg.cosi")
        and _cosi_floor(target) > _cosi_floor(module)
    )
    assert not offending, "\n".join(offending)


def test_the_map_of_the_code_matches_the_tree():
    """docs/code_map.md names every module of the package, and only modules that exist."""
    page = (PACKAGE.parent / "docs" / "code_map.md").read_text(encoding="utf-8")
    listed = {name for name in re.findall(r"`((?:[\w]+/)*[\w]+\.py)`", page)
              if not name.startswith(("tests/", "benchmarks/", "analyses/", "data_prep/"))}
    missing_files = sorted(name for name in listed if not (PACKAGE / name).is_file())
    assert not missing_files, f"docs/code_map.md lists modules that do not exist: {missing_files}"
    modules = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if path.name != "__init__.py")
    unlisted = [name for name in modules if name not in listed]
    assert not unlisted, f"docs/code_map.md does not mention: {unlisted}"
