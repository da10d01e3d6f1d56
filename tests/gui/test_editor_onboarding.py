"""Placement and onboarding: insert-on-link lights the link up before the drop and keeps the node
clear of others, new nodes never land on others, an empty canvas says how to start, File ▸ Open
Example, a pause icon the fonts can show, sticky notes edited in place, and what to install when
Qt's xcb plugin does not load."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import node_point
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QPushButton
from test_editor_navigation import Ramp

from kinograph.gui import theme
from kinograph.gui.palette import MIME_NODE_TYPE
from kinograph.gui.viewer.stream_view import StreamView


def overlaps(window, node_id: str) -> bool:
    rect = window.scene.node_items[node_id].sceneBoundingRect()
    return any(rect.intersects(item.sceneBoundingRect())
               for other, item in window.scene.node_items.items() if other != node_id)


def test_a_node_dragged_onto_a_link_lights_it_up_then_goes_in_clear_of_the_others(window) -> None:
    e = window.editor
    source = e.add_node("kinograph.value.number", (0, 0))
    target = e.add_node("test.add", (420, 0))
    assert e.connect(f"{source}.value", f"{target}.a") is None
    extra = e.add_node("test.noop", (100, 400))
    window.view.fit()
    QApplication.processEvents()
    window.stack.clear()
    before = window.graph.to_json()
    link_item = next(iter(window.scene.link_items.values()))
    viewport = window.view.viewport()
    start = node_point(window, extra)
    # Drop it on the link's end, right on top of the Add it feeds.
    end = window.view.mapFromScene(window.scene.node_items[target].scenePos() + QPointF(10, 30))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 9):
        QTest.mouseMove(viewport, start + (end - start) * (i / 8))
    assert link_item.insert_target  # lit up before the drop
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert sorted(map(str, window.graph.links)) == sorted([f"{source}.value -> {extra}.a", f"{extra}.out -> {target}.a"])
    assert not overlaps(window, extra)  # moved clear of the node it was dropped on
    assert not any(item.insert_target for item in window.scene.link_items.values())
    assert window.stack.count() == 1  # move, insert and make room: one step
    window.stack.undo()
    assert window.graph.to_json() == before


def test_a_node_dragged_over_a_link_it_does_not_fit_leaves_it_dark(window) -> None:
    e = window.editor
    a = e.add_node("kinograph.frames.test_pattern", (0, 0))
    b = e.add_node("test.invert", (500, 0))
    assert e.connect(f"{a}.frames", f"{b}.frames") is None
    number = e.add_node("kinograph.value.number", (150, 300))  # has no input: cannot go into it
    window.view.fit()
    QApplication.processEvents()
    link_item = next(iter(window.scene.link_items.values()))
    viewport = window.view.viewport()
    start = node_point(window, number)
    end = window.view.mapFromScene(link_item.path().pointAtPercent(0.5)) + QPoint(0, -10)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (i / 5))
    assert not link_item.insert_target
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert len(window.graph.links) == 1


def _drop_node(window, type_id: str, at: QPoint) -> None:
    mime = QMimeData()
    mime.setData(MIME_NODE_TYPE, type_id.encode())
    viewport = window.view.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(QPointF(at), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                                     Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime,
                                                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


def test_new_nodes_never_land_on_others(window) -> None:
    first = window.editor.add_node("test.add", (0, 0))
    window.view.fit()
    QApplication.processEvents()
    window.stack.clear()
    on_it = node_point(window, first, dx=30, dy=30)
    _drop_node(window, "test.noop", on_it)  # dragged from the Nodes dock onto the Add
    dropped = next(n for n in window.graph.nodes if n != first)
    assert not overlaps(window, dropped) and window.stack.count() == 1
    # Tab at the cursor, with the cursor on a node.
    QTest.mouseMove(window.view.viewport(), on_it)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    QTest.keyClicks(window.view.search.edit, "noop")
    QTest.keyClick(window.view.search.edit, Qt.Key.Key_Return)
    searched = next(n for n in window.graph.nodes if n not in (first, dropped))
    assert not overlaps(window, searched) and window.stack.count() == 2


def test_an_empty_canvas_says_how_to_start(window) -> None:
    QApplication.processEvents()

    def middle_has_text() -> bool:
        image = window.view.viewport().grab().toImage()
        background = theme.BACKGROUND
        centre = image.rect().center()
        for x in range(centre.x() - 200, centre.x() + 200, 2):
            for y in range(centre.y() - 40, centre.y() + 40, 2):
                color = image.pixelColor(x, y)
                if abs(color.red() - background.red()) + abs(color.green() - background.green()) > 60:
                    return True
        return False

    assert window.view.showing_hint() and middle_has_text()
    window.editor.add_node("test.noop", (5000, 5000))  # out of sight: the middle is empty canvas again
    QApplication.processEvents()
    assert not window.view.showing_hint() and not middle_has_text()


def test_open_example_lists_the_example_graphs_and_opens_a_copy(window) -> None:
    window._fill_examples()
    actions = [a for a in window.examples_menu.actions() if a.isEnabled()]
    tips = {os.path.basename(a.toolTip()) for a in actions}
    assert {"camera_move.json", "image_to_video.json"} <= tips
    camera = next(a for a in actions if a.toolTip().endswith("camera_move.json"))
    camera.trigger()
    assert window.graph.nodes and window.path is None  # a copy: Save asks where
    assert "camera_move.json" in window.windowTitle()
    assert window.graph.base_dir is not None and (window.graph.base_dir / "assets").is_dir()  # its assets found


def test_the_viewer_play_button_shows_icons_the_fonts_have(window) -> None:
    viewer = StreamView()
    window.add_dock("Frames", viewer, Qt.DockWidgetArea.RightDockWidgetArea)
    viewer.set_source(Ramp())
    button = viewer.play_button
    assert not button.icon().isNull() and viewer.icon_name == "play"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert viewer.playing and viewer.icon_name == "pause" and not button.icon().isNull()
    metrics = QFontMetrics(button.font())
    for text in [b.text() for b in viewer.findChildren(QPushButton)] + [g for _c, g in theme.CATEGORIES.values()]:
        for char in text:
            assert metrics.inFontUcs4(ord(char)), f"{char!r} (U+{ord(char):04X}) would show as a box"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not viewer.playing and viewer.icon_name == "play"


def test_a_sticky_note_is_edited_in_place(window) -> None:
    window.view.setFocus()
    QTest.mouseMove(window.view.viewport(), QPoint(300, 300))
    window._note_at(QPointF(0, 0))
    window.view.fit()
    QApplication.processEvents()
    count = window.stack.count()
    note = window.scene.frame_items[0]
    inside = window.view.mapFromScene(note.mapToScene(QPointF(40, 40)))
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, inside)
    assert not any(isinstance(w, QDialog) and w.isVisible() for w in QApplication.topLevelWidgets())
    assert window.scene.editing_text()
    QTest.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select the old text
    QTest.keyClicks(window.view, "Fix the lens, then run")  # F, L, N and Space are text here
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    assert not window.view.search.isVisible()
    QTest.keyClick(window.view, Qt.Key.Key_Escape)  # done
    QApplication.processEvents()
    assert window.graph.meta["editor"]["notes"][0]["text"] == "Fix the lens, then run\t"
    assert window.stack.count() == count + 1 and len(window.graph.nodes) == 0
    assert not window.scene.editing_text()


def test_kinograph_gui_says_which_system_libraries_xcb_needs(tmp_path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=":4321", KINOGRAPH_HOME=str(tmp_path))
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "kinograph", "gui"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "libxcb-icccm4" in done.stderr and "kinograph run GRAPH" in done.stderr
    assert done.stderr.count("could not open a window") == 1
