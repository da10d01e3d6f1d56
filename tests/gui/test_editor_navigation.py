"""Keyboard entry points and finding your way in big graphs: focus, Space in the search, Home,
fit on open, zoom range, minimap. Driven with real key and mouse events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers import drag
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from kinograph.core.graph import Graph
from kinograph.gui.viewer.frame_source import FrameSource
from kinograph.gui.viewer.stream_view import StreamView


def visible_rect(window):
    return window.view.mapToScene(window.view.viewport().rect()).boundingRect()


def all_nodes_visible(window) -> bool:
    shown = visible_rect(window)
    return all(shown.contains(item.sceneBoundingRect()) for item in window.scene.node_items.values())


def big_graph_file(tmp_path: Path, registry, count: int = 200, spread: float = 420.0) -> Path:
    graph = Graph(registry)
    for i in range(count):
        graph.add_node("test.noop", f"n{i}", None, ((i % 20) * spread, (i // 20) * 260.0))
    path = tmp_path / "big.json"
    graph.save(path)
    return path


# -- keyboard entry points ------------------------------------------------------------------------


def test_a_space_typed_in_the_search_box_stays_in_the_query(window) -> None:
    view = window.view
    view.setFocus()
    # A Space+drag pan first: the flag it leaves must not matter either.
    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(window, QPoint(300, 300), QPoint(340, 320))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert not view.search.isVisible()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    QTest.keyClicks(view.search.edit, "load im")
    assert view.search.edit.text() == "load im"
    assert view.search.isVisible()
    QTest.keyClick(view.search.edit, Qt.Key.Key_Return)
    assert [n.type for n in window.graph.nodes.values()] == ["kinograph.image.load"]


def test_the_canvas_has_the_keys_on_start(qtbot, gui_registry) -> None:
    from kinograph.gui.app import application
    from kinograph.gui.main_window import MainWindow

    application()
    win = MainWindow(gui_registry)
    qtbot.addWidget(win)
    win.palette.findChild(QLineEdit).setFocus()  # what a window system may focus first
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None and QApplication.activeWindow() is win)
    focused = QApplication.focusWidget()
    QTest.keyClick(focused, Qt.Key.Key_Tab)
    assert win.view.search.isVisible()
    QTest.keyClick(win.view.search.edit, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is win.view  # the canvas again when the search closes


def test_opening_a_file_gives_the_canvas_the_keys(window, tmp_path: Path) -> None:
    path = big_graph_file(tmp_path, window.registry, count=3)
    window.inspector.graph_name.setFocus()
    assert window.open_file(path)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert window.view.search.isVisible()


def test_single_keys_type_into_a_field_and_act_only_on_the_canvas(window) -> None:
    field = window.inspector.graph_name
    field.setFocus()
    QTest.keyClicks(field, "nlf")  # N adds a note, L lays out, F fits, on the canvas
    assert field.text() == "nlf"
    node_id = window.editor.add_node("guitest.styled", (0, 0))
    window.view.select_only([node_id])
    check = window.inspector.bypass_box  # a widget that takes no letters: still not the canvas's
    check.setFocus()
    QTest.keyClicks(check, "nlf")
    QTest.keyClick(check, Qt.Key.Key_Home)
    assert "editor" not in window.graph.meta
    assert window.graph.nodes[node_id].ui["pos"] == [0.0, 0.0]
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_N)
    assert len(window.graph.meta["editor"]["notes"]) == 1


class Ramp(FrameSource):
    """Ten small grey frames."""

    count, fps, width, height, label = 10, 10.0, 8, 8, "test"

    def frame(self, index: int):
        return np.full((8, 8, 3), index * 20, dtype=np.uint8) if 0 <= index < self.count else None


def test_home_frames_the_whole_graph_on_the_canvas_and_is_first_frame_in_the_viewer(window) -> None:
    window.editor.add_node("test.noop", (0, 0))
    window.editor.add_node("test.noop", (5000, 3000))
    viewer = StreamView()
    window.add_dock("Frames", viewer, Qt.DockWidgetArea.RightDockWidgetArea)
    viewer.set_source(Ramp(), index=6)
    window.view.resetTransform()
    window.view.centerOn(0, 0)
    QApplication.processEvents()
    assert not all_nodes_visible(window)

    viewer.setFocus()
    QTest.keyClick(viewer, Qt.Key.Key_Home)
    assert viewer.index == 0
    assert not all_nodes_visible(window)  # Home in the viewer left the canvas alone

    window.view.setFocus()
    window.view.select_only(["test_noop"] if "test_noop" in window.graph.nodes else [next(iter(window.graph.nodes))])
    QTest.keyClick(window.view, Qt.Key.Key_Home)
    assert all_nodes_visible(window)  # the whole graph, whatever is selected


# -- big graphs ---------------------------------------------------------------------------------------


def test_a_graph_opened_before_the_window_is_laid_out_is_fitted_to_the_final_canvas(window, tmp_path) -> None:
    path = big_graph_file(tmp_path, window.registry)
    window.resize(1600, 1000)
    QApplication.processEvents()
    assert window.open_file(path)
    window.resize(900, 600)  # docks and the window manager settle after the file was opened
    QApplication.processEvents()
    assert all_nodes_visible(window)
    # Once the user moved the view, a resize keeps what they chose.
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    window.view.resetTransform()
    window.view.centerOn(0, 0)
    zoom = window.view.zoom()
    window.resize(1000, 700)
    QApplication.processEvents()
    assert window.view.zoom() == zoom


def test_fit_and_the_wheel_reach_a_graph_wider_than_ten_screens(window, tmp_path) -> None:
    path = big_graph_file(tmp_path, window.registry, count=40, spread=4000.0)  # 76,000 px wide
    assert window.open_file(path)
    QApplication.processEvents()
    assert all_nodes_visible(window) and window.view.zoom() < 0.1
    window.view.resetTransform()
    viewport = window.view.viewport()
    centre = viewport.rect().center()
    for _ in range(80):  # wheel out as far as it goes
        QTest.mouseMove(viewport, centre)
        event_angle = QPoint(0, -120)
        from PySide6.QtGui import QWheelEvent

        wheel = QWheelEvent(QPointF(centre), QPointF(viewport.mapToGlobal(centre)), QPoint(), event_angle,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(viewport, wheel)
    window.view.centerOn(window.view.graph_rect().center())
    assert all_nodes_visible(window)


def test_the_minimap_shows_when_part_of_the_graph_is_out_of_view_and_moves_the_view(qtbot, window, tmp_path) -> None:
    path = big_graph_file(tmp_path, window.registry)
    assert window.open_file(path)
    QApplication.processEvents()
    minimap = window.view.minimap
    assert not minimap.isVisible()  # everything is in view: nothing to add
    window.view.resetTransform()
    window.view.centerOn(0, 0)
    qtbot.waitUntil(minimap.isVisible, timeout=1000)  # it follows the canvas at most every 100 ms
    assert window.actions["minimap"].isChecked()
    # Click on the far corner of the map: the view goes there.
    far = window.scene.node_items["n199"].sceneBoundingRect().center()
    minimap._layout()
    target = minimap.to_map(far).toPoint()
    QTest.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=target)
    assert visible_rect(window).contains(far)
    # View ▸ Minimap turns it off, and a new window remembers that.
    window.actions["minimap"].trigger()
    assert not minimap.isVisible()
    from kinograph.gui.main_window import MainWindow

    other = MainWindow(window.registry)
    assert not other.actions["minimap"].isChecked()
    other.deleteLater()
