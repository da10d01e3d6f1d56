"""Links drawn as curves in the colour of the data they carry, and the link being dragged."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from kinograph.gui import theme
from kinograph.host import Link

if TYPE_CHECKING:
    from kinograph.gui.items.port_item import PortItem


def curve(points: list[QPointF]) -> QPainterPath:
    """A smooth curve through ``points`` that leaves and enters horizontally, like node editors do."""
    path = QPainterPath(points[0])
    for start, end in pairwise(points):
        dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
        path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class LinkItem(QGraphicsPathItem):
    """One link of the graph between two port items, passing through its reroute dots."""

    def __init__(self, link: Link, source: PortItem, target: PortItem, color: QColor) -> None:
        super().__init__()
        self.link = link
        self.source = source
        self.target = target
        self.color = color
        self.waypoints: list[QPointF] = []
        self.dots: list[QGraphicsItem] = []
        self.hovered = False
        #: a node dragged over it would be put into it on release: drawn lit up
        self.insert_target = False
        self._shape: QPainterPath | None = None
        # Never drawn (paint() draws): its width makes Qt's bounding rect leave room for the glow.
        self.setPen(QPen(QColor(0, 0, 0, 0), 12.0))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.setToolTip(f"{link.source} → {link.target}"
                        + (f" ({source.type_name})" if source.type_name else ""))
        self.update_path()

    def update_path(self) -> None:
        points = [self.source.scenePos()] + [QPointF(p) for p in self.waypoints] + [self.target.scenePos()]
        self._shape = None
        self.setPath(curve(points))

    def shape(self) -> QPainterPath:
        # Asked for often (hover, clicks, box select) but changed only by a move: made once per move.
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(12)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        # Far out, a smooth edge on a hairline is not worth its cost with hundreds of links.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing,
                              option.levelOfDetailFromTransform(painter.worldTransform()) >= 0.3)
        if self.insert_target:
            glow = QColor(theme.HIGHLIGHT)
            glow.setAlpha(90)
            painter.setPen(QPen(glow, 10.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPath(self.path())
        width = 3.2 if self.isSelected() or self.hovered or self.insert_target else 2.2
        color = theme.HIGHLIGHT if self.insert_target else theme.NODE_SELECTED if self.isSelected() else self.color
        if self.source.node.bypass or self.target.node.bypass:
            color = QColor(color)
            color.setAlpha(110)
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())

    def set_insert_target(self, on: bool) -> None:
        if on != self.insert_target:
            self.insert_target = on
            self.update()

    def hoverEnterEvent(self, event: object) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: object) -> None:
        self.hovered = False
        self.update()


class PendingLinkItem(QGraphicsPathItem):
    """The link following the mouse while the user drags from a port."""

    def __init__(self, anchor: PortItem) -> None:
        super().__init__()
        self.anchor = anchor
        self.setZValue(5)
        self.setPen(QPen(anchor.color, 2.2, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap))

    def follow(self, point: QPointF) -> None:
        start = self.anchor.scenePos()
        points = [start, point] if self.anchor.direction == "output" else [point, start]
        self.setPath(curve(points))
