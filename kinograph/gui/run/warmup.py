"""Import the libraries a run needs (torch, OpenCV, PyAV, ...) in the background while the editor is idle.

Without this, the first run in a fresh editor imports them on its worker thread. Loading torch's
shared libraries holds Python's lock for ~200 ms at a stretch, so the canvas froze just when the
user pressed Run. Here the imports happen a moment after the window is up, one library at a time
and only while the user is not typing, clicking or scrolling, so the pause falls where nobody
feels it, and the first run starts with everything loaded. A run that starts before warm-up ends
simply shares the imports (Python imports each module once).

``KINOGRAPH_GUI_WARMUP=0`` turns it off (the editor tests do, to stay fast).
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


class LibraryWarmup(QObject):
    """Imports :data:`WARM_MODULES` on a background thread once the user is idle."""

    def __init__(self, parent: QObject, modules: tuple[str, ...] = WARM_MODULES,
                 delay_ms: int | None = None) -> None:
        super().__init__(parent)
        self.modules = modules
        #: Modules imported by warm-up (not those that were loaded already), in order.
        self.imported: list[str] = []
        self.finished = threading.Event()
        self._last_input = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._filtering = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.start)
        if warmup_enabled():
            self._watch_input(True)
            self._timer.start(START_DELAY_MS if delay_ms is None else delay_ms)
        else:
            self.finished.set()

    def start(self) -> None:
        """Begin now (normally the timer calls this once the window has been up a moment)."""
        if self._thread is not None or self._stop.is_set():
            return
        self._thread = threading.Thread(target=self._work, name="kinograph-warmup", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop after the library being imported (the window is closing); wait for it briefly."""
        self._stop.set()
        self._timer.stop()
        self._watch_input(False)
        if self._thread is not None:
            # A library half-imported while the interpreter shuts down can crash it on exit.
            self._thread.join(timeout)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self._last_input = time.monotonic()
            if self.finished.is_set():  # nothing left to wait for: stop looking at every event
                self._watch_input(False)
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

    def _wait_for_idle(self, since: float) -> None:
        while not self._stop.is_set() and time.monotonic() - since < MAX_WAIT_SECONDS:
            if time.monotonic() - self._last_input >= IDLE_SECONDS:
                return
            self._stop.wait(0.1)

    def _work(self) -> None:
        began = time.monotonic()
        try:
            for name in self.modules:
                if self._stop.is_set():
                    return
                if name in sys.modules:
                    continue
                self._wait_for_idle(began)
                try:
                    if importlib.util.find_spec(name.partition(".")[0]) is None:
                        continue
                    importlib.import_module(name)
                except Exception:  # a broken library is reported when a node uses it
                    continue
                self.imported.append(name)
        finally:
            self.finished.set()
