"""A developer-only hook: ``KINOGRAPH_GUI_STARTUP=script.py`` runs a Python file once the window is up.

It exists so tests can drive a real ``kinograph gui`` process that has no screen (make an edit,
click Restore, write what they see to a file). Only this environment variable triggers it:
nothing in a graph file, an output file or the settings ever runs code. The script gets
``window`` (the :class:`MainWindow`) and ``app`` (the QApplication) as globals.
"""

from __future__ import annotations

import os
import runpy
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from kinograph.gui.main_window import MainWindow

ENV_STARTUP = "KINOGRAPH_GUI_STARTUP"


def run_startup_hook(window: MainWindow) -> bool:
    """Schedule the script named by ``KINOGRAPH_GUI_STARTUP``, if any; True when there is one.

    It runs once the event loop starts, so after the file given on the command line is open.
    """
    script = os.environ.get(ENV_STARTUP)
    if not script:
        return False
    globals_ = {"window": window, "app": QApplication.instance()}
    QTimer.singleShot(0, window, lambda: runpy.run_path(script, init_globals=globals_, run_name="__kinograph_startup__"))
    return True
