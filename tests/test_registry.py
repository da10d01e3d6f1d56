"""Plugin registry in-process: a broken plugin is reported, never fatal; conflicts are named."""

from __future__ import annotations

import types

import pytest

from kinograph.api import Converter, Input, Node, NodeParams, Output, PortType, hookimpl
from kinograph.core.registry import Registry
from kinograph.host import builtin_plugins


class Blur(Node):
    type_id = "acme.blur"
    inputs = [Input("image", "Image")]
    outputs = [Output("image", "Image")]

    class Params(NodeParams):
        radius: int = 2


class OtherBlur(Blur):
    pass


class Good:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [Blur]


class Clash:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [OtherBlur]


class Raising:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        raise RuntimeError("hook exploded")


class Misspelt:
    @hookimpl
    def kinograph_node(self) -> list[type[Node]]:  # missing "s"
        return [Blur]


def fresh() -> Registry:
    registry = Registry()
    registry.load_builtins()
    return registry


def test_each_problem_is_recorded_and_others_load() -> None:
    registry = fresh()
    registry.register_plugin(Raising(), "raising")
    registry.register_plugin(Misspelt(), "misspelt")
    registry.register_plugin(Good(), "good")
    registry.register_plugin(Clash(), "clash")
    problems = dict(registry.problems())
    assert "hook exploded" in problems["raising"]
    assert "kinograph_node" in problems["misspelt"]
    assert "'acme.blur' is already provided by plugin 'good'" in problems["clash"]
    assert registry.node("acme.blur") is Blur
    assert registry.node_plugin["acme.blur"].name == "good"
    assert "kinograph.value.number" in registry.nodes


def test_import_error_of_a_builtin_pack_is_reported() -> None:
    registry = Registry()
    registry.load_builtins([("broken", "kinograph.plugins.does_not_exist"), *builtin_plugins()])
    assert registry.plugins[0].status == "failed"
    assert "import failed" in registry.plugins[0].error
    assert "kinograph.value.number" in registry.nodes


def test_plugin_port_types_and_converters() -> None:
    palette = PortType("Palette", "A list of colours.", color="#ff00ff")

    class Plugin:
        @hookimpl
        def kinograph_port_types(self) -> list[PortType]:
            return [palette]

        @hookimpl
        def kinograph_converters(self) -> list[Converter]:
            return [Converter("Palette", "Text", lambda p: ",".join(p))]

    registry = fresh()
    info = registry.register_plugin(Plugin(), "palette")
    assert not info.errors
    assert registry.ports.compatible("Palette", "Text")
    assert registry.ports.convert(["#fff", "#000"], "Palette", "Text") == "#fff,#000"
    assert registry.ports.refusal("p.out", "Palette", "w.frames", "FrameStream") == (
        "p.out (Palette) cannot feed w.frames (FrameStream)"
    )


def test_subtypes_are_accepted_where_the_parent_is() -> None:
    registry = fresh()
    assert registry.ports.compatible("Features", "Tensor")
    assert not registry.ports.compatible("Tensor", "Features")
    assert registry.ports.compatible("Path", "Text")
    assert registry.ports.compatible("Image", "Images")  # by converter
    assert registry.ports.refusal("features.vector", "Features", "write.frames", "FrameStream") == (
        "features.vector (Features) cannot feed write.frames (FrameStream)"
    )


def test_bad_node_declarations_are_reported() -> None:
    class NoNamespace(Node):
        type_id = "blur"

    class BadPort(Node):
        type_id = "acme.bad"
        inputs = [Input("x", "NoSuchType")]

    class Plugin:
        @hookimpl
        def kinograph_nodes(self) -> list[object]:
            return [NoNamespace, BadPort]

    registry = fresh()
    info = registry.register_plugin(Plugin(), "bad")
    assert info.status == "failed"
    assert "must be namespaced" in info.error and "unknown type 'NoSuchType'" in info.error


def test_hook_returning_wrong_things_is_reported() -> None:
    module = types.ModuleType("wrong")
    module.kinograph_nodes = hookimpl(lambda: ["not a class"])  # type: ignore[attr-defined]
    registry = fresh()
    info = registry.register_plugin(module, "wrong")
    assert info.status == "failed" and "expected type" in info.error


@pytest.mark.parametrize("var", ["KINOGRAPH_DISABLE_PLUGINS", "KINOGRAPH_BLOCK_PLUGINS"])
def test_env_vars_skip_external_plugins(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    from importlib.metadata import EntryPoint

    fake = EntryPoint("acme", "tests_registry_missing_module:plugin", "kinograph.plugins")
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group=None: [fake])
    monkeypatch.setenv(var, "1" if var == "KINOGRAPH_DISABLE_PLUGINS" else "acme")
    registry = fresh()
    registry.load_entry_points()
    assert registry.plugins[-1].name == "acme"
    assert registry.plugins[-1].status in ("disabled", "blocked")
    monkeypatch.delenv(var)
    registry = fresh()
    registry.load_entry_points()
    assert registry.plugins[-1].status == "failed" and "import failed" in registry.plugins[-1].error


def test_plugins_may_use_port_types_of_plugins_found_after_them() -> None:
    class UsesPalette(Node):
        type_id = "zeta.use"
        inputs = [Input("palette", "Palette")]

    class Consumer:  # registered first, needs a type from the second
        @hookimpl
        def kinograph_nodes(self) -> list[type[Node]]:
            return [UsesPalette]

    class Provider:
        @hookimpl
        def kinograph_port_types(self) -> list[PortType]:
            return [PortType("Palette")]

    from kinograph.core.registry import PluginInfo

    registry = fresh()
    registry.register_plugins([(Consumer(), PluginInfo("consumer")), (Provider(), PluginInfo("provider"))])
    assert registry.problems() == []
    assert registry.node("zeta.use") is UsesPalette


def test_a_plugin_calling_sys_exit_is_contained(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit('bye')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    registry.load_builtins([("exits", "exits_on_import"), *builtin_plugins()])
    assert registry.plugins[0].status == "failed" and "SystemExit" in registry.plugins[0].error
    assert "kinograph.value.number" in registry.nodes


def test_partial_problems_are_visible_in_the_status() -> None:
    class Mixed:
        @hookimpl
        def kinograph_nodes(self) -> list[object]:
            class Bad(Node):
                type_id = "nonamespace"

            return [Blur, Bad]

    registry = fresh()
    info = registry.register_plugin(Mixed(), "mixed")
    assert info.status == "problems" and info.node_types == ["acme.blur"]
    assert info.to_dict()["status"] == "problems"


def test_misspelt_hook_suggests_the_real_name() -> None:
    registry = fresh()
    info = registry.register_plugin(Misspelt(), "misspelt")
    assert "did you mean 'kinograph_nodes'?" in info.error
