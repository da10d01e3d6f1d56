"""Start the run process a moment after the window opens, and let it import what runs need.

Runs happen in a separate process (see :mod:`kinograph.gui.run.worker_main`), so the editor
itself never imports torch, OpenCV or PyAV to run a graph (the viewer imports PyAV only to play a
video file, numpy only to read frames from the stream cache). What is left to warm is the run
process: starting it (spawning Python and loading the plugins) and importing numpy, Pillow,
OpenCV, PyAV, networkx and torch there, so the first F5 does not wait for them. That work happens
in the other process, on another core; the window only pays for starting it (a few ms).

``KINOGRAPH_GUI_WARMUP=0`` turns this off (the editor tests do, to stay fast): the run process
then starts with the first run.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from kinograph.gui.run.controller import RunController

ENV_WARMUP = "KINOGRAPH_GUI_WARMUP"
#: Libraries a run imports, lightest first (a run that starts meanwhile stops the warm-up).
WARM_MODULES: tuple[str, ...] = ("numpy", "PIL.Image", "cv2", "av", "networkx", "torch")
#: How long after the window opens the run process starts: the first paint and file open come first.
START_DELAY_MS = 300


def warmup_enabled() -> bool:
    """False when ``KINOGRAPH_GUI_WARMUP`` is 0/false/no/off."""
    return os.environ.get(ENV_WARMUP, "1").strip().lower() not in ("0", "false", "no", "off")


class LibraryWarmup(QObject):
    """Starts the run process once the window is up and has it import :data:`WARM_MODULES`."""

    def __init__(self, parent: QObject, controller: RunController, modules: tuple[str, ...] = WARM_MODULES,
                 delay_ms: int | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.modules = list(modules)
        #: Modules the run process imported for the warm-up (not those it had already), in order.
        self.imported: list[str] = []
        #: Which heavy libraries the run process has loaded, as it last said.
        self.process_modules: dict[str, bool] = {}
        self.finished = threading.Event()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.start)
        controller.process_stats.connect(self._on_stats)
        if warmup_enabled():
            self._timer.start(START_DELAY_MS if delay_ms is None else delay_ms)
        else:
            self.finished.set()

    def start(self) -> None:
        """Start the run process and the imports now (normally a timer calls this)."""
        if not self.finished.is_set() and self.modules:
            self.controller.warm_up(self.modules)
            self.modules = []

    def stop(self) -> None:
        """Stop (the window is closing)."""
        self._timer.stop()
        self.modules.clear()
        self.finished.set()

    def _on_stats(self, stats: dict[str, Any]) -> None:
        self.process_modules = dict(stats.get("modules", {}))
        if "imported" in stats and not self.finished.is_set():
            self.imported = list(stats["imported"])
            self.finished.set()
