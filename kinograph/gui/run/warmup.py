"""Import the libraries a run needs (torch, OpenCV, PyAV, ...) while the editor is idle.

Without this, the first run in a fresh editor imports them on its worker thread. That is worse
than slow: loading OpenCV on another thread while Qt paints on the GUI thread crashed the
process now and then (a segfault in the GUI thread while ``cv2``'s bootstrap ran on the
worker; seen about one run in three in the editor tests). So native libraries are imported on the
GUI thread only: here, one library per idle moment a little after the window is up, and in
:func:`load_native_libraries`, which the run controller calls before it starts a worker.
Importing holds Python's lock either way (torch for ~0.2 s at a stretch), so doing it on the GUI
thread costs the window nothing more than the background thread did.

``KINOGRAPH_GUI_WARMUP=0`` turns the idle warm-up off (the editor tests do, to stay fast).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

ENV_WARMUP = "KINOGRAPH_GUI_WARMUP"
#: Libraries a run imports, lightest first (a user active meanwhile waits less for each step).
WARM_MODULES: tuple[str, ...] = ("numpy", "PIL.Image", "cv2", "av", "networkx", "torch")
#: How long after the window opens warm-up begins: the first paint and file open come first.
START_DELAY_MS = 300
#: The user counts as idle after this long without input.
IDLE_SECONDS = 0.5
#: Warm-up stops waiting for idleness after this long (a run would import them anyway).
MAX_WAIT_SECONDS = 20.0

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
})


def warmup_enabled() -> bool:
    """False when ``KINOGRAPH_GUI_WARMUP`` is 0/false/no/off."""
    return os.environ.get(ENV_WARMUP, "1").strip().lower() not in ("0", "false", "no", "off")


#: Native libraries the built-in nodes load: imported on the GUI thread before any run starts.
NATIVE_MODULES: tuple[str, ...] = ("numpy", "PIL.Image", "cv2", "av")


def import_quietly(name: str) -> bool:
    """Import ``name`` if it is installed; False when it is missing or broken (a node reports that)."""
    if name in sys.modules:
        return True
    try:
        if importlib.util.find_spec(name.partition(".")[0]) is None:
            return False
        importlib.import_module(name)
    except Exception:
        return False
    return True


def load_native_libraries() -> None:
    """Import :data:`NATIVE_MODULES` now, on the calling (GUI) thread; quick once loaded."""
    for name in NATIVE_MODULES:
        import_quietly(name)


class LibraryWarmup(QObject):
    """Imports :data:`WARM_MODULES` on the GUI thread, one per idle moment, once the window is up."""

    def __init__(self, parent: QObject, modules: tuple[str, ...] = WARM_MODULES,
                 delay_ms: int | None = None) -> None:
        super().__init__(parent)
        self.modules = list(modules)
        #: Modules imported by warm-up (not those that were loaded already), in order.
        self.imported: list[str] = []
        self.finished = threading.Event()
        self._began = time.monotonic()
        self._last_input = time.monotonic()
        self._filtering = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._step)
        if warmup_enabled():
            self._watch_input(True)
            self._timer.start(START_DELAY_MS if delay_ms is None else delay_ms)
        else:
            self.finished.set()

    def start(self) -> None:
        """Begin now (normally the timer calls this once the window has been up a moment)."""
        if not self.finished.is_set():
            self._timer.start(0)

    def stop(self, timeout: float = 3.0) -> None:
        """Stop (the window is closing); nothing is half-imported, since imports run on this thread."""
        self._timer.stop()
        self._watch_input(False)
        self.modules.clear()
        self.finished.set()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self._last_input = time.monotonic()
        return False

    def _watch_input(self, on: bool) -> None:
        app = QApplication.instance()
        if app is None or on == self._filtering:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._filtering = on

    def _step(self) -> None:
        """Import the next library if the user is idle (or has been busy for too long), then re-arm."""
        while self.modules and self.modules[0] in sys.modules:
            self.modules.pop(0)
        if not self.modules:
            self.stop()
            return
        idle = time.monotonic() - self._last_input >= IDLE_SECONDS
        if idle or time.monotonic() - self._began >= MAX_WAIT_SECONDS:
            name = self.modules.pop(0)
            if import_quietly(name):
                self.imported.append(name)
        self._timer.start(100)
