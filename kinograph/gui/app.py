"""Start the desktop editor: ``kinograph gui [GRAPH or OUTPUT FILE]``."""

from __future__ import annotations

import importlib
import sys
import traceback

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from kinograph.gui.main_window import MainWindow
from kinograph.gui.theme import apply_theme

#: "module:function" entries called with each new editor window, in order (run features,
#: recovery, ...). They are imported lazily; one that fails is reported, never fatal.
EDITOR_EXTENSIONS: list[str] = [
    "kinograph.gui.run:attach_run_features",
    "kinograph.gui.autosave:offer_recovery",
    "kinograph.gui.startup_hook:run_startup_hook",  # developer-only: KINOGRAPH_GUI_STARTUP
]


#: Said when Qt's xcb plugin (X11 on Linux) does not load: Qt alone only says it "could not
#: load the Qt platform plugin xcb", not that a few system libraries are missing.
XCB_HINT = (
    "kinograph: the editor could not open a window because Qt's xcb platform plugin (X11) did not load.\n"
    "It needs a few system libraries a desktop usually has but a minimal system may not:\n"
    "  Debian/Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0\n"
    "  Fedora: sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image "
    "xcb-util-renderutil libxkbcommon-x11\n"
    "On Wayland, QT_QPA_PLATFORM=wayland may work instead. Graphs run without a window: kinograph run GRAPH"
)


def _startup_messages(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages while the application starts: passed on, plus what to do when xcb fails."""
    print(message, file=sys.stderr, flush=True)
    if "platform plugin" in message and "xcb" in message and not _hinted:
        _hinted.append(True)
        print(XCB_HINT, file=sys.stderr, flush=True)


_hinted: list[bool] = []


def application() -> QApplication:
    """The QApplication of this process (made once, with the dark theme)."""
    app = QApplication.instance()
    if app is None:
        # Qt ends the process when no platform plugin loads: say why first (see XCB_HINT).
        qInstallMessageHandler(_startup_messages)
        try:
            app = QApplication(sys.argv[:1])
        finally:
            qInstallMessageHandler(None)
        app.setApplicationName("kinograph")
        app.setOrganizationName("kinograph")
    apply_theme(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def extend(window: MainWindow, extensions: list[str] | None = None) -> list[str]:
    """Attach the editor extensions to a window; returns the problems met (empty when none)."""
    problems = []
    for entry in EDITOR_EXTENSIONS if extensions is None else extensions:
        module_name, _, function_name = entry.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError):
            continue  # not installed in this build: the editor works without it
        try:
            function(window)
        except Exception as exc:  # an extension's bug must not keep the editor from opening
            problems.append(f"{entry}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
    if problems:
        window.show_status("Some editor features failed to start: " + "; ".join(problems))
    return problems


def open_editor(path: str | None = None) -> MainWindow:
    """Make and show an editor window with its extensions, opening ``path`` when given."""
    application()
    window = MainWindow()
    extend(window)
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
