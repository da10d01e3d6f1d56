"""Big graphs: auto-layout keeps chains in rows, and dragging 200 selected nodes stays smooth
(each link redrawn once per mouse move) with an exact, quick undo."""

from __future__ import annotations

from helpers import node_point
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kinograph.gui.items.link_item import LinkItem


def chain_with_sources(window, count: int) -> None:
    """The editor benchmark's graph: Number i feeds Add i, and Add i-1 feeds Add i."""
    graph = window.graph
    previous = None
    for i in range(count):
        graph.add_node("kinograph.value.number", f"n{i}", {"value": float(i)}, (0.0, 0.0))
        graph.add_node("test.add", f"a{i}", None, (0.0, 0.0))
        graph.connect(f"n{i}.value", f"a{i}.a")
        if previous is not None:
            graph.connect(f"{previous}.sum", f"a{i}.b")
        previous = f"a{i}"


def rows(window, ids) -> set[float]:
    return {window.graph.nodes[n].ui["pos"][1] for n in ids}


def no_overlaps(window) -> bool:
    rects = [item.sceneBoundingRect() for item in window.scene.node_items.values()]
    return not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])


def test_auto_layout_keeps_a_long_chain_in_a_row_with_its_sources_beside_it(window) -> None:
    chain_with_sources(window, 30)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_L)  # the whole graph (nothing selected)
    adds = [f"a{i}" for i in range(30)]
    numbers = [f"n{i}" for i in range(30)]
    assert len(rows(window, adds)) == 1  # the chain reads as one row
    assert len(rows(window, numbers)) <= 2  # not a column of 30 sources
    for i in range(30):  # each Number just left of the Add it feeds, at most a row away
        (nx, ny), (ax, ay) = window.graph.nodes[f"n{i}"].ui["pos"], window.graph.nodes[f"a{i}"].ui["pos"]
        assert ax - 400 < nx < ax and abs(ny - ay) < 200
    assert no_overlaps(window)
    QApplication.processEvents()
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert all(shown.contains(i.sceneBoundingRect()) for i in window.scene.node_items.values())


def test_auto_layout_puts_parallel_chains_in_rows(window) -> None:
    for i in range(8):  # eight separate Number -> Add -> Record chains
        window.graph.add_node("kinograph.value.number", f"n{i}", None, (0.0, 0.0))
        window.graph.add_node("test.add", f"a{i}", None, (0.0, 0.0))
        window.graph.add_node("test.record", f"r{i}", None, (0.0, 0.0))
        window.graph.connect(f"n{i}.value", f"a{i}.a")
        window.graph.connect(f"a{i}.sum", f"r{i}.value")
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_L)
    for i in range(8):
        assert len(rows(window, [f"n{i}", f"a{i}", f"r{i}"])) == 1  # a chain is a row
    tops = [window.graph.nodes[f"n{i}"].ui["pos"][1] for i in range(8)]
    assert tops == sorted(tops) and len(set(tops)) == 8  # stacked in file order
    assert no_overlaps(window)


def test_dragging_200_selected_nodes_redraws_each_link_once_per_move_and_undoes_exactly(window, monkeypatch) -> None:
    chain_with_sources(window, 100)
    window.auto_layout()
    window.stack.clear()
    before = window.graph.to_json()
    window.select_all()
    QApplication.processEvents()
    redraws: list[LinkItem] = []
    original = LinkItem.update_path
    monkeypatch.setattr(LinkItem, "update_path", lambda self: (redraws.append(self), original(self))[1])
    viewport = window.view.viewport()
    start = node_point(window, "n0")
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 6):
        redraws.clear()
        QTest.mouseMove(viewport, start + QPoint(step * 7, step * 5))
        assert len(redraws) == len(window.scene.link_items) == len(set(redraws))  # once each, not once per end
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(35, 25))
    for item in window.scene.link_items.values():  # every curve ends on its ports
        path = item.path()
        assert (path.pointAtPercent(0) - item.source.scenePos()).manhattanLength() < 0.5
        assert (path.pointAtPercent(1) - item.target.scenePos()).manhattanLength() < 0.5
    moved = window.graph.nodes["a50"].ui["pos"]
    assert window.stack.count() == 1  # one undo step
    window.stack.undo()
    assert window.graph.to_json() == before
    assert window.scene.node_items["a50"].pos().x() != moved[0]
    for item in window.scene.link_items.values():  # undo redraws the links too
        assert (item.path().pointAtPercent(1) - item.target.scenePos()).manhattanLength() < 0.5
