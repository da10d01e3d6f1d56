"""Params as input ports in the editor: ticked in the inspector (a real click), the port appears on
the canvas, a link drives the value in a run, and undo/redo restore the exact graph."""

from __future__ import annotations

from pathlib import Path

import av
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from kinograph.host import RunOptions, Session


def test_ticking_a_param_in_the_inspector_makes_a_port_a_number_can_drive(window, qtbot, tmp_path: Path) -> None:
    editor = window.editor
    pattern = editor.add_node("kinograph.frames.test_pattern", (0, 0))
    write = editor.add_node("kinograph.video.write", (300, 0))
    number = editor.add_node("kinograph.value.number", (0, 200))
    editor.set_param(pattern, "frames", 4)
    editor.set_param(write, "path", str(tmp_path / "out.mp4"))
    editor.set_param(number, "value", 96)
    editor.connect(f"{pattern}.frames", f"{write}.frames")
    before = window.graph.to_json()

    window.view.select_only([pattern])
    window.inspector.show_node(pattern)
    toggle = window.inspector.port_toggles["width"]
    window.inspector.ensureWidgetVisible(toggle)
    qtbot.waitUntil(toggle.isVisible)
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton, pos=QPoint(8, toggle.height() // 2))  # on the box
    QApplication.processEvents()
    assert window.graph.nodes[pattern].exposed == ["width"]
    assert "width" in window.scene.node_items[pattern].inputs  # the canvas grew the port
    assert editor.connect(f"{number}.value", f"{pattern}.width") is None
    qtbot.waitUntil(lambda: "width" in window.inspector.port_toggles
                    and window.inspector.port_toggles["width"].text() == f"linked from {number}.value")
    assert not window.inspector.fields["width"].widget.isEnabled()  # the link gives the value

    result = Session(window.graph.registry).run(window.graph, RunOptions(device="cpu", use_cache=False))
    assert result.ok, result.failures
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video[0].codec_context.width == 96

    # Unticking removes the link too, in one undo step; undo and redo restore exact graphs.
    linked = window.graph.to_json()
    toggle = window.inspector.port_toggles["width"]
    window.inspector.ensureWidgetVisible(toggle)
    qtbot.waitUntil(toggle.isVisible)
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton, pos=QPoint(8, toggle.height() // 2))  # on the box
    QApplication.processEvents()
    assert window.graph.nodes[pattern].exposed == [] and "width" not in window.scene.node_items[pattern].inputs
    window.stack.undo()
    assert window.graph.to_json() == linked
    window.stack.undo()  # the link
    window.stack.undo()  # the port
    assert window.graph.to_json() == before
    window.stack.redo()
    window.stack.redo()
    assert window.graph.to_json() == linked
    assert set(window.scene.link_items) == set(window.graph.links)


def test_the_node_context_menu_lists_params_as_ports(window) -> None:
    node = window.editor.add_node("kinograph.frames.test_pattern", (0, 0))
    window._param_ports_menu(menu := window.menuBar().addMenu("tmp"), node)
    ports = next(a.menu() for a in menu.actions() if a.text() == "Params as input ports")
    width = next(a for a in ports.actions() if a.text() == "width")
    width.trigger()
    assert window.graph.nodes[node].exposed == ["width"]
