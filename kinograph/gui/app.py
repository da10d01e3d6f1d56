"""Start the desktop editor: ``kinograph gui [GRAPH or OUTPUT FILE]``."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from kinograph.gui.main_window import MainWindow
from kinograph.gui.theme import apply_theme


def application() -> QApplication:
    """The QApplication of this process (made once, with the dark theme)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("kinograph")
        app.setOrganizationName("kinograph")
    apply_theme(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def open_editor(path: str | None = None) -> MainWindow:
    """Make and show an editor window, opening ``path`` when given."""
    application()
    window = MainWindow()
    window.show()
    if path:
        window.open_file(path)
    return window


def run_editor(path: str | None) -> int:
    """Run the editor until its window closes; returns the exit code (0)."""
    app = application()
    window = open_editor(path)
    window.raise_()
    return int(app.exec())
