"""Small plots drawn with QPainter: motion curves over steps, and a feature vector's values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor("#16181b")
AXIS = QColor("#3a3f46")
TEXT = QColor("#9aa0a6")
CURVE_COLORS = {"pan_x": "#4fc3f7", "pan_y": "#81c784", "zoom": "#ffb74d", "rotation": "#f06292"}
PLOT_POINTS = 256


def downsample(values: Sequence[float], points: int = PLOT_POINTS) -> list[float]:
    """At most ``points`` values: means over equal bins (a long vector still shows its shape)."""
    n = len(values)
    if n <= points:
        return [float(v) for v in values]
    out = []
    for i in range(points):
        lo, hi = i * n // points, max(i * n // points + 1, (i + 1) * n // points)
        part = values[lo:hi]
        out.append(float(sum(part)) / len(part))
    return out


def _draw_curve(painter: QPainter, rect: QRectF, values: Sequence[float], color: QColor,
                label: str, bars: bool = False) -> None:
    painter.setPen(QPen(AXIS, 1))
    painter.drawRect(rect)
    if not values:
        return
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    inner = rect.adjusted(4, 14, -4, -4)

    def y_of(v: float) -> float:
        return inner.bottom() - (v - lo) / span * inner.height()

    n = len(values)
    if bars:
        width = inner.width() / n
        base = y_of(min(max(0.0, lo), hi))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        for i, v in enumerate(values):
            top = y_of(v)
            painter.drawRect(QRectF(inner.left() + i * width, min(top, base), max(width * 0.8, 0.8), abs(base - top) or 1))
    else:
        points = QPolygonF([
            QPointF(inner.left() + (inner.width() * i / (n - 1) if n > 1 else inner.width() / 2), y_of(v))
            for i, v in enumerate(values)
        ])
        painter.setPen(QPen(color, 1.6))
        painter.drawPolyline(points)
    painter.setPen(TEXT)
    painter.drawText(rect.adjusted(5, 1, -5, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, label)
    painter.drawText(rect.adjusted(5, 1, -5, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                     f"{lo:.4g} … {hi:.4g}")


#: the curve panel drawing, for other viewer pages (metrics)
draw_curve = _draw_curve


class MotionPlot(QWidget):
    """One small panel per motion parameter (pan_x, pan_y, zoom, rotation) over the steps."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curves: dict[str, list[float]] = {}
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.font_small = QFont()
        self.font_small.setPointSizeF(8.0)

    def set_motion(self, motion: Any) -> None:
        self.curves = {name: [float(v) for v in getattr(motion, name)] for name in CURVE_COLORS}
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setFont(self.font_small)
        if not self.curves:
            return
        steps = len(next(iter(self.curves.values())))
        rows = len(self.curves)
        height = (self.height() - 22) / rows
        for i, (name, values) in enumerate(self.curves.items()):
            rect = QRectF(6, 4 + i * height, self.width() - 12, height - 4)
            _draw_curve(painter, rect, values, QColor(CURVE_COLORS[name]), name)
        painter.setPen(TEXT)
        painter.drawText(QRectF(6, self.height() - 18, self.width() - 12, 16),
                         Qt.AlignmentFlag.AlignCenter, f"{steps} steps")
        painter.end()


class FeaturesPlot(QWidget):
    """The values of a feature vector (bins of means when it is long)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.label = ""
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.font_small = QFont()
        self.font_small.setPointSizeF(8.0)

    def set_values(self, values: Sequence[float], label: str) -> None:
        self.values = downsample(values)
        self.label = label
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setFont(self.font_small)
        if self.values:
            rect = QRectF(6, 4, self.width() - 12, self.height() - 8)
            _draw_curve(painter, rect, self.values, QColor("#ff8a65"), self.label, bars=True)
        painter.end()
