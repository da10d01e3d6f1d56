"""Helpers that drive the canvas with real mouse events on the view's viewport."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest


def port_point(window, node_id: str, port: str, direction: str) -> QPoint:
    """Where a port is drawn, in viewport pixels."""
    item = window.scene.node_items[node_id].port(port, direction)
    assert item is not None, f"{node_id} has no {direction} {port}"
    return window.view.mapFromScene(item.scenePos())


def node_point(window, node_id: str, dx: float = 40, dy: float = 12) -> QPoint:
    """A point on a node's title bar, in viewport pixels."""
    item = window.scene.node_items[node_id]
    return window.view.mapFromScene(item.scenePos().x() + dx, item.scenePos().y() + dy)


def drag(window, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier, steps: int = 5) -> None:
    """Press at ``start``, move in steps, release at ``end`` (left button)."""
    viewport = window.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, end)
