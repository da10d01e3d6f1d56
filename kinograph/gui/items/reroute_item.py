"""Reroute dots: points a link passes through, for tidy wiring (editor-only, saved in meta)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from kinograph.gui import theme

if TYPE_CHECKING:
    from kinograph.gui.items.link_item import LinkItem

RADIUS = 6.0


class RerouteItem(QGraphicsItem):
    """A draggable dot on a link; moving it bends the link through it."""

    def __init__(self, link_item: LinkItem, index: int, pos: QPointF) -> None:
        super().__init__()
        self.link_item = link_item
        self.index = index
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setZValue(3)
        self.setPos(pos)
        self.setToolTip("Reroute dot: drag to bend the link, double-click to remove")

    def boundingRect(self) -> QRectF:
        return QRectF(-RADIUS - 2, -RADIUS - 2, 2 * RADIUS + 4, 2 * RADIUS + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.NODE_SELECTED if self.isSelected() else theme.NODE_BORDER, 1.5))
        painter.setBrush(QBrush(self.link_item.color))
        painter.drawEllipse(QRectF(-RADIUS, -RADIUS, 2 * RADIUS, 2 * RADIUS))

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            if 0 <= self.index < len(self.link_item.waypoints):
                self.link_item.waypoints[self.index] = QPointF(self.pos())
                self.link_item.update_path()
        return super().itemChange(change, value)
