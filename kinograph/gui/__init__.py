"""The PySide6 desktop editor (``kinograph gui``). The core never imports this package."""

from kinograph.gui import qt_fixes as _qt_fixes  # noqa: F401  (must run before any painting)
