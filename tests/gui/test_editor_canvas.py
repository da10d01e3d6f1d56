"""The canvas driven like a user does: palette, search, link drags with real mouse events, cuts."""

from __future__ import annotations

from helpers import drag, node_point, port_point
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kinograph.gui.palette import MIME_NODE_TYPE


def _pipeline(window) -> dict[str, str]:
    editor = window.editor
    ids = {
        "pattern": editor.add_node("kinograph.frames.test_pattern", (0, 0)),
        "invert": editor.add_node("test.invert", (320, 0)),
        "collect": editor.add_node("test.collect", (640, 0)),
        "number": editor.add_node("kinograph.value.number", (0, 240)),
    }
    window.view.fit()
    QApplication.processEvents()
    return ids


def test_palette_lists_nodes_by_category_and_double_click_adds(window) -> None:
    item = window.palette.item_for("kinograph.frames.test_pattern")
    assert item is not None and item.parent().text(0).endswith("Frames")
    assert "synthetic" in item.toolTip(0)
    window.palette.tree.itemActivated.emit(item, 0)
    assert [n.type for n in window.graph.nodes.values()] == ["kinograph.frames.test_pattern"]
    assert set(window.scene.node_items) == set(window.graph.nodes)


def test_drop_from_palette_places_node_where_dropped(window) -> None:
    item = window.palette.item_for("test.add")
    mime = window.palette.tree.mime_for(item)
    assert isinstance(mime, QMimeData) and mime.hasFormat(MIME_NODE_TYPE)
    where = QPointF(300, 200)
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert enter.isAccepted()
    event = QDropEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), event)
    (node,) = window.graph.nodes.values()
    assert node.type == "test.add"
    scene_point = window.view.mapToScene(QPoint(300, 200))
    assert abs(node.ui["pos"][0] - scene_point.x()) < 1 and abs(node.ui["pos"][1] - scene_point.y()) < 1


def test_tab_search_filters_and_enter_places_node(window, qtbot) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    search = window.view.search
    assert search.isVisible()
    QTest.keyClicks(search.edit, "synthetic colour")  # words from the description
    assert search.results()[0] == "kinograph.frames.test_pattern"
    assert "test.add" not in search.results()
    QTest.keyClick(search.edit, Qt.Key.Key_Return)
    assert not search.isVisible()
    assert [n.type for n in window.graph.nodes.values()] == ["kinograph.frames.test_pattern"]
    (node_id,) = window.graph.nodes
    assert window.scene.node_items[node_id].isSelected()


def test_drag_link_between_compatible_ports(window) -> None:
    ids = _pipeline(window)
    start = port_point(window, ids["pattern"], "frames", "output")
    end = port_point(window, ids["invert"], "frames", "input")
    drag(window, start, end)
    assert [str(link) for link in window.graph.links] == [f"{ids['pattern']}.frames -> {ids['invert']}.frames"]
    assert len(window.scene.link_items) == 1
    assert "Linked" in window.statusBar().currentMessage()


def test_compatible_ports_light_up_while_dragging(window) -> None:
    ids = _pipeline(window)
    viewport = window.view.viewport()
    start = port_point(window, ids["pattern"], "frames", "output")
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(60, 40))
    invert_in = window.scene.node_items[ids["invert"]].port("frames", "input")
    number_out = window.scene.node_items[ids["number"]].port("value", "output")
    assert invert_in.accepts is True and number_out.accepts is False
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(60, 40))
    assert invert_in.accepts is None


def test_incompatible_drop_is_refused_with_the_core_reason(window) -> None:
    ids = _pipeline(window)
    before = window.graph.to_json()
    drag(window, port_point(window, ids["number"], "value", "output"), port_point(window, ids["invert"], "frames", "input"))
    reason = window.graph.check_link(f"{ids['number']}.value", f"{ids['invert']}.frames")
    assert reason and "cannot feed" in reason
    assert window.statusBar().currentMessage() == f"Link refused: {reason}"
    assert window.graph.to_json() == before
    assert window.stack.count() == 4  # only the four adds


