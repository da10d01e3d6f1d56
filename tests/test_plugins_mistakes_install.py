"""Plugin authors' mistakes in pip-installed packages, as a user meets them through ``kinograph``.

One venv for the module (pip installs are slow): a working third-party plugin, kg-vignette (a
streamed effect written with ``FrameStream.map``, its own port type with a converter and a
viewer preview, a renamed node type), and one small real package per mistake. Every check runs
the ``kinograph`` command in that venv, as a user would.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from plugin_venv import PluginVenv

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "{version}"

[project.entry-points."kinograph.plugins"]
{plugin} = "{package}.plugin"

[tool.setuptools.packages.find]
where = ["src"]
"""

VIGNETTE_NODES = '''
from typing import Any

from kinograph.api import (
    FRAME_STREAM, FrameStream, Input, Node, NodeFailure, NodeParams, Output, RunContext, Slider,
)

TONE_CURVE = "ToneCurve"


class Vignette(Node["Vignette.Params"]):
    type_id = "vignette.vignette"
    legacy_type_ids = ("vignette.vignete",)  # 0.0.x shipped the misspelt id
    display_name = "Vignette"
    category = "Effects"
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        strength: float = Slider(0.5, ge=0.0, le=1.0)
        fail_at: int = Slider(-1, ge=-1, le=100_000, description="Fail at this frame (tests).")

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        import numpy as np

        h, w = frames.height, frames.width
        y, x = np.mgrid[0:h, 0:w]
        r = np.hypot((x - w / 2) / (w / 2), (y - h / 2) / (h / 2))
        gain = (1 - self.params.strength * np.clip(r, 0, 1) ** 2)[..., None]
        fail_at = self.params.fail_at

        def one_frame(frame: Any, index: int) -> Any:
            if index == fail_at:
                raise ZeroDivisionError("mask radius is zero")
            return (frame * gain + 0.5).astype(np.uint8)

        return {"frames": frames.map(one_frame)}


class Curve(Node["Curve.Params"]):
    type_id = "vignette.curve"
    outputs = [Output("curve", TONE_CURVE)]

    class Params(NodeParams):
        gamma: float = Slider(2.2, ge=0.1, le=10.0)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"curve": [round(255 * (i / 255) ** (1 / self.params.gamma)) for i in range(256)]}
'''

VIGNETTE_PLUGIN = '''
from kinograph.api import Converter, Node, PortType, Preview, hookimpl
from kg_vignette.nodes import TONE_CURVE, Curve, Vignette


def curve_to_tensor(curve):
    import numpy as np

    return np.asarray(curve, dtype=np.uint8)


@hookimpl
def kinograph_port_types():
    return [PortType(TONE_CURVE, "A 256-entry lookup table.", color="#ff7043")]


@hookimpl
def kinograph_converters():
    return [Converter(TONE_CURVE, "Tensor", curve_to_tensor, "a curve becomes a uint8 array [256]")]


@hookimpl
def kinograph_previews():
    return [Preview(TONE_CURVE, lambda curve: {"value": list(curve)})]


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Vignette, Curve]
'''

EFFECT = '''
from kinograph.api import FRAME_STREAM, Input, Node, NodeParams, Output, Slider, hookimpl


class {name}(Node):
    type_id = "{type_id}"
    inputs = [Input("frames", {input_type})]
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        strength: float = Slider({default}, ge=0.0, le=1.0)

    def run(self, ctx, frames):
        return {{"frames": frames}}
'''

