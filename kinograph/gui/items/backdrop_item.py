"""Backdrops (titled, coloured frames that carry the nodes on them) and sticky notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFocusEvent, QFont, QKeyEvent, QPainter, QPen, QTextCursor
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from kinograph.gui import theme

HANDLE = 14.0
TITLE_H = 26.0


class FrameItem(QGraphicsItem):
    """Common part of backdrops and notes: a resizable rectangle stored as editor state."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = dict(data)
        x, y, w, h = (float(v) for v in data.get("rect", [0, 0, 300, 200]))
        self.size = QPointF(max(w, 60.0), max(h, 40.0))
        self.setPos(x, y)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self._resizing = False
        self.font = QFont()
        self.font.setPointSizeF(10)

    def rect(self) -> QRectF:
        return QRectF(0, 0, self.size.x(), self.size.y())

    def boundingRect(self) -> QRectF:
        return self.rect().adjusted(-2, -2, 2, 2)

    def to_data(self) -> dict[str, Any]:
        data = dict(self.data)
        data["rect"] = [round(self.x(), 1), round(self.y(), 1), round(self.size.x(), 1), round(self.size.y(), 1)]
        return data

    def _in_handle(self, point: QPointF) -> bool:
        return point.x() > self.size.x() - HANDLE and point.y() > self.size.y() - HANDLE

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._resizing = self._in_handle(event.pos())
        if self._resizing:
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resizing:
            self.prepareGeometryChange()
            self.size = QPointF(max(event.pos().x(), 60.0), max(event.pos().y(), 40.0))
            self.update()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._resizing = False
        super().mouseReleaseEvent(event)

    def _paint_handle(self, painter: QPainter) -> None:
        painter.setPen(QPen(QColor(255, 255, 255, 70), 1.2))
        r = self.rect()
        for i in (4, 8, 12):
            painter.drawLine(QPointF(r.right() - i, r.bottom() - 2), QPointF(r.right() - 2, r.bottom() - i))


class BackdropItem(FrameItem):
    """A titled, coloured frame behind nodes; dragging its title moves the nodes on it."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.setZValue(-10)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        color = QColor(self.data.get("color", "#3d5a80"))
        fill = QColor(color)
        fill.setAlpha(55)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.NODE_SELECTED if self.isSelected() else color, 1.5))
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect(), 6, 6)
        title = QColor(color)
        title.setAlpha(170)
        painter.fillRect(QRectF(1, 1, self.size.x() - 2, TITLE_H), title)
        painter.setFont(self.font)
        painter.setPen(theme.NODE_TEXT)
        painter.drawText(QRectF(10, 0, self.size.x() - 20, TITLE_H), Qt.AlignmentFlag.AlignVCenter,
                         self.data.get("title", "Backdrop"))
        self._paint_handle(painter)

    def contained_nodes(self) -> list[QGraphicsItem]:
        """Node items lying wholly on this backdrop (they move with it)."""
        scene = self.scene()
        if scene is None:
            return []
        area = self.sceneBoundingRect()
        return [item for item in getattr(scene, "node_items", {}).values()
                if area.contains(item.sceneBoundingRect())]


NOTE_TEXT = QColor("#f3e9b5")


class NoteText(QGraphicsTextItem):
    """The text of a note being edited in place; leaving it (click elsewhere, Esc, Ctrl+Enter)
    hands the text to ``done``."""

    def __init__(self, note: NoteItem, done: Callable[[str], None]) -> None:
        super().__init__(note)
        self.done = done
        self.finished = False
        self.setFont(note.font)
        self.setDefaultTextColor(NOTE_TEXT)
        self.setPlainText(note.data.get("text", ""))
        self.document().setDocumentMargin(0)
        self.setTextWidth(note.size.x() - 20)
        self.setPos(10, 8)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            # Later: the note is rebuilt from the graph when its text is stored, which must not
            # happen inside this item's own event handler.
            text = self.toPlainText()
            QTimer.singleShot(0, lambda: self.done(text))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if event.key() == Qt.Key.Key_Escape or (enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.clearFocus()  # finishes, through focusOutEvent
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish()


class NoteItem(FrameItem):
    """A sticky note with free text (double-click to edit it in place)."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.setZValue(-5)
        self.editing: NoteText | None = None

    def start_editing(self, done: Callable[[str], None]) -> NoteText:
        """Edit the text in place, the cursor at its end; ``done(text)`` when the user leaves it."""
        if self.editing is None or self.editing.finished:
            self.editing = NoteText(self, done)
            self.update()
        self.editing.setFocus(Qt.FocusReason.MouseFocusReason)
        cursor = self.editing.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self.editing.setTextCursor(cursor)
        return self.editing

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.NODE_SELECTED if self.isSelected() or self.editing else QColor("#8a7a3a"), 1.2))
        painter.setBrush(QColor("#4a4530"))
        painter.drawRoundedRect(self.rect(), 4, 4)
        if self.editing is None:  # while editing, the text item draws the text
            painter.setFont(self.font)
            painter.setPen(NOTE_TEXT)
            painter.drawText(self.rect().adjusted(10, 8, -10, -8),
                             Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                             self.data.get("text", ""))
        self._paint_handle(painter)