def test_link_dropped_on_empty_canvas_searches_fitting_nodes_and_connects(window) -> None:
    ids = _pipeline(window)
    start = port_point(window, ids["number"], "value", "output")
    drag(window, start, start + QPoint(120, 160))
    search = window.view.search
    assert search.isVisible()
    # The drag's hint ("drop on a highlighted port...") is gone: the bar says what to do now.
    assert window.statusBar().currentMessage().startswith(f"Pick a node to connect to {ids['number']}.value")
    results = search.results()
    assert "test.add" in results and "kinograph.frames.test_pattern" not in results
    search.edit.setText("add")
    QTest.keyClick(search.edit, Qt.Key.Key_Return)
    new = [n for n in window.graph.nodes.values() if n.type == "test.add"]
    assert len(new) == 1
    assert [str(link) for link in window.graph.links] == [f"{ids['number']}.value -> {new[0].id}.a"]
    window.stack.undo()  # one step: node and link go together
    assert not any(n.type == "test.add" for n in window.graph.nodes.values()) and not window.graph.links


def test_dragging_a_linked_input_picks_the_link_up(window) -> None:
    ids = _pipeline(window)
    window.editor.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    end = port_point(window, ids["invert"], "frames", "input")
    drag(window, end, end + QPoint(-30, 150))
    assert window.graph.links == []
    window.stack.undo()
    assert len(window.graph.links) == 1


def test_ctrl_drag_cuts_links(window) -> None:
    ids = _pipeline(window)
    window.editor.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    window.editor.connect(f"{ids['invert']}.frames", f"{ids['collect']}.frames")
    a = port_point(window, ids["pattern"], "frames", "output")
    b = port_point(window, ids["invert"], "frames", "input")
    middle = (a + b) / 2
    drag(window, middle + QPoint(0, -60), middle + QPoint(0, 60), Qt.KeyboardModifier.ControlModifier)
    assert [str(link) for link in window.graph.links] == [f"{ids['invert']}.frames -> {ids['collect']}.frames"]


def test_moving_a_node_with_the_mouse_is_one_undo_step(window) -> None:
    ids = _pipeline(window)
    item = window.scene.node_items[ids["collect"]]
    before = window.graph.to_json()
    start = node_point(window, ids["collect"])
    drag(window, start, start + QPoint(80, 60))
    pos = window.graph.nodes[ids["collect"]].ui["pos"]
    assert pos[0] > 640 and pos[1] > 0
    assert [item.x(), item.y()] == pos
    window.stack.undo()
    assert window.graph.to_json() == before and item.pos() == QPointF(640, 0)


def test_box_select_and_delete(window) -> None:
    ids = _pipeline(window)
    # A link passing under the box, between nodes outside it, must survive the delete.
    far = window.editor.add_node("test.add", (700, -250))
    window.editor.connect(f"{ids['number']}.value", f"{far}.a")
    view = window.view
    top_left = view.mapFromScene(QPointF(-40, -40))
    bottom_right = view.mapFromScene(QPointF(560, 140))
    drag(window, top_left, bottom_right)
    assert sorted(window.scene.selected_node_ids()) == sorted([ids["pattern"], ids["invert"]])
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert sorted(window.graph.nodes) == sorted([ids["collect"], ids["number"], far])
    assert [str(link) for link in window.graph.links] == [f"{ids['number']}.value -> {far}.a"]


def test_click_a_link_and_delete_it(window) -> None:
    ids = _pipeline(window)
    window.editor.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    QApplication.processEvents()
    link_item = next(iter(window.scene.link_items.values()))
    point = window.view.mapFromScene(link_item.path().pointAtPercent(0.5))
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert link_item.isSelected()
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert window.graph.links == [] and len(window.graph.nodes) == 4


