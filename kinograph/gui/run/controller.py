"""Runs the editor's graph on a worker thread and hands the core's events to the Qt thread.

A run works on :meth:`Graph.snapshot`, so the graph stays editable while it runs (edits apply to
the next run). One :class:`Session` lives as long as the window, so a re-run after an edit only
re-executes what changed. Events cross threads through queued signals: slots connected to this
object always run on the GUI thread.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kinograph.api import CancelToken, GraphError, KinographError
from kinograph.gui.run.warmup import load_native_libraries
from kinograph.host import Event, Graph, RunOptions, RunResult, Session


@dataclass
class RunRecord:
    """What the editor knows from its runs: the last result, plus each node's latest outputs.

    Outputs and content keys are merged across runs, so running only the selected nodes keeps
    the other nodes' previews, and a failing node never drops what other nodes produced.
    """

    last: RunResult | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)

    def take(self, result: RunResult) -> None:
        self.last = result
        for node_id in result.plan:
            state = result.states.get(node_id)
            if state in ("done", "cached") and node_id in result.keys:
                self.keys[node_id] = result.keys[node_id]
                self.outputs[node_id] = dict(result.outputs.get(node_id, {}))
                self.failures.pop(node_id, None)
        for failure in result.failures:
            self.failures[failure.node_id] = (failure.message, failure.traceback)
            self.outputs.pop(failure.node_id, None)
            self.keys.pop(failure.node_id, None)

    def forget(self, node_id: str | None = None) -> None:
        """Drop one node's results (it was deleted), or everything (another graph was opened)."""
        if node_id is None:
            self.outputs.clear()
            self.keys.clear()
            self.failures.clear()
            self.last = None
        else:
            self.outputs.pop(node_id, None)
            self.keys.pop(node_id, None)
            self.failures.pop(node_id, None)


class RunController(QObject):
    """Starts and cancels runs of one window's graph; re-emits core events on the GUI thread."""

    #: A core :class:`Event` (run_started, node_progress, node_failed, ...), on the GUI thread.
    event = Signal(object)
    #: The run began: the :class:`RunOptions` it uses.
    run_started = Signal(object)
    #: The run ended (finished, failed or cancelled): its :class:`RunResult`.
    run_finished = Signal(object)
    #: The run could not start (invalid graph, unknown device): a message for the user, details.
    run_refused = Signal(str, str)
    #: True while a run is in progress.
    busy_changed = Signal(bool)

    # Emitted from the worker thread; queued to the GUI thread.
    _worker_event = Signal(object)
    _worker_done = Signal(object, str, str)

    def __init__(self, graph: Graph, session: Session | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.session = session or Session(graph.registry)
        self.record = RunRecord()
        self.device = "auto"
        #: Bumped when the window takes another graph: results of a run started before belong
        #: to the old graph and are dropped.
        self.generation = 0
        self._run_generation = 0
        self._thread: threading.Thread | None = None
        self._cancel: CancelToken | None = None
        self._worker_event.connect(self._on_worker_event, Qt.ConnectionType.QueuedConnection)
        self._worker_done.connect(self._on_worker_done, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, targets: list[str] | None = None) -> bool:
        """Run a snapshot of the graph (only what ``targets`` need, when given); False if busy."""
        if self.busy:
            return False
        # OpenCV & co. must be loaded on the GUI thread, never first on the worker (see warmup).
        load_native_libraries()
        snapshot = self.graph.snapshot()
        options = RunOptions(device=self.device, targets=list(targets) if targets else None,
                             stream_cache="outputs")
        cancel = CancelToken()
        self._cancel = cancel
        self._run_generation = self.generation
        self._thread = threading.Thread(
            target=self._work, args=(snapshot, options, cancel), name="kinograph-editor-run", daemon=True
        )
        self.busy_changed.emit(True)
        self.run_started.emit(options)
        self._thread.start()
        return True

    @property
    def run_is_current(self) -> bool:
        """False while a run started on a graph the window no longer shows is winding down."""
        return self._run_generation == self.generation

    def forget(self) -> None:
        """The window took another graph: drop all results and cancel a run of the old one."""
        self.generation += 1
        self.record.forget()
        self.cancel()

    def cancel(self) -> None:
        """Ask the run to stop; streams stop at the next chunk, writers leave no file behind."""
        if self._cancel is not None:
            self._cancel.cancel()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the worker thread ends (window closing); True when it did."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def shutdown(self) -> None:
        """Cancel any run and wait for it (the window is closing)."""
        self.cancel()
        self.wait()

    # -- worker thread --

    def _work(self, snapshot: Any, options: RunOptions, cancel: CancelToken) -> None:
        result: RunResult | None = None
        message = details = ""
        try:
            result = self.session.run(snapshot, options, [self._worker_event.emit], cancel)
        except GraphError as exc:
            problems = exc.describe()
            message, details = "The graph cannot run: " + "; ".join(problems.splitlines()), problems
        except KinographError as exc:
            message, details = str(exc), traceback.format_exc()
        except Exception as exc:  # a bug somewhere below: report it, keep the editor alive
            message, details = f"The run stopped on an internal error: {type(exc).__name__}: {exc}", traceback.format_exc()
        try:
            self._worker_done.emit(result, message, details)
        except RuntimeError:  # the window (and this object) is gone
            pass

    # -- GUI thread --

    @Slot(object)
    def _on_worker_event(self, event: Event) -> None:
        if self.run_is_current:
            self.event.emit(event)

    @Slot(object, str, str)
    def _on_worker_done(self, result: RunResult | None, message: str, details: str) -> None:
        if self._thread is not None:
            self._thread.join(1.0)
        self._thread = None
        self._cancel = None
        current = self.run_is_current
        if result is not None and current:
            self.record.take(result)
        self.busy_changed.emit(False)
        if not current:
            return
        if result is None:
            self.run_refused.emit(message, details)
        else:
            self.run_finished.emit(result)
