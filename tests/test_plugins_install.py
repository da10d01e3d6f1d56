"""Installed plugins, as users get them: pip-installed packages found through entry points.

One venv for the module (pip installs are slow): the example package ``kinograph-grain`` plus a
tiny real package for each kind of broken plugin. Every check runs the ``kinograph`` command in
that venv. The last test uninstalls the example package.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from plugin_venv import REPO, PluginVenv, copy_package

EXAMPLE = REPO / "examples" / "kinograph-grain"
GRAIN_NODES = {"grain.film_grain", "grain.palette", "grain.palette_map", "grain.sharpen", "grain.contact_sheet"}

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.3.1"

[project.entry-points."kinograph.plugins"]
{plugin} = "{module}"
"""

#: plugin name -> (distribution, module source)
BROKEN = {
    "raises_on_import": (
        "kg-raises-on-import",
        """
        import unobtainium_sdk  # not installed: importing the plugin fails
        """,
    ),
    "hook_raises": (
        "kg-hook-raises",
        """
        from kinograph.api import hookimpl

        @hookimpl
        def kinograph_nodes():
            raise RuntimeError("licence server unreachable")
        """,
    ),
    "misspelt_hook": (
        "kg-misspelt-hook",
        """
        from kinograph.api import hookimpl

        @hookimpl
        def kinograph_node():  # should be kinograph_nodes
            return []
        """,
    ),
    "dup_a": ("kg-dup-a", None),
    "dup_b": ("kg-dup-b", None),
}

DUPLICATE = """
from kinograph.api import FRAME_STREAM, Input, Node, Output, hookimpl

class Blur(Node):
    type_id = "dup.blur"
    display_name = "Blur from {plugin}"
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM)]

    def run(self, ctx, frames):
        return {{"frames": frames}}

@hookimpl
def kinograph_nodes():
    return [Blur]
"""

#: what `kinograph plugins` must say about each broken plugin
EXPECTED_ERRORS = {
    "raises_on_import": "import failed: ModuleNotFoundError: No module named 'unobtainium_sdk'",
    "hook_raises": "kinograph_nodes() raised RuntimeError: licence server unreachable",
    "misspelt_hook": "invalid hooks: unknown hook 'kinograph_node'",
    "dup_b": "node type 'dup.blur' is already provided by plugin 'dup_a'",
}


def write_plugin_package(root: Path, plugin: str, dist: str, source: str) -> Path:
    module = f"{plugin}_plugin"
    package = root / dist
    (package / "src").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT.format(dist=dist, plugin=plugin, module=module))
    (package / "src" / f"{module}.py").write_text(textwrap.dedent(source).lstrip())
    return package


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> PluginVenv:
    root = tmp_path_factory.mktemp("plugin-venv")
    env = PluginVenv(root)
    packages = [copy_package(EXAMPLE, root / "kinograph-grain")]
    for plugin, (dist, source) in BROKEN.items():
        packages.append(write_plugin_package(root / "src", plugin, dist, source or DUPLICATE.format(plugin=plugin)))
    env.pip_install(*(str(p) for p in packages))
    return env


def nodes_json(venv: PluginVenv, **env: str) -> dict[str, dict]:
    done = venv.kinograph("nodes", "--json", **env)
    assert done.returncode == 0, done.stderr
    return {record["type"]: record for record in json.loads(done.stdout)}


def plugins_json(venv: PluginVenv, **env: str) -> dict[str, dict]:
    done = venv.kinograph("plugins", "--json", **env)
    return {record["name"]: record for record in json.loads(done.stdout)}


def test_installed_example_nodes_are_listed_with_their_plugin(venv: PluginVenv) -> None:
    nodes = nodes_json(venv)
    assert GRAIN_NODES <= set(nodes)
    for type_id in GRAIN_NODES:
        assert nodes[type_id]["plugin"] == {"name": "grain", "dist": "kinograph-grain", "version": "2.0.0"}
    assert nodes["kinograph.frames.test_pattern"]["plugin"]["dist"] == "kinograph"
    assert nodes["grain.film_grain"]["version"] == 2
    # The conflict kept the first plugin's node, never silently the second's.
    assert nodes["dup.blur"]["display_name"] == "Blur from dup_a"
    assert nodes["dup.blur"]["plugin"]["name"] == "dup_a"
    text = venv.kinograph("nodes")
    assert text.returncode == 0
    assert "grain.film_grain  'Film grain'  (frames: FrameStream) -> (frames: FrameStream)  [grain]" in text.stdout
    for plugin in EXPECTED_ERRORS:
        assert f"warning: plugin {plugin!r}" in text.stderr


