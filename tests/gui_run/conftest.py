"""Fixtures for the run tests: an editor window with the run features attached (offscreen Qt)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kinograph.core.registry import Registry

sys.path.insert(0, str(Path(__file__).parent))  # run_helpers
# Warming torch & co. in the background would only slow these short-lived windows down.
os.environ.setdefault("KINOGRAPH_GUI_WARMUP", "0")


@pytest.fixture
def run_window(qtbot, registry: Registry):
    """A shown editor window with Run, badges, viewer, log and autosave; prompts answer "discard"."""
    from kinograph.gui.app import application
    from kinograph.gui.main_window import MainWindow
    from kinograph.gui.run import attach_run_features

    application()
    win = MainWindow(registry)
    attach_run_features(win)
    win.ask_unsaved = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.run_features.close()
    win.stack.setClean()
