"""The package's layout is its architecture: wings whose imports only run down, no circles, no UI."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mnist_core"
WINGS = ["data", "models", "analysis", "training", "store", "lab", "reports", "perf"]  # lowest first
TOP = {"__init__", "__main__", "cli"}  # above every wing (cli is a package of verb modules)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every mnist_core module `path` imports (at the top or inside a function), as dotted names."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("mnist_core"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)  # `from . import x`
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("mnist_core"))
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules}


def rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return len(WINGS)  # the package's __init__ re-exports the public API
    if parts[1] in TOP:
        return len(WINGS)
    return WINGS.index(parts[1])


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_only_the_entry_points_sit_at_the_top():
    assert sorted(p.stem for p in PACKAGE.glob("*.py")) == sorted(TOP - {"cli"})
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(
        WINGS + ["cli"]
    )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_down_the_wings(path):
    source = module_name(path)
    upward = [target for target in imported_modules(path) if rank(target) > rank(source)]
    assert not upward, f"{source} imports a wing above it: {upward}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_ui_in_the_package(path):
    tree = ast.parse(path.read_text())
    names = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    names |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "streamlit" not in names


def test_no_import_circles():
    graph = {module_name(p): {t for t in imported_modules(p) if t != module_name(p)} for p in SOURCES}
    # a package's __init__ re-exporting its own modules is not a circle back into it
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".") and t != "mnist_core"}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for target in graph.get(node, ()):
            if state.get(target) == 1:
                raise AssertionError("import circle: " + " -> ".join(path + [target]))
            if target not in state:
                visit(target, path + [target])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])


def test_the_checker_sees_lazy_and_relative_imports():
    """The rules above are not vacuous: imports inside functions and `..wing` imports are found."""
    launch = imported_modules(PACKAGE / "lab" / "launch.py")
    assert {"mnist_core.training.loop", "mnist_core.store.runs", "mnist_core.data.mnist"} <= launch
    assert rank("mnist_core.lab.launch") > rank("mnist_core.store.runs") > rank("mnist_core.training.loop")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_is_small_enough_to_read(path):
    assert len(path.read_text().splitlines()) <= 450, f"{path.name}: split it by what its parts do"


@pytest.mark.parametrize("path", sorted((PACKAGE / "store").glob("*.py")), ids=lambda p: p.name)
def test_the_store_only_says_what_a_run_is(path):
    """Starting processes, signals and the queue are the lab's work (mnist_core/lab), not the store's."""
    tree = ast.parse(path.read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"subprocess", "signal", "queue", "multiprocessing"}, path.name


def test_scripts_import_the_package_without_editing_sys_path():
    scripts = sorted((PACKAGE.parent / "scripts").glob("*.py"))
    assert scripts and not [path.name for path in scripts if "sys.path" in path.read_text()]