def test_graph_with_installed_nodes_runs_headless(venv: PluginVenv, tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "graphs" / "demo.json", tmp_path / "demo.json")
    done = venv.kinograph("run", "demo.json", "--device", "cpu", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sheet = tmp_path / "out" / "demo_sheet.png"
    assert done.stdout.strip() == str(sheet)
    assert sheet.stat().st_size > 1000
    assert "finished" in done.stderr


def test_each_broken_plugin_is_reported_by_name_and_the_rest_load(venv: PluginVenv) -> None:
    done = venv.kinograph("plugins")
    assert done.returncode == 0, done.stderr
    blocks: dict[str, str] = {}
    current = ""
    for line in done.stdout.splitlines():
        if not line.startswith(" "):
            current = line.split()[0]
        blocks[current] = blocks.get(current, "") + line + "\n"
    for plugin, message in EXPECTED_ERRORS.items():
        assert message in blocks[plugin], blocks[plugin]
    assert "kg-raises-on-import 0.3.1" in blocks["raises_on_import"]
    assert "kinograph-grain 2.0.0" in blocks["grain"] and "5 nodes  ok" in blocks["grain"]
    assert "1 nodes  ok" in blocks["dup_a"]
    records = plugins_json(venv)
    assert records["grain"]["status"] == "ok" and records["grain"]["nodes"] == 5
    for plugin in ("raises_on_import", "hook_raises", "misspelt_hook"):
        assert records[plugin]["status"] == "failed"
        assert records[plugin]["nodes"] == 0
    assert records["dup_b"]["errors"] and records["dup_b"]["nodes"] == 0


@pytest.mark.parametrize("broken", ["raises_on_import", "hook_raises", "misspelt_hook", "dup_b"])
def test_strict_mode_makes_each_problem_an_error(venv: PluginVenv, broken: str) -> None:
    others = [p for p in EXPECTED_ERRORS if p != broken]
    env = {"KINOGRAPH_STRICT_PLUGINS": "1", "KINOGRAPH_BLOCK_PLUGINS": ",".join(others)}
    for command in (["nodes"], ["nodes", "--json"], ["plugins"]):
        done = venv.kinograph(*command, **env)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert f"error: plugin {broken!r}: {EXPECTED_ERRORS[broken]}" in done.stderr
        for other in others:
            assert f"plugin {other!r}" not in done.stderr
        assert "Traceback" not in done.stderr


def test_blocking_the_broken_plugins_passes_strict_mode(venv: PluginVenv) -> None:
    env = {"KINOGRAPH_STRICT_PLUGINS": "1", "KINOGRAPH_BLOCK_PLUGINS": ",".join(EXPECTED_ERRORS)}
    nodes = nodes_json(venv, **env)
    assert GRAIN_NODES <= set(nodes)
    records = plugins_json(venv, **env)
    assert {records[p]["status"] for p in EXPECTED_ERRORS} == {"blocked"}
    assert records["grain"]["status"] == "ok"


def test_disabling_plugins_skips_every_external_one(venv: PluginVenv) -> None:
    env = {"KINOGRAPH_STRICT_PLUGINS": "1", "KINOGRAPH_DISABLE_PLUGINS": "1"}
    nodes = nodes_json(venv, **env)
    assert not GRAIN_NODES & set(nodes)
    assert "dup.blur" not in nodes
    assert "kinograph.frames.test_pattern" in nodes
    records = plugins_json(venv, **env)
    assert records["grain"]["status"] == "disabled"
    assert all(r["status"] == "ok" for r in records.values() if r["builtin"])


def test_listing_nodes_imports_no_heavy_library(venv: PluginVenv) -> None:
    code = (
        "import sys\n"
        "from kinograph.cli.main import main\n"
        "main(['nodes'])\n"
        "heavy = [m for m in ('torch', 'numpy', 'cv2', 'av', 'PIL', 'networkx') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = venv.run(["python", "-c", code])
    assert done.returncode == 0, done.stderr
    assert "grain.sharpen" in done.stdout  # the example plugin was loaded...
    assert "HEAVY []" in done.stdout  # ...without importing torch, numpy or Pillow


def test_uninstalling_removes_the_nodes(venv: PluginVenv, tmp_path: Path) -> None:
    """Runs last: it takes kinograph-grain out of the shared venv."""
    venv.pip_uninstall("kinograph-grain")
    nodes = nodes_json(venv)
    assert not GRAIN_NODES & set(nodes)
    assert "grain" not in plugins_json(venv)
    shutil.copy(EXAMPLE / "graphs" / "demo.json", tmp_path / "demo.json")
    done = venv.kinograph("validate", "demo.json", cwd=tmp_path)
    assert done.returncode == 2
    # The file names the package that provided the missing nodes.
    assert "kinograph-grain" in done.stderr
    assert "Traceback" not in done.stderr
