"""The minimap: the whole graph in small, with the part the canvas shows framed; click or drag in it to go there.

It sits in the canvas's bottom-right corner and shows only when part of the graph is out of
view (when everything is visible it would add nothing and hide nodes under it). View ▸ Minimap
turns it off; the choice is remembered.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from kinograph.gui import theme

if TYPE_CHECKING:
    from kinograph.gui.view import GraphView

WIDTH, HEIGHT = 220, 140
MARGIN = 10
PADDING = 6
FRAME_COLOR = QColor("#ffb13b")
REFRESH_MS = 100


class Minimap(QWidget):
    """An overview of the view's graph; ``enabled_by_user`` is the View menu's toggle."""

    def __init__(self, view: GraphView) -> None:
        super().__init__(view)
        self.view = view
        self.enabled_by_user = True
        self.setFixedSize(WIDTH, HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Minimap: click or drag to move the view there (View ▸ Minimap hides it)")
        self._scene_rect = QRectF()
        self._scale = 1.0
        self._offset = QPointF()
        self._refreshed = 0.0
        #: the last drawing: the canvas repaints under this widget far more often than the graph
        #: changes, and each of those repaints paints this widget again
        # (a QImage, not a QPixmap: it may outlive the application at exit without harm)
        self._picture: QImage | None = None
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._refresh_now)
        self.hide()

    # -- when and where it shows --

    def set_enabled_by_user(self, on: bool) -> None:
        self.enabled_by_user = on
        self._refresh_now()

    def place(self) -> None:
        viewport = self.view.viewport().geometry()
        self.move(viewport.right() - WIDTH - MARGIN + 1, viewport.bottom() - HEIGHT - MARGIN + 1)

    def refresh(self) -> None:
        """Show it when part of the graph is out of view (and the user wants it); repaint.

        Called on every change of the canvas: at most every :data:`REFRESH_MS` (the first at
        once, the last one always), so dragging 200 nodes does not redraw it 60 times a second.
        """
        now = time.monotonic()
        if now - self._refreshed < REFRESH_MS / 1000:
            if not self._later.isActive():
                self._later.start(REFRESH_MS)
            return
        self._refreshed = now
        self._refresh_now()

    def _refresh_now(self) -> None:
        self._refreshed = time.monotonic()
        if not self.enabled_by_user:
            self.hide()
            return
        graph = self.view.graph_rect()
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        wanted = not graph.isNull() and not visible.contains(graph)
        if wanted != self.isVisible():
            self.place()
            self.setVisible(wanted)
            if wanted:
                self.raise_()
        if wanted:
            self._picture = None
            self.update()

    # -- drawing --

    def _layout(self) -> QRectF:
        """Fit the graph and the visible area into the widget; returns the visible area."""
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        rect = self.view.graph_rect().united(visible)
        self._scene_rect = rect
        inner_w, inner_h = WIDTH - 2 * PADDING, HEIGHT - 2 * PADDING
        self._scale = min(inner_w / max(rect.width(), 1.0), inner_h / max(rect.height(), 1.0))
        self._offset = QPointF(PADDING + (inner_w - rect.width() * self._scale) / 2,
                               PADDING + (inner_h - rect.height() * self._scale) / 2)
        return visible

    def to_map(self, point: QPointF) -> QPointF:
        return (point - self._scene_rect.topLeft()) * self._scale + self._offset

    def to_scene(self, point: QPointF) -> QPointF:
        return (point - self._offset) / self._scale + self._scene_rect.topLeft()

    def _map_rect(self, rect: QRectF) -> QRectF:
        return QRectF(self.to_map(rect.topLeft()), self.to_map(rect.bottomRight()))

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._picture is None or self._picture.size() != self.size():
            self._picture = self._draw()
        painter = QPainter(self)
        painter.drawImage(0, 0, self._picture)
        painter.end()

    def _draw(self) -> QImage:
        picture = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
        picture.fill(Qt.GlobalColor.transparent)
        visible = self._layout()
        painter = QPainter(picture)
        painter.fillRect(self.rect(), QColor(20, 22, 25, 215))
        painter.setPen(QPen(QColor("#3a3f46"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.setPen(Qt.PenStyle.NoPen)
        scene = self.view.graph_scene
        for frame in scene.frame_items:
            color = QColor(frame.data.get("color", "#4a4530"))
            color.setAlpha(90)
            painter.setBrush(color)
            painter.drawRect(self._map_rect(frame.sceneBoundingRect()))
        for item in scene.node_items.values():
            color = theme.MISSING if item.missing else theme.category_color(item.category)
            painter.setBrush(theme.NODE_SELECTED if item.isSelected() else color)
            box = self._map_rect(item.sceneBoundingRect())
            painter.drawRect(box.adjusted(0, 0, max(0.0, 2 - box.width()), max(0.0, 2 - box.height())))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(FRAME_COLOR, 1.5))
        painter.drawRect(self._map_rect(visible))
        painter.end()
        return picture

    # -- moving the view --

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._go_to(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go_to(event)

    def _go_to(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton or event.button() == Qt.MouseButton.LeftButton:
            self._layout()
            self.view.centerOn(self.to_scene(event.position()))
            self.view.setFocus()
            event.accept()