#: (plugin name, distribution, {module: source}) of every package installed
PACKAGES = {
    "vignette": ("kg-vignette", {"nodes": VIGNETTE_NODES, "plugin": VIGNETTE_PLUGIN}),
    # sorts before "vignette" and declares its type id: the owner keeps it
    "aaa": ("kg-aaa-tools", {
        "effects": EFFECT.format(name="Impostor", type_id="vignette.vignette", input_type="FRAME_STREAM", default=0.5),
        "plugin": "from kinograph.api import hookimpl\nfrom kg_aaa_tools.effects import Impostor\n\n"
                  "@hookimpl\ndef kinograph_nodes():\n    return [Impostor]\n",
    }),
    "baddefault": ("kg-bad-default", {
        "effects": EFFECT.format(name="Glow", type_id="baddefault.glow", input_type="FRAME_STREAM", default='"half"'),
        "plugin": "from kinograph.api import hookimpl\nfrom kg_bad_default.effects import Glow\n\n"
                  "@hookimpl\ndef kinograph_nodes():\n    return [Glow]\n",
    }),
    "forgot": ("kg-forgot", {
        "effects": EFFECT.format(name="Haze", type_id="forgot.haze", input_type="FRAME_STREAM", default=0.5),
        "plugin": "from kg_forgot.effects import Haze\n\n\ndef kinograph_nodes():  # no @hookimpl\n    return [Haze]\n",
    }),
    "misspelt": ("kg-misspelt", {
        "effects": EFFECT.format(name="Blur", type_id="misspelt.blur", input_type='"Framestream"', default=0.5),
        "plugin": "from kinograph.api import hookimpl\nfrom kg_misspelt.effects import Blur\n\n"
                  "@hookimpl\ndef kinograph_nodes():\n    return [Blur]\n",
    }),
    "badconv": ("kg-bad-converter", {
        "plugin": "from kinograph.api import Converter, PortType, hookimpl\n\n"
                  "def lut_to_text(lut):\n    return str(lut)\n\n"
                  "@hookimpl\ndef kinograph_port_types():\n    return [PortType('Lut')]\n\n"
                  "@hookimpl\ndef kinograph_converters():\n    return [Converter('Lut', 'Txt', lut_to_text)]\n",
    }),
    "twice": ("kg-twice", {
        "blur": EFFECT.format(name="Blur", type_id="twice.blur", input_type="FRAME_STREAM", default=0.5),
        "fast": EFFECT.format(name="FastBlur", type_id="twice.blur", input_type="FRAME_STREAM", default=0.5),
        "plugin": "from kinograph.api import hookimpl\nfrom kg_twice.blur import Blur\nfrom kg_twice.fast import FastBlur\n\n"
                  "@hookimpl\ndef kinograph_nodes():\n    return [Blur, FastBlur]\n",
    }),
    "grade": ("kg-grade", {
        "plugin": "from kinograph.api import hookimpl\n\n@hookimpl\ndef kinograph_nodes():\n"
                  "    raise RuntimeError('licence server unreachable')\n",
    }),
}

#: what `kinograph plugins --json` must say about each plugin with a mistake
EXPECTED = {
    "aaa": "node type 'vignette.vignette' belongs to plugin 'vignette' (prefix 'vignette'); plugin 'aaa' also "
           "declares it in Impostor (kg_aaa_tools.effects): kept 'vignette''s Vignette (kg_vignette.nodes)",
    "baddefault": "node Glow (kg_bad_default.effects): param 'strength': default 'half' is invalid: "
                  "Input should be a valid number",
    "forgot": "function kinograph_nodes is not marked @hookimpl",
    "misspelt": "node Blur (kg_misspelt.effects): port 'frames' has unknown type 'Framestream' (did you mean 'FrameStream'?)",
    "badconv": "converter Lut -> Txt (lut_to_text) names unknown port type 'Txt' (did you mean 'Text'?)",
    "twice": "node type 'twice.blur' is declared twice in plugin 'twice': Blur (kg_twice.blur) and FastBlur (kg_twice.fast)",
    "grade": "kinograph_nodes() raised RuntimeError: licence server unreachable",
}


def graph(nodes: dict[str, dict], links: list[tuple[str, str]]) -> str:
    return json.dumps({
        "format": "kinograph.graph", "version": 1, "nodes": nodes,
        "links": [{"from": a, "to": b} for a, b in links],
    })


PATTERN = {"type": "kinograph.frames.test_pattern", "version": 1, "params": {"width": 32, "height": 16, "frames": 12}}
WRITE = {"type": "kinograph.video.write", "version": 1, "params": {"path": "out/v.mp4"}}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> PluginVenv:
    root = tmp_path_factory.mktemp("mistakes-venv")
    env = PluginVenv(root)
    packages = []
    for plugin, (dist, modules) in PACKAGES.items():
        package = dist.replace("-", "_")
        folder = root / "src" / dist
        (folder / "src" / package).mkdir(parents=True)
        version = "0.1.0" if plugin == "vignette" else "0.3.1"
        (folder / "pyproject.toml").write_text(PYPROJECT.format(dist=dist, version=version, plugin=plugin, package=package))
        (folder / "src" / package / "__init__.py").write_text("")
        for module, source in modules.items():
            (folder / "src" / package / f"{module}.py").write_text(textwrap.dedent(source).lstrip())
        packages.append(str(folder))
    env.pip_install(*packages)
    return env


def test_each_mistake_is_reported_by_kinograph_plugins(venv: PluginVenv) -> None:
    done = venv.kinograph("plugins", "--json")
    assert done.returncode == 0, done.stderr
    records = {r["name"]: r for r in json.loads(done.stdout)}
    for plugin, message in EXPECTED.items():
        assert any(message in e for e in records[plugin]["errors"]), (plugin, records[plugin]["errors"])
    assert records["vignette"]["status"] == "ok" and records["vignette"]["nodes"] == 2
    for plugin in ("aaa", "baddefault", "forgot", "misspelt", "grade"):
        assert records[plugin]["status"] == "failed", plugin
    assert records["twice"]["status"] == "problems" and records["twice"]["nodes"] == 1
    assert records["badconv"]["status"] == "problems"  # its port type registered
    text = venv.kinograph("plugins")
    assert "0 nodes  failed" in text.stdout  # no more "0 nodes ok" for a plugin that registers nothing


