"""The import graph: no cycles; the core imports no adapter; no adapter imports onboarding."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "faellesdrift"
ADAPTERS = {"lab", "platform", "network", "servers", "metering", "reports"}
ABOVE = {"onboarding", "importing", "distributed", "delivery", "cli", "commands"}  # wiring and
# flows above adapters


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:  # `from pkg import submodule` depends on the submodule
                    sub = f"{base}.{alias.name}"
                    if sub in modules:
                        deps.add(sub)
                    elif base in modules:
                        deps.add(base)
        graph[name] = deps - {name}
    return graph


def _layer(module: str) -> str:
    part = module.split(".")[1] if "." in module else ""
    return part if part in ADAPTERS | ABOVE else "core"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_layers_import_downwards_only():
    wrong = []
    for module, deps in _graph().items():
        for dep in deps:
            here, there = _layer(module), _layer(dep)
            if here == "core" and there != "core":
                wrong.append(f"core {module} imports {dep}")
            if here in ADAPTERS and there in ABOVE:
                wrong.append(f"adapter {module} imports {dep}")
    assert wrong == []


def test_the_checks_find_what_they_look_for():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    graph = _graph()
    assert "faellesdrift.onboarding.flow" in graph["faellesdrift.onboarding.cli"]
    assert "faellesdrift.lab.netns" in graph["faellesdrift.lab.segments"]
    assert (_layer("faellesdrift.estate"), _layer("faellesdrift.reports.site"),
            _layer("faellesdrift.onboarding.flow")) == ("core", "reports", "onboarding")


#: the one adapter that drives another: the platform's Pulumi provider creates lab servers and
#: devices through the lab's public API, as a provider drives a cloud's SDK
ADAPTER_USES = {("platform", "lab")}


def test_no_adapter_imports_another():
    wrong = sorted(f"{module} imports {dep}" for module, deps in _graph().items() for dep in deps
                   if _layer(module) in ADAPTERS and _layer(dep) in ADAPTERS
                   and _layer(module) != _layer(dep)
                   and (_layer(module), _layer(dep)) not in ADAPTER_USES)
    assert wrong == []


#: file names each adapter owns; whatever crosses adapters goes through a core artefact
OWNED_FILES = {
    "lab": ("devices.json", "state.json", "credentials.json", "forwards.json", "services.json"),
    "platform": ("outputs-",),
}


def _string_constants(path: Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_no_module_names_another_adapters_files():
    wrong = []
    for path in SRC.rglob("*.py"):
        here = _layer(_name(path))
        if here == "core":
            continue
        constants = _string_constants(path)
        for owner, names in OWNED_FILES.items():
            if owner == here:
                continue
            wrong += [f"{path.relative_to(SRC)} names {owner}'s {name!r}" for name in names
                      if any(name in c for c in constants if " " not in c)]  # not in prose
    assert wrong == []


def test_one_name_per_type():
    """A class name means one thing across the package (readers search by name)."""
    where: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(str(path.relative_to(SRC)))
    assert {n: p for n, p in where.items() if len(p) > 1} == {}
