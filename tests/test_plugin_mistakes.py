"""A plugin author's common mistakes, caught in-process by the registry where they are made.

Each test registers a small plugin with one mistake and checks the message names what is wrong
and where (class, module, field, function). The same mistakes in pip-installed packages are
checked in ``test_plugins_mistakes_install.py``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pytest
from pydantic import ValidationError

from kinograph.api import (
    FRAME_STREAM,
    Converter,
    FrameStream,
    Input,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    PortType,
    Preview,
    RunContext,
    Slider,
    hookimpl,
)
from kinograph.core.registry import PluginInfo, Registry
from kinograph.host import Graph
from kinograph.testing import PluginHarness, collect_frames, frames_from_array, random_frames


def fresh() -> Registry:
    registry = Registry()
    registry.load_builtins()
    return registry


class Plugin:
    """A plugin object whose kinograph_nodes hook returns the classes given."""

    def __init__(self, *nodes: type, port_types: list[PortType] | None = None,
                 converters: list[Converter] | None = None) -> None:
        self.nodes, self.types, self.converters = list(nodes), port_types or [], converters or []

    @hookimpl
    def kinograph_nodes(self) -> list[type]:
        return self.nodes

    @hookimpl
    def kinograph_port_types(self) -> list[PortType]:
        return self.types

    @hookimpl
    def kinograph_converters(self) -> list[Converter]:
        return self.converters


def node(type_id: str, name: str = "Effect", module: str = "acme_plugin.nodes", **attrs: Any) -> type[Node]:
    """A node class as a plugin module would define it (its name and module set as there)."""
    body = {"type_id": type_id, "inputs": [Input("frames", FRAME_STREAM)], "outputs": [Output("frames", FRAME_STREAM)],
            "__module__": module, "__qualname__": name, **attrs}
    return type(name, (Node,), body)


# -- params defaults --------------------------------------------------------------------------


class WrongType(NodeParams):
    strength: float = Slider("half", ge=0.0, le=1.0)


class OutsideChoices(NodeParams):
    mode: Literal["soft", "hard"] = "medium"


class OutsideBounds(NodeParams):
    radius: int = Slider(80, ge=0, le=64)


class FractionalInt(NodeParams):
    count: int = 2.5  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        (WrongType, "strength", "default 'half' is invalid: Input should be a valid number"),
        (OutsideChoices, "mode", "default 'medium' is invalid: Input should be 'soft' or 'hard'"),
        (OutsideBounds, "radius", "default 80 is invalid: Input should be less than or equal to 64"),
        (FractionalInt, "count", "default 2.5 is invalid: Input should be a valid integer"),
    ],
)
def test_a_bad_param_default_is_named_with_its_class_and_field(params: type[NodeParams], field: str, says: str) -> None:
    registry = fresh()
    info = registry.register_plugin(Plugin(node("acme.vignette", "Vignette", Params=params)), "acme")
    assert info.status == "failed"
    assert f"node Vignette (acme_plugin.nodes): param {field!r}: {says}" in info.error
    assert registry.node("acme.vignette") is None  # the schema never publishes the bad default


def test_params_validate_their_defaults_so_run_node_never_gets_a_bad_one() -> None:
    # run_node validates the full params: a default nobody passed is checked like a value.
    with pytest.raises(ValidationError, match="strength"):
        WrongType.model_validate({})
    with pytest.raises(ValidationError, match="radius"):
        OutsideBounds()
    assert OutsideBounds(radius=3).radius == 3


# -- registering nothing ----------------------------------------------------------------------


class Unmarked:
    def kinograph_nodes(self) -> list[type[Node]]:  # forgot @hookimpl
        return [node("unmarked.effect")]


class Empty:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return []


def test_a_plugin_that_registers_nothing_is_reported() -> None:
    registry = fresh()
    unmarked = registry.register_plugin(Unmarked(), "unmarked")
    assert unmarked.status == "failed"
    assert "function kinograph_nodes is not marked @hookimpl" in unmarked.error
    empty = registry.register_plugin(Empty(), "empty")
    assert empty.status == "failed"
    assert "registers nothing" in empty.error and "@hookimpl" in empty.error
    assert all(p.status == "ok" for p in registry.plugins if p.builtin)  # every built-in pack registers something


# -- port types and converters ----------------------------------------------------------------


def test_a_misspelt_port_type_gets_a_did_you_mean() -> None:
    registry = fresh()
    bad = node("acme.vignette", "Vignette", inputs=[Input("frames", "Framestream")])
    info = registry.register_plugin(Plugin(bad), "acme")
    assert "port 'frames' has unknown type 'Framestream' (did you mean 'FrameStream'?)" in info.error
    far = node("acme.other", "Other", inputs=[Input("frames", "Zebra")])
    info = registry.register_plugin(Plugin(far), "acme2")
    assert "unknown type 'Zebra'" in info.error and "did you mean" not in info.error


def curve_to_text(curve: Any) -> str:
    return str(curve)


def test_a_converter_naming_an_unknown_type_is_named() -> None:
    registry = fresh()
    curve = PortType("ToneCurve")
    info = registry.register_plugin(
        Plugin(port_types=[curve], converters=[Converter("ToneCurve", "Txt", curve_to_text)]), "curves"
    )
    assert "converter ToneCurve -> Txt (curve_to_text) names unknown port type 'Txt' (did you mean 'Text'?)" in info.error
    assert info.status == "problems"  # the port type itself still registered
    assert registry.type_plugin("ToneCurve") is info


# -- conflicts --------------------------------------------------------------------------------


def test_two_nodes_with_one_type_id_in_one_plugin_name_both_classes_and_modules() -> None:
    registry = fresh()
    first = node("acme.blur", "Blur", "acme_plugin.blur")
    second = node("acme.blur", "FastBlur", "acme_plugin.fast")
    info = registry.register_plugin(Plugin(first, second), "acme")
    assert (
        "node type 'acme.blur' is declared twice in plugin 'acme': Blur (acme_plugin.blur) and "
        "FastBlur (acme_plugin.fast)" in info.error
    )
    assert registry.node("acme.blur") is first


def test_the_owner_of_a_prefix_keeps_its_node_whatever_the_name_order() -> None:
    owner = node("vignette.vignette", "Vignette", "kg_vignette.nodes")
    intruder = node("vignette.vignette", "Impostor", "aaa_tools.nodes")
    registry = fresh()
    # "aaa" sorts first and used to take the id over; now the plugin named "vignette" keeps it.
    registry.register_plugins([(Plugin(intruder), PluginInfo("aaa")), (Plugin(owner), PluginInfo("vignette"))])
    assert registry.node("vignette.vignette") is owner
    assert registry.node_plugin["vignette.vignette"].name == "vignette"
    aaa, vignette = registry.plugin_named("aaa"), registry.plugin_named("vignette")
    assert vignette.status == "ok" and not vignette.errors
    assert aaa.status == "failed" and aaa.node_types == []
    assert (
        "node type 'vignette.vignette' belongs to plugin 'vignette' (prefix 'vignette'); plugin 'aaa' also "
        "declares it in Impostor (aaa_tools.nodes): kept 'vignette''s Vignette (kg_vignette.nodes)" in aaa.error
    )
    # The same in the other order, and when the owner comes in a later batch.
    for batches in ([[(Plugin(owner), PluginInfo("vignette")), (Plugin(intruder), PluginInfo("aaa"))]],
                    [[(Plugin(intruder), PluginInfo("aaa"))], [(Plugin(owner), PluginInfo("vignette"))]]):
        registry = fresh()
        for batch in batches:
            registry.register_plugins(batch)
        assert registry.node("vignette.vignette") is owner
        assert registry.plugin_named("aaa").errors and not registry.plugin_named("vignette").errors


def test_the_kinograph_prefix_belongs_to_kinographs_own_packs() -> None:
    registry = fresh()
    builtin = registry.node("kinograph.value.number")
    info = registry.register_plugin(Plugin(node("kinograph.value.number", "Number", "evil.nodes")), "kinograph")
    assert registry.node("kinograph.value.number") is builtin
    assert "belongs to plugin 'builtin.basic'" in info.error and "Number (evil.nodes)" in info.error


def test_an_unowned_prefix_goes_to_the_first_in_name_order_naming_both() -> None:
    a = node("dup.blur", "BlurA", "dup_a_plugin")
    b = node("dup.blur", "BlurB", "dup_b_plugin")
    registry = fresh()
    registry.register_plugins([(Plugin(a), PluginInfo("dup_a")), (Plugin(b), PluginInfo("dup_b"))])
    assert registry.node("dup.blur") is a
    error = registry.plugin_named("dup_b").error
    assert "already provided by plugin 'dup_a' (BlurA (dup_a_plugin))" in error
    assert "plugin 'dup_b' also declares it (BlurB (dup_b_plugin))" in error
    assert "No plugin is named 'dup'" in error


# -- renamed types ----------------------------------------------------------------------------


class Renamed(Node["Renamed.Params"]):
    type_id = "acme.soft_light"
    legacy_type_ids = ("acme.softlight",)
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        amount: int = 3

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        return {"frames": frames.map(lambda frame, _i: frame // 2)}


OLD_GRAPH = """{"format": "kinograph.graph", "version": 1, "nodes": {
  "pattern": {"type": "kinograph.frames.test_pattern", "version": 1, "params": {"width": 32, "height": 16, "frames": 3}},
  "soft": {"type": "acme.softlight", "version": 1, "params": {"amount": 5}}},
  "links": [{"from": "pattern.frames", "to": "soft.frames"}]}"""


def test_a_renamed_type_keeps_loading_through_legacy_type_ids() -> None:
    harness = PluginHarness()
    harness.register(Plugin(Renamed), "acme")
    graph = harness.graph_from_json(OLD_GRAPH)
    assert graph.nodes["soft"].type == "acme.soft_light"
    assert graph.nodes["soft"].params["amount"] == 5
    assert '"type": "acme.soft_light"' in graph.to_json() and "acme.softlight" not in graph.to_json()
    frames = harness.run_graph(graph, "soft.frames")["soft.frames"]
    assert frames.shape == (3, 16, 32, 3) and frames.max() <= 127


def test_a_legacy_id_that_is_another_nodes_id_is_refused() -> None:
    registry = fresh()
    clash = node("acme.new", "New", legacy_type_ids=("kinograph.value.number",))
    info = registry.register_plugin(Plugin(clash), "acme")
    assert "legacy type id 'kinograph.value.number' is already a node type" in info.error
    assert registry.node("kinograph.value.number").__module__.startswith("kinograph.plugins")


# -- installed but failed ---------------------------------------------------------------------


def test_an_unknown_type_whose_plugin_failed_says_so() -> None:
    registry = fresh()

    class Broken:
        @hookimpl
        def kinograph_nodes(self) -> list[type[Node]]:
            raise RuntimeError("licence server unreachable")

    registry.register_plugins([(Broken(), PluginInfo("vignette", dist="kg-vignette", version="0.1.0"))])
    graph = Graph.from_json(
        '{"format": "kinograph.graph", "version": 1, "nodes": {"v": {"type": "vignette.vignette", "version": 1}}, "links": []}',
        registry,
    )
    from kinograph.host import validate

    problems = [str(p) for p in validate(graph)]
    assert any(
        "unknown node type 'vignette.vignette'" in p
        and "kg-vignette 0.1.0 is installed but failed: kinograph_nodes() raised RuntimeError: licence server unreachable" in p
        for p in problems
    ), problems


# -- typed params -----------------------------------------------------------------------------


def test_node_generic_argument_must_name_its_own_params() -> None:
    class Other(NodeParams):
        x: int = 1

    class Wrong(Node["Wrong.Parms"]):  # type: ignore[name-defined]
        type_id = "acme.wrong"

    class Mismatch(Node[Other]):
        type_id = "acme.mismatch"

        class Params(NodeParams):
            y: int = 1

    class Outside(Node[Other]):  # no nested Params: the model named is the one
        type_id = "acme.outside"

    registry = fresh()
    info = registry.register_plugin(Plugin(Wrong, Mismatch, Outside), "acme")
    assert "Node['Wrong.Parms'] names nothing that exists" in info.error
    assert "is not the node's Params" in info.error
    assert Outside.Params is Other and registry.node("acme.outside") is Outside


# -- the per-frame helper ---------------------------------------------------------------------


def test_map_names_the_frame_an_effect_failed_at() -> None:
    def effect(frame: np.ndarray, index: int) -> np.ndarray:
        if index == 13:
            raise ValueError("division by zero in the vignette mask")
        return 255 - frame

    frames = random_frames(20, 8, 12)
    with pytest.raises(NodeFailure, match="failed at frame 13: ValueError: division by zero") as caught:
        collect_frames(frames_from_array(frames, chunk_size=8).map(effect))
    assert isinstance(caught.value.__cause__, ValueError)  # the traceback --debug shows
    out = collect_frames(frames_from_array(frames[:13], chunk_size=8).map(effect))
    assert np.array_equal(out, 255 - frames[:13])


def test_map_per_chunk_gets_the_start_and_checks_what_comes_back() -> None:
    frames = random_frames(10, 8, 12)
    starts: list[int] = []

    def chunked(pixels: np.ndarray, start: int) -> np.ndarray:
        starts.append(start)
        return pixels[:, ::2, ::2]

    out = collect_frames(frames_from_array(frames, chunk_size=4).map(chunked, per="chunk", width=6, height=4))
    assert starts == [0, 4, 8] and out.shape == (10, 4, 6, 3)
    with pytest.raises(NodeFailure, match=r"failed at frames 0-3: the effect returned shape \(4, 4, 6, 3\)"):
        collect_frames(frames_from_array(frames, chunk_size=4).map(lambda p, s: p[:, ::2, ::2], per="chunk"))
    with pytest.raises(NodeFailure, match="failed at frame 0: the effect returned float64 values; return uint8"):
        collect_frames(frames_from_array(frames).map(lambda f, i: f / 2))


# -- previews ---------------------------------------------------------------------------------


class Curves:
    @hookimpl
    def kinograph_port_types(self) -> list[PortType]:
        return [PortType("ToneCurve"), PortType("SoftCurve", parent="ToneCurve")]

    @hookimpl
    def kinograph_previews(self) -> list[Preview]:
        return [Preview("ToneCurve", lambda lut: {"red": list(lut[0]), "green": list(lut[1])}),
                Preview("Tonecurve", lambda lut: {})]


def test_a_preview_returns_plain_curves_and_reaches_subtypes() -> None:
    registry = fresh()
    info = registry.register_plugin(Curves(), "curves")
    assert "preview names unknown port type 'Tonecurve' (did you mean 'ToneCurve'?)" in info.error
    lut = np.stack([np.arange(256), np.arange(256)[::-1]]).astype(np.uint8)
    shown = registry.preview("SoftCurve", lut)
    assert shown == {"kind": "curves", "type": "SoftCurve", "curves": {"red": list(map(float, range(256))),
                                                                        "green": [float(v) for v in range(255, -1, -1)]}}
    broken = registry.preview("ToneCurve", None)  # the plugin's render raises: a message, not a crash
    assert broken["kind"] == "error" and "the preview of ToneCurve failed: TypeError" in broken["message"]
    assert registry.preview("Text", "hello") is None


def test_a_node_saved_by_the_plugin_that_lost_a_conflict_says_who_provides_it_now() -> None:
    from kinograph.host import validate

    a = node("dup.blur", "BlurA", "dup_a_plugin")
    b = node("dup.blur", "BlurB", "dup_b_plugin", version=3)
    registry = fresh()
    registry.register_plugins([(Plugin(a), PluginInfo("dup_a", "kg-dup-a", "1.0")),
                               (Plugin(b), PluginInfo("dup_b", "kg-dup-b", "3.0"))])
    saved = {"name": "dup_b", "dist": "kg-dup-b", "version": "3.0"}
    text = ('{"format": "kinograph.graph", "version": 1, "nodes": {"b": {"type": "dup.blur", "version": 3, '
            f'"plugin": {__import__("json").dumps(saved)}}}}}, "links": []}}')
    problems = [str(p) for p in validate(Graph.from_json(text, registry))]
    assert any("saved by a newer version (3)" in p and "it was saved with plugin 'dup_b', but 'dup_a' (kg-dup-a 1.0)"
               " provides 'dup.blur' here" in p for p in problems), problems
