"""Fixtures for the editor tests: a shown main window over the test registry (offscreen Qt)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# Warming torch & co. in the background would only slow these short-lived windows down.
os.environ.setdefault("KINOGRAPH_GUI_WARMUP", "0")

import gui_test_nodes

from kinograph.core.registry import Registry


@pytest.fixture
def gui_registry(registry: Registry) -> Registry:
    """The test registry plus nodes with every param widget kind."""
    info = registry.register_plugin(gui_test_nodes, "guitest")
    assert not info.errors, info.errors
    return registry


@pytest.fixture
def window(qtbot, gui_registry: Registry):
    """A shown editor window; unsaved-changes prompts answer "discard"."""
    from kinograph.gui.app import application
    from kinograph.gui.main_window import MainWindow

    application()
    win = MainWindow(gui_registry)
    win.ask_unsaved = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.stack.setClean()
