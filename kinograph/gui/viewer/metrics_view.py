"""The viewer page for evaluation results (the ``Metrics`` port): a table and per-frame plots.

A metrics value offers ``title``, ``table() -> (header, rows of cell texts)`` and ``curves``
(``{group: {series: per-frame values}}``), as the evaluation pack's report does; the editor
knows only this shape, never the pack. Non-finite values (a pair across a cut, the infinite
PSNR of an exact frame) are left out of a plot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kinograph.gui.viewer.plots import BACKGROUND, downsample, draw_curve

COLORS = ["#4fc3f7", "#81c784", "#ffb74d", "#f06292", "#ba68c8", "#4db6ac", "#e57373", "#fff176", "#90a4ae"]
#: height of one series' panel, in pixels
PANEL_HEIGHT = 70


def is_metrics(value: Any) -> bool:
    """Whether ``value`` has the metrics shape (a table and curves)."""
    return callable(getattr(value, "table", None)) and isinstance(getattr(value, "curves", None), Mapping)


class CurvesPlot(QWidget):
    """One small panel per series, stacked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, list[float]] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.font_small = QFont()
        self.font_small.setPointSizeF(8.0)

    def set_series(self, series: Mapping[str, Sequence[float]]) -> None:
        self.series = {name: downsample([v for v in values if v is not None and math.isfinite(v)])
                       for name, values in series.items()}
        self.setFixedHeight(max(1, len(self.series)) * PANEL_HEIGHT + 8)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setFont(self.font_small)
        for i, (name, values) in enumerate(self.series.items()):
            rect = QRectF(6, 4 + i * PANEL_HEIGHT, self.width() - 12, PANEL_HEIGHT - 4)
            draw_curve(painter, rect, values, QColor(COLORS[i % len(COLORS)]), name)
        painter.end()


class MetricsView(QWidget):
    """A metrics value: its table, then the plots of one chosen group of curves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("", self)
        self.table = QTableWidget(self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.groups = QComboBox(self)
        self.groups.currentTextChanged.connect(self._show_group)
        self.plot = CurvesPlot()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.plot)
        self.curves: dict[str, dict[str, list[float]]] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.table, 2)
        column.addWidget(self.groups)
        column.addWidget(scroll, 3)

    def set_metrics(self, value: Any) -> None:
        header, rows = value.table()
        self.title.setText(str(getattr(value, "title", "")))
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels([str(h) for h in header])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(str(text)))
        self.table.resizeColumnsToContents()
        self.table.setVisible(bool(header))  # a plugin's curves preview comes without a table
        self.curves = {str(g): dict(s) for g, s in value.curves.items()}
        self.groups.blockSignals(True)
        self.groups.clear()
        self.groups.addItems(list(self.curves))
        self.groups.blockSignals(False)
        self.groups.setVisible(len(self.curves) > 1)
        self._show_group(self.groups.currentText())

    def _show_group(self, group: str) -> None:
        self.plot.set_series(self.curves.get(group, {}))
