"""Plugins import nothing from kinograph but the public API (``kinograph.api``).

Checked by parsing the imports (``ast``) of every built-in pack and the example package, so a
pack that reaches into ``kinograph.core`` fails here, not when the core changes under it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from plugin_venv import REPO

PLUGIN_ROOTS = [REPO / "kinograph" / "plugins", REPO / "examples" / "kinograph-grain" / "src"]


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a kinograph module other than kinograph.api.

    Imports between built-in packs (``kinograph.plugins...``) and relative imports inside a
    pack are allowed; so is anything outside kinograph.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "kinograph":
                modules = [f"kinograph.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] != "kinograph":
                continue
            if module == "kinograph.api" or module.startswith("kinograph.plugins"):
                continue
            found.append((node.lineno, module))
    return sorted(found)


def plugin_files() -> list[Path]:
    return sorted(p for root in PLUGIN_ROOTS for p in root.rglob("*.py"))


def test_the_check_catches_core_imports() -> None:
    source = (
        "import numpy\n"
        "from kinograph.api import Node\n"
        "from kinograph.plugins.basic import Number\n"
        "from . import sibling\n"
        "from kinograph.core.node import Node\n"
        "import kinograph.core.registry as registry\n"
        "from kinograph import testing\n"
        "if TYPE_CHECKING:\n"
        "    from kinograph.core.graph import Graph\n"
    )
    assert forbidden_imports(source) == [
        (5, "kinograph.core.node"),
        (6, "kinograph.core.registry"),
        (7, "kinograph.testing"),
        (9, "kinograph.core.graph"),
    ]


def test_there_are_plugin_files_to_check() -> None:
    names = {p.name for p in plugin_files()}
    assert {"basic.py", "plugin.py", "grain.py"} <= names


@pytest.mark.parametrize("path", plugin_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_plugin_imports_only_the_public_api(path: Path) -> None:
    problems = forbidden_imports(path.read_text(encoding="utf-8"))
    assert not problems, "; ".join(f"line {line}: imports {module}, use kinograph.api" for line, module in problems)
