"""Gestures beyond links: Space search, backdrops carrying nodes, reroute dots, snapping, help."""

from __future__ import annotations

from helpers import drag, node_point
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kinograph.gui.shortcuts import HOTKEYS, ShortcutsDialog


def test_space_tap_opens_search(window) -> None:
    window.view.setFocus()
    QTest.keyPress(window.view, Qt.Key.Key_Space)
    QTest.keyRelease(window.view, Qt.Key.Key_Space)
    assert window.view.search.isVisible()
    QTest.keyClick(window.view.search.edit, Qt.Key.Key_Escape)
    assert not window.view.search.isVisible()


def test_dragging_a_backdrop_carries_its_nodes_in_one_undo_step(window) -> None:
    a = window.editor.add_node("kinograph.value.number", (0, 0))
    b = window.editor.add_node("test.add", (300, 0))
    outside = window.editor.add_node("test.noop", (0, 400))
    window.view.select_only([a, b])
    window.add_backdrop()
    window.scene.clearSelection()
    window.view.fit()
    QApplication.processEvents()
    before = window.graph.to_json()
    backdrop = window.scene.frame_items[0]
    title = window.view.mapFromScene(backdrop.mapToScene(QPointF(backdrop.size.x() - 30, 10)))
    drag(window, title, title + QPoint(50, 40))
    moved = window.graph.nodes
    assert moved[a].ui["pos"][0] > 0 and moved[b].ui["pos"][0] > 300
    assert moved[outside].ui["pos"] == [0.0, 400.0]
    assert window.graph.meta["editor"]["backdrops"][0]["rect"][0] > backdrop.data["rect"][0] - 1
    window.stack.undo()
    assert window.graph.to_json() == before


def test_double_click_on_a_link_adds_a_reroute_dot(window) -> None:
    a = window.editor.add_node("kinograph.value.number", (0, 0))
    b = window.editor.add_node("test.add", (400, 100))
    window.editor.connect(f"{a}.value", f"{b}.a")
    window.view.fit()
    QApplication.processEvents()
    link_item = next(iter(window.scene.link_items.values()))
    point = window.view.mapFromScene(link_item.path().pointAtPercent(0.5))
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    (points,) = window.graph.meta["editor"]["reroutes"].values()
    assert len(points) == 1 and len(window.scene.reroute_items) == 1
    dot = window.scene.reroute_items[0]
    drag(window, window.view.mapFromScene(dot.scenePos()), window.view.mapFromScene(dot.scenePos()) + QPoint(0, 80))
    (moved,) = window.graph.meta["editor"]["reroutes"].values()
    assert moved[0][1] > points[0][1] + 20
    assert link_item.waypoints and link_item.path().intersects(window.scene.reroute_items[0].sceneBoundingRect())


def test_snap_to_grid_puts_moved_nodes_on_the_grid(window) -> None:
    node = window.editor.add_node("test.noop", (3, 7))
    window.view.fit()
    QApplication.processEvents()
    window.actions["snap"].trigger()
    start = node_point(window, node)
    drag(window, start, start + QPoint(33, 29))
    x, y = window.graph.nodes[node].ui["pos"]
    assert x % 20 == 0 and y % 20 == 0 and (x, y) != (3, 7)


def test_shortcuts_dialog_lists_every_hotkey(window) -> None:
    dialog = ShortcutsDialog(window)
    keys = [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())]
    assert all(h.keys in keys for h in HOTKEYS)
    assert window.actions["copy"].shortcut().toString() == "Ctrl+C"
    assert window.actions["bypass"].shortcut().toString() == "Ctrl+B"


def test_typing_in_the_search_box_never_fires_canvas_keys(window) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    QTest.keyClicks(window.view.search.edit, "nlf")  # N adds a note, L lays out, F fits on the canvas
    QTest.keyClick(window.view.search.edit, Qt.Key.Key_Backspace)
    assert window.view.search.edit.text() == "nl"
    assert "editor" not in window.graph.meta and window.stack.count() == 0


def test_shift_box_select_adds_to_the_selection(window) -> None:
    a = window.editor.add_node("test.noop", (0, 0))
    b = window.editor.add_node("test.noop", (0, 300))
    window.view.fit()
    QApplication.processEvents()
    window.view.select_only([a])
    view = window.view
    drag(window, view.mapFromScene(QPointF(-60, 250)), view.mapFromScene(QPointF(220, 420)),
         Qt.KeyboardModifier.ShiftModifier)
    assert sorted(window.scene.selected_node_ids()) == sorted([a, b])


def test_a_refused_value_from_the_file_is_shown_when_the_node_is_selected(window) -> None:
    node_id = window.editor.add_node("guitest.styled", (0, 0))
    window.graph.nodes[node_id].params["tint"] = "not a colour"  # as a hand-edited file may hold
    window.view.select_only([node_id])
    error = window.inspector.fields["tint"].error
    assert error.isVisibleTo(window.inspector) and "not a colour" in error.text()


def test_escape_cancels_a_link_drag(window) -> None:
    from helpers import port_point

    a = window.editor.add_node("kinograph.value.number", (0, 0))
    b = window.editor.add_node("test.add", (300, 0))
    window.view.fit()
    QApplication.processEvents()
    viewport = window.view.viewport()
    start = port_point(window, a, "value", "output")
    end = port_point(window, b, "a", "input")
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, end)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Escape)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert window.graph.links == [] and window.statusBar().currentMessage() == "Link cancelled"


def test_right_click_menu_offers_the_edits_for_the_node_under_the_cursor(window) -> None:
    a = window.editor.add_node("test.noop", (0, 0))
    window.view.fit()
    QApplication.processEvents()
    window.view.customContextMenuRequested.emit(node_point(window, a))
    texts = [action.text() for action in window.context_menu.actions() if action.text()]
    assert window.scene.selected_node_ids() == [a]
    assert {"Add node…", "&Copy", "De&lete", "Toggle &Bypass"} <= set(texts)


def test_dropping_a_graph_file_on_the_canvas_opens_it(window, tmp_path) -> None:
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    from kinograph.core.graph import Graph

    graph = Graph(window.registry)
    graph.add_node("test.noop", "dropped", None, (0, 0))
    path = tmp_path / "dropped.json"
    graph.save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), enter)
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), event)
    assert list(window.graph.nodes) == ["dropped"] and window.path == path
