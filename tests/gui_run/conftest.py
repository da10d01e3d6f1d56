"""Fixtures for the run tests: an editor window with the run features attached (offscreen Qt).

Runs happen in a run process; every test must leave none behind (checked after each test).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
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


@pytest.fixture(autouse=True)
def no_run_process_left_behind():
    """Fail a test that leaves a run process (or any multiprocessing child) alive."""
    yield
    deadline = time.monotonic() + 5.0
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = multiprocessing.active_children()
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def crash_pack(registry: Registry) -> Registry:
    """The test registry plus nodes that segfault, exit or hang (see crash_nodes.py)."""
    import crash_nodes

    info = registry.register_plugin(crash_nodes.CrashPack(), "crashtest")
    assert not info.errors, info.errors
    return registry
