"""A zoomable image: wheel zooms around the cursor, drag pans, double-click fits the view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from kinograph.gui.viewer.pixels import to_qimage

MIN_ZOOM = 0.02
MAX_ZOOM = 64.0


class ImageView(QGraphicsView):
    """Shows one image; fits the view until the user zooms, then keeps the zoom."""

    #: The zoom factor changed (1.0 = one image pixel per screen pixel).
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setBackgroundBrush(QColor("#16181b"))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumHeight(120)
        self.fitted = True
        self.image_size: tuple[int, int] = (0, 0)

    def set_pixels(self, pixels: Any) -> None:
        """Show an ``[H, W, 3]`` uint8 array."""
        self.set_image(to_qimage(pixels))

    def set_image(self, image: QImage) -> None:
        self.item.setPixmap(QPixmap.fromImage(image))
        size = (image.width(), image.height())
        resized = size != self.image_size
        self.image_size = size
        self.scene().setSceneRect(self.item.boundingRect())
        if self.fitted or resized:
            self.fit()

    def clear(self) -> None:
        self.item.setPixmap(QPixmap())
        self.image_size = (0, 0)

    @property
    def zoom(self) -> float:
        return float(self.transform().m11())

    def fit(self) -> None:
        self.fitted = True
        if self.image_size[0]:
            self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoom_changed.emit(self.zoom)

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.fitted = False
        self.resetTransform()
        self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, event: QWheelEvent) -> None:
        step = 1.25 if event.angleDelta().y() > 0 else 0.8
        target = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom * step))
        self.fitted = False
        self.scale(target / self.zoom, target / self.zoom)
        self.zoom_changed.emit(self.zoom)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.fitted:
            self.set_zoom(1.0)
        else:
            self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit()
