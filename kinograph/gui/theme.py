"""The editor's dark theme: colours, fonts, category colours and glyphs, and the Qt style sheet."""

from __future__ import annotations

import hashlib

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = QColor("#1d1f23")
GRID_MINOR = QColor("#23262a")
GRID_MAJOR = QColor("#2b2e34")
NODE_BODY = QColor("#363b44")
NODE_BORDER = QColor("#121316")
NODE_SELECTED = QColor("#ffb13b")
NODE_TEXT = QColor("#e8eaed")
NODE_SUBTEXT = QColor("#9aa0a6")
MISSING = QColor("#e5484d")
HIGHLIGHT = QColor("#7ee787")
REFUSED = QColor("#e5484d")
CUT_LINE = QColor("#ff6b6b")
STATUS_ERROR = "#ff8a80"

GRID_SIZE = 20

#: Category -> (title bar colour, glyph). Unknown categories get a stable colour from their name.
CATEGORIES: dict[str, tuple[str, str]] = {
    "Values": ("#4b5563", "#"),
    "Frames": ("#7b3fa0", "▦"),
    "Image": ("#1f6f9f", "◩"),
    "Images": ("#1f6f9f", "◩"),
    "Video": ("#8e3b46", "▶"),
    "Motion": ("#3f7f4f", "↝"),
    "Features": ("#a35b2a", "◈"),
    "Models": ("#a35b2a", "◈"),
    "Learned": ("#a35b2a", "◈"),  # the built-in learned nodes (ResNet features, LSTM motion)
    "Audio": ("#9c3f6e", "♪"),
    "Text": ("#5f6b7a", "¶"),
    "Files": ("#6b6b2a", "▤"),  # glyphs the common fonts have (DejaVu lacks 🗀)
    "Output": ("#8e3b46", "⇥"),
    "Evaluation": ("#2f6f6f", "≈"),  # metric nodes: scores of a video
    "Subgraph": ("#35507a", "❐"),  # groups and the interface nodes inside them
    "Subgraphs": ("#35507a", "❐"),  # reusable subgraph files in the palette
    "Test": ("#505a66", "⚙"),
    "Other": ("#505a66", "•"),
}


def category_color(category: str) -> QColor:
    """The title-bar colour of a category (stable for categories the theme does not know)."""
    known = CATEGORIES.get(category) or CATEGORIES.get(category.split("/")[0])
    if known:
        return QColor(known[0])
    digest = hashlib.sha1(category.encode()).digest()
    return QColor.fromHsv(digest[0] * 360 // 256, 120, 140)


def category_glyph(category: str) -> str:
    known = CATEGORIES.get(category) or CATEGORIES.get(category.split("/")[0])
    return known[1] if known else "•"


def port_color(registry: object, type_name: str | None) -> QColor:
    """The colour the core assigns to a port type (grey for unknown types)."""
    ports = getattr(registry, "ports", None)
    port_type = ports.get(type_name) if ports is not None and type_name else None
    return QColor(port_type.color if port_type else "#9e9e9e")


STYLE_SHEET = """
QMainWindow, QDialog, QDockWidget, QWidget { background: #24272c; color: #e3e5e8; }
QDockWidget::title { background: #2d3137; padding: 4px 8px; font-weight: 600; }
QMenuBar, QMenu, QToolBar, QStatusBar { background: #2a2d33; color: #e3e5e8; }
QMenu::item:selected, QMenuBar::item:selected { background: #3d5a80; }
QToolBar { border: none; spacing: 4px; }
QToolButton { padding: 3px 8px; border-radius: 3px; }
QToolButton:hover { background: #3a3f46; }
QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox, QTreeWidget, QListWidget,
QTableWidget, QTextBrowser {
    background: #1b1d21; color: #e3e5e8; border: 1px solid #3a3f46; border-radius: 3px;
    selection-background-color: #3d5a80; padding: 2px;
}
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus { border-color: #5b8bd0; }
QPushButton { background: #343941; border: 1px solid #454b54; border-radius: 3px; padding: 3px 10px; }
QPushButton:hover { background: #3d434c; }
QHeaderView::section { background: #2d3137; color: #c8ccd1; border: none; padding: 3px; }
QLabel[role="error"] { color: #ff8a80; }
QLabel[role="hint"] { color: #9aa0a6; }
QLabel[role="title"] { font-size: 13pt; font-weight: 600; }
QCheckBox::indicator { width: 13px; height: 13px; border: 1px solid #6a717b; border-radius: 3px;
    background: #1b1d21; }
QCheckBox::indicator:checked { background: #4a86e8; border-color: #4a86e8; }
QToolTip { background: #111315; color: #e3e5e8; border: 1px solid #3a3f46; }
"""


def apply_theme(app: QApplication) -> None:
    """Dark palette plus style sheet; Fusion keeps the look the same on every platform.

    Applied once per application: re-applying a style sheet re-polishes every widget alive.
    """
    if app.property("kinograph_theme"):
        return
    app.setProperty("kinograph_theme", True)
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#24272c"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#e3e5e8"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#1b1d21"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#24272c"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e3e5e8"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#343941"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#e3e5e8"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#3d5a80"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#111315"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#e3e5e8"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
