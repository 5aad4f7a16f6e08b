"""The package surface: one-way dependencies, explicit exports, working entry points."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import fakes.apiserver
import harness
import notifier
import notifier._adapters
import notifier.adapters
import notifier.assembly
import notifier.model

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"notifier": ("fakes", "harness"), "fakes": ("harness",)}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("package", "folder"), [("notifier", "src/notifier"), ("fakes", "fakes")])
def test_dependencies_point_one_way(package: str, folder: str) -> None:
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / folder).rglob("*.py")
        for name in _imports(path)
        if name in FORBIDDEN[package]
    )
    assert offenders == []


@pytest.mark.parametrize("module", [notifier, notifier._adapters, notifier.adapters, notifier.assembly,
                                    notifier.model, fakes.apiserver, harness])
def test_all_names_exactly_the_public_names_once(module: object) -> None:
    exported = list(module.__all__)  # type: ignore[attr-defined]
    lazy = set(getattr(module, "_LAZY", ()))  # imported when first asked for, by the module's __getattr__
    public = sorted({name for name in vars(module) if not name.startswith("_") and not _is_submodule(module, name)}
                    | lazy)
    assert len(exported) == len(set(exported))
    assert sorted(exported) == public
    for name in lazy:
        assert getattr(module, name).__name__ == name


def test_importing_the_harness_leaves_the_official_client_and_the_https_front_unimported() -> None:
    """What a `-j` worker and an xdist worker pay at start: `import harness` imports neither the official
    Kubernetes client nor the fake server's web stack (they come when `deliver_on_asyncio` or
    `HttpApiServer` is first asked for)."""
    code = ("import sys, harness, fakes.apiserver; "
            "print(sorted(m for m in ('kubernetes', 'fakes.apiserver._http') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _modules_imported(path: Path) -> set[str]:
    """Every module an import statement of the file names, in full."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _private(module: str, package: str) -> bool:
    return module.startswith(f"{package}._")


@pytest.mark.parametrize("folder", ["fakes", "harness", "bench"])
def test_nothing_outside_the_controller_imports_its_private_modules(folder: str) -> None:
    """fakes, harness and bench use `notifier`, `notifier.model`, `notifier.assembly` and `notifier.adapters`."""
    offenders = sorted(f"{path.relative_to(ROOT)} imports {name}" for path in (ROOT / folder).rglob("*.py")
                       for name in _modules_imported(path) if _private(name, "notifier"))
    assert offenders == []


def test_bench_and_generated_regression_tests_use_only_the_public_harness(tmp_path: Path) -> None:
    from harness._scenario import load_scenario
    from harness._shrink import regression_test

    offenders = sorted(f"{path.relative_to(ROOT)} imports {name}" for path in (ROOT / "bench").rglob("*.py")
                       for name in _modules_imported(path) if _private(name, "harness"))
    assert offenders == []
    scenario = load_scenario(harness.bundled()[0])
    generated = tmp_path / "test_probe.py"
    generated.write_text(regression_test("test_probe", scenario, 0, "pct", "lock-safety", None,
                                         [["replica-0", "api.get leases n", 1, "replica.pause", 31.0]],
                                         {"pct.priority#1": 1}))
    assert not {name for name in _modules_imported(generated) if _private(name, "harness")}
    assert not {name for name in _modules_imported(generated) if _private(name, "notifier")}


def _is_submodule(module: object, name: str) -> bool:
    value = getattr(module, name)
    return type(value).__name__ == "module"


@pytest.mark.parametrize("command", ["notifier", "notifier-sim"])
def test_console_scripts_print_help(command: str) -> None:
    done = subprocess.run([Path(sys.executable).parent / command, "--help"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout.startswith(f"usage: {command}")


def test_notifier_crd_prints_a_crd_with_a_status_subresource() -> None:
    done = subprocess.run([sys.executable, "-m", "notifier.cli", "crd"], capture_output=True, text=True, check=True)
    crd = yaml.safe_load(done.stdout)
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == "notificationrequests.kubernaut.ai"
    assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert crd["spec"]["names"]["shortNames"] == ["notif", "notifs"]


def test_mutants_touch_no_private_attribute_of_the_controller() -> None:
    """Mutants replace declared seams (`notifier.assembly.Seams`) or wrap the `Reconciler` port: a rename
    inside the controller cannot silently disarm one."""
    tree = ast.parse((ROOT / "harness" / "mutants.py").read_text())
    private = sorted(f"line {node.lineno}: .{node.attr}" for node in ast.walk(tree)
                     if isinstance(node, ast.Attribute) and node.attr.startswith("_")
                     and not (node.attr.startswith("__") and node.attr.endswith("__")))
    assert private == []


@pytest.mark.parametrize("package", ["harness", "fakes", "notifier"])
def test_no_import_cycle_between_modules(package: str) -> None:
    """Modules of a package import each other one way (the package's `__init__` aside), type-only imports too."""
    folder = ROOT / ("src/notifier" if package == "notifier" else package)
    modules = {f"{package}.{'.'.join(path.relative_to(folder).with_suffix('').parts)}": path
               for path in folder.rglob("*.py") if path.name != "__init__.py"}
    graph = {name: {m for m in _modules_imported(path) if m in modules} for name, path in modules.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> list[str]:
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                return [*trail, name, other]
            if other not in state and (cycle := visit(other, [*trail, name])):
                return cycle
        state[name] = "done"
        return []

    cycles = [cycle for name in sorted(graph) if name not in state and (cycle := visit(name, []))]
    assert cycles == []
