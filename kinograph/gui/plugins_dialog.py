"""The Plugins dialog: every plugin with version, node count and status, failed ones with errors."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kinograph.host import Registry


def failed_summary(registry: Registry) -> str:
    """Status bar text: how many plugins failed (empty when none did)."""
    failed = registry.failed_plugins()
    if not failed:
        return ""
    return f"{len(failed)} plugin{'s' if len(failed) != 1 else ''} failed to load"


class PluginsDialog(QDialog):
    """Lists plugins; selecting one shows its errors in full."""

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.resize(720, 460)
        plugins = registry.plugins
        self.table = QTableWidget(len(plugins), 5, self)
        self.table.setHorizontalHeaderLabels(["Plugin", "Package", "Version", "Nodes", "Status"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, info in enumerate(plugins):
            cells = [info.name, info.dist, info.version, str(len(info.node_types)),
                     "failed" if info.errors and info.status == "ok" else info.status]
            if info.errors and info.node_types:
                cells[4] = "problems"
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if info.errors:
                    item.setForeground(QColor("#ff8a80"))
                    item.setToolTip(info.error)
                self.table.setItem(row, col, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a plugin to see its errors.")
        failed = registry.failed_plugins()
        summary = QLabel(failed_summary(registry) or f"All {len(plugins)} plugins loaded.")
        summary.setProperty("role", "error" if failed else "hint")
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.details, 1)
        self.plugins = plugins
        self.table.currentCellChanged.connect(lambda row, *_: self._show(row))
        if failed:
            self.table.selectRow(plugins.index(failed[0]))

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.plugins):
            info = self.plugins[row]
            text = "\n".join(info.errors) or "No problems."
            if info.detail:
                text += "\n\n" + info.detail
            self.details.setPlainText(text)
