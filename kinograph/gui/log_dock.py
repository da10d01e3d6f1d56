"""The run log: one line per run event and warning; a failure's traceback in a details panel."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kinograph.host import Event

LEVEL_COLORS = {"info": "#c9ced6", "muted": "#8b929b", "ok": "#7ee787", "warning": "#f2cc60", "error": "#ff8a80"}
MAX_LINES = 5000
DETAILS_ROLE = Qt.ItemDataRole.UserRole
NODE_ROLE = Qt.ItemDataRole.UserRole + 1


def describe(event: Event) -> tuple[str, str, str]:
    """(level, text, details) of an event as the log shows it."""
    data = event.data
    node = event.node_id or ""
    kind = event.kind
    if kind == "run_started":
        actions: dict[str, str] = data.get("actions", {})
        runs = sum(1 for a in actions.values() if a == "run")
        cached = sum(1 for a in actions.values() if a == "cached")
        return "info", f"run started: {len(actions)} nodes ({runs} to run, {cached} from the cache)", ""
    if kind == "node_started":
        return "muted", f"{node}: started ({data.get('type', '')})", ""
    if kind == "node_cached":
        return "muted", f"{node}: from the cache", ""
    if kind == "node_finished":
        extra = " (stream stopped early)" if data.get("partial") else ""
        return "ok", f"{node}: done in {float(data.get('seconds', 0.0)):.3f} s{extra}", ""
    if kind == "node_warning":
        return "warning", f"{node}: warning: {data.get('message', '')}", ""
    if kind == "node_failed":
        return "error", f"{node}: failed: {data.get('message', '')}", str(data.get("traceback", ""))
    if kind == "node_skipped":
        return "muted", f"{node}: skipped ({data.get('because', '')})", ""
    if kind == "run_cancelled":
        return "warning", "run cancelled", ""
    if kind == "run_finished":
        summary: dict[str, Any] = data.get("summary", {})
        counts = ", ".join(f"{n} {state}" for state, n in sorted(summary.get("nodes", {}).items()))
        level = {"finished": "ok", "failed": "error", "cancelled": "warning"}.get(summary.get("status", ""), "info")
        return level, f"run {summary.get('status', 'finished')} in {summary.get('seconds', 0)} s ({counts})", ""
    return "muted", f"{node}: {kind}", ""


class LogPanel(QWidget):
    """Run events and warnings; selecting a failure shows its traceback below."""

    #: The node a clicked line is about (the window may select it).
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = QListWidget(self)
        self.lines.setUniformItemSizes(True)
        self.lines.setWordWrap(False)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(8.5)
        self.lines.setFont(mono)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setFont(mono)
        self.details.setPlaceholderText("Select a failure to see its details (traceback).")
        self.details.setVisible(False)
        # Side by side: the log is a wide, low strip at the bottom of the window.
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.lines)
        split.addWidget(self.details)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        clear = QPushButton("Clear", self)
        clear.setFlat(True)
        clear.clicked.connect(self.clear)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addStretch(1)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split, 1)
        layout.addLayout(bar)
        self.lines.currentItemChanged.connect(self._show_details)
        self.lines.itemClicked.connect(self._clicked)

    def add_event(self, event: Event) -> None:
        if event.kind == "node_progress":
            return  # the badges show progress; a line per chunk would drown the log
        level, text, details = describe(event)
        self.add_line(text, level, details, event.node_id, event.time)

    def add_line(self, text: str, level: str = "info", details: str = "", node_id: str | None = None,
                 when: float | None = None) -> QListWidgetItem:
        stamp = time.strftime("%H:%M:%S", time.localtime(when or time.time()))
        item = QListWidgetItem(f"{stamp}  {text.splitlines()[0] if text else ''}")
        item.setForeground(QColor(LEVEL_COLORS.get(level, LEVEL_COLORS["info"])))
        full = text if "\n" in text or len(text) > 120 else ""  # long warnings: readable in full
        item.setData(DETAILS_ROLE, "\n\n".join(part for part in (full, details) if part))
        item.setData(NODE_ROLE, node_id or "")
        item.setToolTip(text)
        self.lines.addItem(item)
        while self.lines.count() > MAX_LINES:
            self.lines.takeItem(0)
        self.lines.scrollToBottom()
        if level == "error" and item.data(DETAILS_ROLE):
            self.lines.setCurrentItem(item)
        return item

    def texts(self) -> list[str]:
        """Every line as shown (without the time stamp)."""
        return [self.lines.item(i).text().split("  ", 1)[-1] for i in range(self.lines.count())]

    def clear(self) -> None:
        self.lines.clear()
        self.details.clear()
        self.details.setVisible(False)

    def _show_details(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        details = item.data(DETAILS_ROLE) if item is not None else ""
        self.details.setPlainText(details or "")
        self.details.setVisible(bool(details))

    def _clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_clicked.emit(node_id)
