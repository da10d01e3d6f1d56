"""A plugin's nodes appear in the editor's palette, under their category, naming the plugin."""

from __future__ import annotations

import sys

import pytest
from plugin_venv import REPO

from kinograph.testing import PluginHarness

pytest.importorskip("PySide6")
sys.path.insert(0, str(REPO / "examples" / "kinograph-grain" / "src"))

import kinograph_grain.plugin

from kinograph.gui.palette import Palette


def test_plugin_nodes_are_in_the_palette(qtbot) -> None:
    harness = PluginHarness()
    harness.register(kinograph_grain.plugin, "grain")
    palette = Palette(harness.registry)
    qtbot.addWidget(palette)
    item = palette.item_for("grain.film_grain")
    assert item is not None
    assert item.text(0) == "Film grain"
    assert item.parent().text(0).endswith("Effects")
    assert "from grain" in item.toolTip(0)
    assert palette.item_for("grain.contact_sheet").parent().text(0).endswith("Output")
    palette.filter.setText("palette map")
    assert palette.item_for("grain.palette_map") is not None
    assert palette.item_for("grain.film_grain") is None


def test_palette_without_the_plugin_has_no_grain_nodes(qtbot) -> None:
    palette = Palette(PluginHarness().registry)
    qtbot.addWidget(palette)
    assert palette.item_for("grain.film_grain") is None
    assert palette.item_for("kinograph.frames.test_pattern") is not None


def test_ports_of_a_plugin_type_show_the_type_name(qtbot) -> None:
    from kinograph.gui.items.node_item import NodeItem

    harness = PluginHarness()
    harness.register(kinograph_grain.plugin, "grain")
    graph = harness.graph()
    palette = NodeItem(graph.add_node("grain.palette", "pal"), harness.registry.node("grain.palette"), harness.registry)
    mapped = NodeItem(graph.add_node("grain.palette_map", "map"), harness.registry.node("grain.palette_map"), harness.registry)
    assert palette.port_label(palette.outputs["palette"]) == "palette: Palette"  # the plugin's type is named
    assert mapped.port_label(mapped.inputs["palette"]) == "palette: Palette"
    assert mapped.port_label(mapped.inputs["frames"]) == "frames"  # built-in types keep their short labels
    assert palette.width >= 100
