"""Render the editor with an example graph to a PNG and check what is on the picture.

Set ``KINOGRAPH_SCREENSHOT_DIR`` to keep the PNG for looking at it.
"""

from __future__ import annotations

import os
import shutil

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from kinograph.core.graph import GraphNode
from kinograph.gui import theme
from kinograph.gui.items.link_item import LinkItem
from kinograph.gui.items.node_item import NodeItem


def build_example(window) -> None:
    e = window.editor
    e.add_node("kinograph.frames.test_pattern", (0, 0), {"width": 256, "height": 144})
    e.add_node("test.invert", (300, 0))
    e.add_node("test.collect", (600, 0), {"label": "preview"})
    e.add_node("kinograph.value.number", (0, 260), {"value": 2.5})
    e.add_node("test.add", (300, 260), {"offset": 1.0})
    e.add_node("test.record", (600, 260), {"label": "sum"})
    e.add_node("guitest.styled", (900, 260))
    e.connect("test_pattern.frames", "invert.frames")
    e.connect("invert.frames", "collect.frames")
    e.connect("number.value", "add.a")
    e.connect("number.value", "add.b")
    e.connect("add.sum", "record.value")
    e.toggle_bypass(["invert"])
    window.graph.insert_node(GraphNode("upscale", "acme.upscale", 1, {"factor": 4}, {"pos": [900, 0]}, False,
                                       {"name": "acme", "dist": "acme-nodes", "version": "1.0"}))
    window.graph.add_link(window.graph.links[1].__class__("collect", "count", "upscale", "image"))
    window.view.select_only(["test_pattern", "invert", "collect"])
    window.add_backdrop()
    window.view.select_only(["add"])
    window.editor.add_reroute(window.graph.links[2], 0, (230.0, 360.0))
    window.scene.clearSelection()


def _window_point(window, scene_point: QPointF, ratio: float = 1.0) -> QPoint:
    """Pixel of the grabbed image showing ``scene_point`` (device pixels under high-DPI scaling)."""
    point = window.view.viewport().mapTo(window, window.view.mapFromScene(scene_point))
    return QPoint(round(point.x() * ratio), round(point.y() * ratio))


def _is_background(color: QColor) -> bool:
    return any(abs(color.red() - c.red()) + abs(color.green() - c.green()) + abs(color.blue() - c.blue()) < 12
               for c in (theme.BACKGROUND, theme.GRID_MINOR, theme.GRID_MAJOR))


def test_screenshot_shows_every_node_and_link(window, tmp_path) -> None:
    build_example(window)
    window.view.fit()
    QApplication.processEvents()
    image = window.grab().toImage()
    path = tmp_path / "editor.png"
    assert image.save(str(path))
    if os.environ.get("KINOGRAPH_SCREENSHOT_DIR"):
        shutil.copy(path, os.path.join(os.environ["KINOGRAPH_SCREENSHOT_DIR"], "editor.png"))
    scene = window.scene
    nodes = [i for i in scene.items() if isinstance(i, NodeItem)]
    links = [i for i in scene.items() if isinstance(i, LinkItem)]
    assert sorted(i.node_id for i in nodes) == sorted(window.graph.nodes)
    assert sorted(map(str, (i.link for i in links))) == sorted(map(str, window.graph.links))
    for item in nodes:
        for dx, dy in ((item.width / 2, 6), (item.width / 2, item.height - 4), (6, item.height / 2)):
            point = _window_point(window, item.mapToScene(QPointF(dx, dy)), image.devicePixelRatio())
            color = image.pixelColor(point)
            assert not _is_background(color), f"{item.node_id} at {point} shows the background {color.name()}"
    for item in links:
        middle = _window_point(window, item.path().pointAtPercent(0.5), image.devicePixelRatio())
        near = [image.pixelColor(middle + QPoint(dx, dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        assert any(not _is_background(c) for c in near), f"link {item.link} is not drawn"
