"""Autosave and crash recovery: unsaved work survives a crash or a killed process.

Every ``autosave_seconds`` (30 by default; the ``autosave_seconds`` key of
``<settings>/editor.json``, or ``KINOGRAPH_AUTOSAVE_SECONDS``; 0 turns it off) a window with
unsaved changes writes its graph to ``<settings>/recovery/<pid>-<n>.json``. A clean close
removes the file. On the next start, a recovery file whose process is gone is offered back in
a bar above the canvas: Restore puts the graph in the window (unsaved, with its original path),
Discard deletes it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QToolBar

from kinograph.host import Graph, atomic_write_text, settings_dir

if TYPE_CHECKING:
    from kinograph.gui.main_window import MainWindow

ENV_SECONDS = "KINOGRAPH_AUTOSAVE_SECONDS"
DEFAULT_SECONDS = 30.0
RECOVERY_FORMAT = "kinograph.recovery"
_numbers = itertools.count(1)


def recovery_dir() -> Path:
    """Where recovery files live: ``<settings>/recovery`` (under ``KINOGRAPH_HOME`` when set)."""
    return settings_dir() / "recovery"


def autosave_seconds() -> float:
    """The autosave interval: ``KINOGRAPH_AUTOSAVE_SECONDS``, else the setting, else 30 s."""
    text = os.environ.get(ENV_SECONDS)
    if text:
        try:
            return max(0.0, float(text))
        except ValueError:
            pass
    try:
        settings = json.loads((settings_dir() / "editor.json").read_text(encoding="utf-8"))
        return max(0.0, float(settings["autosave_seconds"]))
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_SECONDS


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs now (a recovery file of a live editor is not offered)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Recovery:
    """A recovery file: the graph text, the file it was opened from, and when it was saved."""

    file: Path
    graph_text: str
    graph_path: str | None
    base_dir: str | None
    saved_at: float
    pid: int

    def describe(self) -> str:
        name = Path(self.graph_path).name if self.graph_path else "an untitled graph"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        return f"Unsaved changes to {name} from an editor that did not close cleanly (saved {when})."

    def graph(self, registry: Any) -> Graph:
        base = Path(self.base_dir) if self.base_dir else None
        return Graph.from_json(self.graph_text, registry, base, source=str(self.file))

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.file.unlink()


def read_recovery(file: Path) -> Recovery | None:
    """A recovery file's content, or None when it is not one (or is unreadable)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("format") != RECOVERY_FORMAT:
            return None
        return Recovery(file, json.dumps(data["graph"]), data.get("path"), data.get("base_dir"),
                        float(data.get("saved_at", 0.0)), int(data.get("pid", 0)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def crashed_recoveries() -> list[Recovery]:
    """Recovery files left by editors that are gone (crashed or killed), newest first."""
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    found = []
    for file in folder.glob("*.json"):
        recovery = read_recovery(file)
        if recovery is not None and not process_alive(recovery.pid):
            found.append(recovery)
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosaver(QObject):
    """Writes the window's graph to its recovery file on a timer, while it has unsaved changes."""

    def __init__(self, window: MainWindow, seconds: float | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.file = recovery_dir() / f"{os.getpid()}-{next(_numbers)}.json"
        self.seconds = autosave_seconds() if seconds is None else seconds
        self.saves = 0
        self._changed = False
        self._unsubscribe = window.graph.subscribe(self._graph_changed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save_now)
        if self.seconds > 0:
            self.timer.start(max(50, round(self.seconds * 1000)))

    def _graph_changed(self, _change: Any) -> None:
        self._changed = True

    def save_now(self) -> bool:
        """Write the recovery file if there is unsaved work; remove it when there is none."""
        window = self.window
        try:
            clean = window.stack.isClean()
        except RuntimeError:  # the window is being destroyed
            return False
        if clean:
            self.remove()
            self._changed = False
            return False
        if not self._changed and self.file.exists():
            return False
        graph = window.graph
        record = {
            "format": RECOVERY_FORMAT,
            "version": 1,
            "pid": os.getpid(),
            "saved_at": time.time(),
            "path": str(window.path) if window.path else None,
            "base_dir": str(graph.base_dir) if graph.base_dir else None,
            "graph": json.loads(graph.to_json()),
        }
        try:
            atomic_write_text(self.file, json.dumps(record, indent=1))
        except OSError as exc:
            window.show_status(f"Autosave failed: {exc}")
            return False
        self._changed = False
        self.saves += 1
        return True

    def remove(self) -> None:
        """Delete the recovery file (clean close, or the work was saved)."""
        with contextlib.suppress(FileNotFoundError):
            self.file.unlink()

    def stop(self, remove: bool = True) -> None:
        """Stop saving; remove the recovery file unless told to keep it."""
        self.timer.stop()
        self._unsubscribe()
        if remove:
            self.remove()


class RecoveryBar(QToolBar):
    """A bar above the canvas offering unsaved work back: Restore or Discard."""

    def __init__(self, window: MainWindow, recovery: Recovery) -> None:
        super().__init__("Recovery", window)
        self.setObjectName("recovery_bar")
        self.window = window
        self.recovery = recovery
        self.setMovable(False)
        self.setStyleSheet("QToolBar { background: #3b3220; border: none; padding: 4px; }")
        label = QLabel("  ⚠  " + recovery.describe() + "  ", self)
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(label)
        self.restore_button = QPushButton("Restore", self)
        self.restore_button.clicked.connect(self.restore)
        self.discard_button = QPushButton("Discard", self)
        self.discard_button.clicked.connect(self.discard)
        self.addWidget(self.restore_button)
        self.addWidget(self.discard_button)

    def restore(self) -> bool:
        """Put the recovered graph in the window (as unsaved changes); False when it cannot load."""
        window = self.window
        try:
            graph = self.recovery.graph(window.registry)
        except Exception as exc:  # a damaged file: say so, keep it for the user
            window.show_status(f"Cannot restore {self.recovery.file}: {exc}")
            return False
        path = Path(self.recovery.graph_path) if self.recovery.graph_path else None
        # Restored work is not saved anywhere yet: the window shows it as modified.
        window.take_graph(graph, path, modified=True)
        self.recovery.discard()
        window.show_status("Restored the unsaved graph; save it to keep it.")
        self._close()
        return True

    def discard(self) -> None:
        self.recovery.discard()
        self.window.show_status("Discarded the recovered graph.")
        self._close()

    def _close(self) -> None:
        self.window.removeToolBar(self)
        self.deleteLater()


def offer_recovery(window: MainWindow) -> RecoveryBar | None:
    """After a crash: show a bar offering the newest recovery file back (None when there is none)."""
    found = crashed_recoveries()
    if not found:
        return None
    bar = RecoveryBar(window, found[0])
    window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    window.show_status(bar.recovery.describe())
    return bar
