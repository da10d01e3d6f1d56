"""The import contract of DESIGN.md, checked on the source (``ast``), lazy imports included.

- core imports no Qt, no ``kinograph.gui``, ``kinograph.cli``, ``kinograph.batch``, no plugin
  and neither public API module (they are built on it);
- plugins (built-in packs and the example package) import only the plugin API ``kinograph.api``
  (a built-in pack may use its own modules and another built-in pack's);
- gui, cli and batch (and the test harness ``kinograph.testing``) import only the host API
  ``kinograph.host``, the plugin API and their own package: the CLI never imports the editor
  or a plugin, the editor never imports the CLI.

Imports inside functions and under ``TYPE_CHECKING`` count, and so do module names handed to
``importlib.import_module`` as string constants.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from plugin_venv import REPO

PACKAGE = REPO / "kinograph"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``, wherever it sits."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "kinograph":
                found += [(node.lineno, f"kinograph.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.partition(":")[0]))
    return sorted(found)


def _under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_of(path: Path) -> str:
    """The layer a file of the kinograph package belongs to."""
    parts = path.relative_to(PACKAGE).parts
    if parts[0] in ("core", "plugins", "gui", "cli", "batch"):
        return parts[0]
    return {"api.py": "api", "host.py": "host", "testing.py": "testing"}.get(parts[0], "package")


def violations(layer: str, source: str) -> list[str]:
    """What ``source``, a file of ``layer``, imports against the contract."""
    problems = []
    for line, module in imported_modules(source):
        if module == "kinograph.__version__":
            continue  # the package's own version sits above every layer
        top = module.split(".")[0]
        reason = None
        if layer == "core":
            if top in QT:
                reason = "core imports no Qt"
            elif _under(module, "kinograph.gui", "kinograph.cli", "kinograph.batch", "kinograph.plugins"):
                reason = "core imports no editor, CLI, batch or plugin"
            elif _under(module, "kinograph.api", "kinograph.host", "kinograph.testing"):
                reason = "core is what the public APIs are built on; it imports neither"
        elif layer == "plugins":
            if top == "kinograph" and not _under(module, "kinograph.api", "kinograph.plugins"):
                reason = "plugins import only the plugin API (kinograph.api)"
        elif layer in ("gui", "cli", "batch", "testing"):
            own = f"kinograph.{layer}"
            if top == "kinograph" and not _under(module, "kinograph.api", "kinograph.host", own):
                reason = f"{layer} imports only kinograph.host and kinograph.api"
            if layer != "gui" and top in QT:
                reason = f"{layer} imports no Qt"
        elif layer in ("api", "host") and _under(module, "kinograph.gui", "kinograph.cli", "kinograph.batch", "kinograph.plugins"):
            reason = "the public APIs are built on core only"
        if reason:
            problems.append(f"line {line}: imports {module}: {reason}")
    return problems


def package_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize(
    ("layer", "source", "expected"),
    [
        ("core", "from kinograph.gui.app import run_editor\n", "core imports no editor"),
        ("core", "def f():\n    from kinograph.plugins import BUILTIN\n", "core imports no editor, CLI, batch or plugin"),
        ("core", "import importlib\nimportlib.import_module('kinograph.plugins.media.embed')\n", "plugin"),
        ("core", "from PySide6.QtCore import Qt\n", "no Qt"),
        ("core", "from kinograph.cli.main import main\n", "no editor, CLI"),
        ("cli", "from kinograph.gui.app import run_editor\n", "cli imports only"),
        ("cli", "from kinograph.core.registry import get_registry\n", "cli imports only"),
        ("cli", "from kinograph.plugins.learned import commands\n", "cli imports only"),
        ("gui", "from kinograph.core.graph import Graph\n", "gui imports only"),
        ("gui", "if TYPE_CHECKING:\n    from kinograph.core.events import Event\n", "gui imports only"),
        ("batch", "from kinograph.cli.main import main\n", "batch imports only"),
        ("plugins", "from kinograph.core.node import Node\n", "plugin API"),
        ("plugins", "from kinograph.host import Graph\n", "plugin API"),
    ],
)
def test_the_check_catches_each_forbidden_import(layer: str, source: str, expected: str) -> None:
    problems = violations(layer, source)
    assert problems and expected in problems[0], problems


def test_allowed_imports_pass_the_check() -> None:
    assert violations("cli", "from kinograph.host import Graph\nfrom kinograph.cli.render import PlainLines\n") == []
    assert violations("plugins", "from kinograph.api import Node\nfrom kinograph.plugins.camera import warp\n") == []
    assert violations("core", "import pluggy\nfrom kinograph.core.node import Node\n") == []


def test_every_layer_has_files_to_check() -> None:
    layers = {layer_of(p) for p in package_files()}
    assert {"core", "plugins", "gui", "cli", "api", "host", "testing"} <= layers


@pytest.mark.parametrize("path", package_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_the_package_keeps_the_import_contract(path: Path) -> None:
    problems = violations(layer_of(path), path.read_text(encoding="utf-8"))
    assert not problems, f"{path.relative_to(REPO)}: " + "; ".join(problems)


EXAMPLE = REPO / "examples" / "kinograph-grain" / "src"


@pytest.mark.parametrize("path", sorted(EXAMPLE.rglob("*.py")), ids=lambda p: str(p.relative_to(REPO)))
def test_the_example_plugin_imports_only_the_plugin_api(path: Path) -> None:
    problems = violations("plugins", path.read_text(encoding="utf-8"))
    assert not problems, f"{path.relative_to(REPO)}: " + "; ".join(problems)


def test_host_names_still_import_from_the_plugin_api_with_a_deprecation_warning() -> None:
    import kinograph.api
    import kinograph.host

    for name in sorted(kinograph.api.MOVED_TO_HOST):
        with pytest.warns(DeprecationWarning, match=f"from kinograph.host import {name}"):
            value = getattr(kinograph.api, name)
        assert value is getattr(kinograph.host, name)
    assert not set(kinograph.api.__all__) & kinograph.api.MOVED_TO_HOST, "the plugin API lists host names"
    with pytest.raises(AttributeError):
        kinograph.api.NoSuchThing  # noqa: B018