def test_wheel_zooms_around_the_cursor_and_f_fits(window) -> None:
    ids = _pipeline(window)
    view = window.view
    anchor = port_point(window, ids["invert"], "frames", "input")
    scene_before = view.mapToScene(anchor)
    zoom = view.zoom()
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(QPointF(anchor), QPointF(view.viewport().mapToGlobal(anchor)), P(0, 0), P(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() > zoom * 1.2
    after = view.mapToScene(anchor)
    assert abs(after.x() - scene_before.x()) < 3 and abs(after.y() - scene_before.y()) < 3
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.node_items.values():
        assert visible.contains(item.sceneBoundingRect())


def test_node_dropped_on_a_link_is_inserted(window) -> None:
    ids = _pipeline(window)
    window.editor.connect(f"{ids['pattern']}.frames", f"{ids['collect']}.frames")
    extra = window.editor.add_node("test.invert", (320, 300))
    QApplication.processEvents()
    link_item = next(iter(window.scene.link_items.values()))
    target = window.view.mapFromScene(link_item.path().pointAtPercent(0.5))
    start = node_point(window, extra, dx=40, dy=12)
    # Grab the title and drop it so the node's body sits across the link.
    drag(window, start, target + QPoint(0, -20))
    assert sorted(str(link) for link in window.graph.links) == sorted(
        [f"{ids['pattern']}.frames -> {extra}.frames", f"{extra}.frames -> {ids['collect']}.frames"]
    )


def test_bypass_toggles_and_draws_dimmed(window) -> None:
    ids = _pipeline(window)
    window.view.select_only([ids["invert"]])
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert window.graph.nodes[ids["invert"]].bypass is True
    assert window.scene.node_items[ids["invert"]].opacity() < 0.6
    window.stack.undo()
    assert window.scene.node_items[ids["invert"]].opacity() == 1.0


def test_highlight_agrees_with_the_core_for_every_port(window) -> None:
    ids = _pipeline(window)
    e = window.editor
    e.add_node("test.add", (300, 240))
    e.add_node("test.noop", (640, 240))
    e.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    e.connect(f"{ids['invert']}.frames", f"{ids['collect']}.frames")
    e.connect(f"{ids['number']}.value", "add.a")
    e.connect("add.sum", "noop.a")
    scene = window.scene
    for anchor_node in scene.node_items.values():
        for anchor in anchor_node.ports():
            scene._highlight_targets(anchor)
            for node in scene.node_items.values():
                for port in node.ports():
                    if port.direction == anchor.direction:
                        continue
                    source, target = (anchor.ref, port.ref) if anchor.direction == "output" else (port.ref, anchor.ref)
                    assert port.accepts == (window.graph.check_link(source, target) is None), (source, target)
    scene._clear_highlight()


def test_a_picked_up_link_moves_to_another_input_in_one_step(window) -> None:
    ids = _pipeline(window)
    add = window.editor.add_node("test.add", (320, 240))
    QApplication.processEvents()
    window.editor.connect(f"{ids['number']}.value", f"{add}.a")
    before = window.graph.to_json()
    window.stack.clear()
    drag(window, port_point(window, add, "a", "input"), port_point(window, add, "b", "input"))
    assert [str(link) for link in window.graph.links] == [f"{ids['number']}.value -> {add}.b"]
    assert window.stack.count() == 1
    drag(window, port_point(window, add, "b", "input"), port_point(window, ids["invert"], "frames", "input"))
    assert "cannot feed" in window.statusBar().currentMessage()
    assert [str(link) for link in window.graph.links] == [f"{ids['number']}.value -> {add}.b"]
    assert window.stack.count() == 1  # the refused move left no step behind
    window.stack.undo()
    assert window.graph.to_json() == before


def test_fit_keeps_child_items_such_as_thumbnails_in_view(window) -> None:
    from PySide6.QtWidgets import QGraphicsRectItem

    ids = _pipeline(window)
    node = window.scene.node_items[ids["invert"]]
    # A tall child hanging far below the node, as a run thumbnail does on a small canvas.
    child = QGraphicsRectItem(0, 0, 120, 2000, node)
    child.setPos(0, node.height + 10)
    window.view.fit()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.contains(child.sceneBoundingRect())
    zoom_with_child = window.view.zoom()
    child.setVisible(False)  # hidden children (thumbnails turned off) do not count
    window.view.fit()
    assert window.view.zoom() > zoom_with_child * 1.2


def test_every_built_in_category_has_its_own_glyph(window) -> None:
    from kinograph.gui.theme import CATEGORIES, category_glyph

    categories = {cls.category for cls in window.registry.nodes.values()
                  if cls.__module__.startswith("kinograph.plugins.")}
    assert categories and all(c in CATEGORIES or c.split("/")[0] in CATEGORIES for c in categories), categories
    assert all(category_glyph(c) != "•" for c in categories)  # the fallback reads as a list bullet


def test_nodes_added_from_the_palette_never_cover_another(window) -> None:
    ids = _pipeline(window)
    window.view.centerOn(window.scene.node_items[ids["invert"]].sceneBoundingRect().center())
    QApplication.processEvents()
    item = window.palette.item_for("kinograph.frames.test_pattern")
    for _ in range(3):  # double-click the same entry again and again, as users do
        window.palette.tree.itemActivated.emit(item, 0)
    QApplication.processEvents()
    rects = {node_id: node.sceneBoundingRect() for node_id, node in window.scene.node_items.items()}
    for a, ra in rects.items():
        for b, rb in rects.items():
            assert a == b or not ra.intersects(rb), f"{a} covers {b}"
    # Still near where the user looks: inside the view.
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    new = [n for n in rects if n not in ids.values()]
    assert len(new) == 3 and all(visible.intersects(rects[n]) for n in new)
