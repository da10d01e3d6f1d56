"""A port: a coloured dot on a node's edge that links start from and end on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from kinograph.gui import theme

if TYPE_CHECKING:
    from kinograph.gui.items.node_item import NodeItem

RADIUS = 5.5
#: Below this scale ports are not drawn (the node item draws itself as a block; see node_item).
FAR_ZOOM = 0.3


class PortItem(QGraphicsItem):
    """An input or output port of one node; ``ref`` is ``node.port`` as links name it."""

    def __init__(self, node: NodeItem, name: str, direction: str, type_name: str | None,
                 color: QColor, tooltip: str) -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.direction = direction  # "input" | "output"
        self.type_name = type_name
        self.color = color
        #: None normally; True/False while a link is dragged (can / cannot accept it).
        self.accepts: bool | None = None
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setToolTip(tooltip)
        self.setZValue(2)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def ref(self) -> str:
        return f"{self.node.node_id}.{self.name}"

    def boundingRect(self) -> QRectF:
        r = RADIUS + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.accepts is None and option.levelOfDetailFromTransform(painter.worldTransform()) < FAR_ZOOM:
            return  # a dot of a pixel or two when zoomed far out: nodes are drawn as blocks then
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = RADIUS + (1.5 if self.hovered or self.accepts else 0)
        color = QColor(self.color)
        if self.accepts is False:
            color.setAlpha(60)
        if self.accepts:
            painter.setPen(QPen(theme.HIGHLIGHT, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QRectF(-radius - 3, -radius - 3, 2 * radius + 6, 2 * radius + 6))
        painter.setPen(QPen(theme.NODE_BORDER, 1.5))
        painter.setBrush(QBrush(color))
        painter.drawEllipse(QRectF(-radius, -radius, 2 * radius, 2 * radius))

    def set_accepts(self, accepts: bool | None) -> None:
        if accepts != self.accepts:
            self.accepts = accepts
            self.update()

    def hoverEnterEvent(self, event: object) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: object) -> None:
        self.hovered = False
        self.update()