def test_the_owner_keeps_its_node_and_the_bad_default_never_reaches_the_schema(venv: PluginVenv) -> None:
    done = venv.kinograph("nodes", "--json")
    assert done.returncode == 0, done.stderr
    nodes = {r["type"]: r for r in json.loads(done.stdout)}
    assert nodes["vignette.vignette"]["plugin"] == {"name": "vignette", "dist": "kg-vignette", "version": "0.1.0"}
    assert nodes["vignette.vignette"]["display_name"] == "Vignette"
    assert "baddefault.glow" not in nodes and "misspelt.blur" not in nodes and "forgot.haze" not in nodes
    assert nodes["twice.blur"]["plugin"]["name"] == "twice"


def test_types_lists_port_types_with_colour_plugin_and_converters(venv: PluginVenv) -> None:
    done = venv.kinograph("types", "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    types = {t["name"]: t for t in listing["types"]}
    assert types["ToneCurve"]["color"] == "#ff7043"
    assert types["ToneCurve"]["plugin"] == {"name": "vignette", "dist": "kg-vignette", "version": "0.1.0"}
    assert types["ToneCurve"]["preview"] == "vignette"
    assert types["FrameStream"]["plugin"]["name"] == "kinograph" and types["FrameStream"]["streaming"]
    assert types["Lut"]["plugin"]["name"] == "badconv"
    converters = {(c["from"], c["to"]): c for c in listing["converters"]}
    assert converters[("ToneCurve", "Tensor")]["plugin"]["name"] == "vignette"
    assert ("Lut", "Txt") not in converters
    text = venv.kinograph("types")
    assert text.returncode == 0
    assert any(line.split()[:3] == ["ToneCurve", "#ff7043", "[vignette]"] for line in text.stdout.splitlines())
    assert "ToneCurve -> Tensor  [vignette]" in text.stdout


def test_validate_says_which_installed_plugin_failed_and_prints_plugin_problems(venv: PluginVenv, tmp_path: Path) -> None:
    saved_by = {"name": "grade", "dist": "kg-grade", "version": "0.3.1"}
    text = graph({"p": PATTERN, "lift": {"type": "grade.lift", "version": 1, "plugin": saved_by}}, [])
    (tmp_path / "g.json").write_text(text)
    done = venv.kinograph("validate", "g.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown node type 'grade.lift'" in done.stderr
    assert "kg-grade 0.3.1 is installed but failed: kinograph_nodes() raised RuntimeError: licence server unreachable" in done.stderr
    assert "is a plugin that provides it installed?" not in done.stderr
    for plugin in EXPECTED:  # validate warns about plugin problems, as run does
        assert f"warning: plugin {plugin!r}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_renamed_type_runs_and_an_effect_failure_names_its_frame(venv: PluginVenv, tmp_path: Path) -> None:
    old = {"type": "vignette.vignete", "version": 1, "params": {"strength": 0.8}}  # saved by 0.0.x
    (tmp_path / "old.json").write_text(graph({"p": PATTERN, "v": old, "w": WRITE}, [("p.frames", "v.frames"), ("v.frames", "w.frames")]))
    done = venv.kinograph("run", "old.json", "--device", "cpu", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "v.mp4").stat().st_size > 0
    failing = {"type": "vignette.vignette", "version": 1, "params": {"fail_at": 7}}
    (tmp_path / "fail.json").write_text(graph({"p": PATTERN, "v": failing, "w": WRITE}, [("p.frames", "v.frames"), ("v.frames", "w.frames")]))
    done = venv.kinograph("run", "fail.json", "--device", "cpu", cwd=tmp_path)
    assert done.returncode == 1
    assert "error: node v (vignette.vignette) failed: failed at frame 7: ZeroDivisionError: mask radius is zero" in done.stderr
    assert "run again with --debug" in done.stderr and "Traceback" not in done.stderr
    debug = venv.kinograph("run", "fail.json", "--device", "cpu", "--debug", cwd=tmp_path)
    assert "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr and "one_frame" in debug.stderr


def test_a_port_types_preview_runs_in_the_run_process_without_qt(venv: PluginVenv) -> None:
    code = (
        "import sys\n"
        "from kinograph.host import get_registry\n"
        "preview = get_registry().preview('ToneCurve', list(range(256)))\n"
        "print(preview['kind'], len(preview['curves']['value']), preview['curves']['value'][255])\n"
        "print('QT', any(m.startswith('PySide6') for m in sys.modules))\n"
    )
    done = venv.run(["python", "-c", code])
    assert done.returncode == 0, done.stderr
    assert "curves 256 255.0" in done.stdout and "QT False" in done.stdout
