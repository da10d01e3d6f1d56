"""The recorder of a run: node states, failures, warnings and timings, and the events that
announce them, kept together so the result and the events always agree."""

from __future__ import annotations

import threading
import traceback
from typing import Any

from kinograph.core.errors import MESSAGE_LIMIT, KinographError, shown
from kinograph.core.events import EventBus
from kinograph.core.graph import GraphSnapshot
from kinograph.core.results import Failure, NodeState, RunResult


class Recorder:
    """Writes one run's :class:`RunResult` and emits the matching events (thread-safe)."""

    def __init__(self, bus: EventBus, snapshot: GraphSnapshot, result: RunResult) -> None:
        self.bus = bus
        self.snapshot = snapshot
        self.result = result
        self._last_progress: dict[str, tuple[int, int | None]] = {}
        self._held: list[tuple[str, str]] | None = []  # warnings met while planning
        self._lock = threading.Lock()
        #: nodes that failed or were skipped (what depends on them cannot run)
        self.down = {n for n, s in result.states.items() if s in (NodeState.FAILED, NodeState.SKIPPED)}

    def state(self, node_id: str) -> NodeState | None:
        return self.result.states.get(node_id)

    def run_started(self, **data: Any) -> None:
        """Announce the run; warnings met while planning it (e.g. a damaged cache entry) follow."""
        self.bus.emit("run_started", **data)
        held, self._held = self._held or [], None
        for node_id, message in held:
            self.bus.emit("node_warning", node_id, message=message)

    def started(self, node_id: str) -> None:
        self.result.states[node_id] = NodeState.RUNNING
        if self.bus.listened:
            self.bus.emit("node_started", node_id, type=self._type(node_id))

    def cached(self, node_id: str) -> None:
        self.result.states[node_id] = NodeState.CACHED
        self.bus.emit("node_cached", node_id, type=self._type(node_id))

    def bypassed(self, node_id: str) -> None:
        self.result.states[node_id] = NodeState.BYPASSED
        self.bus.emit("node_skipped", node_id, because="bypassed")

    def finished(self, node_id: str, seconds: float, *, partial: bool = False) -> None:
        self.result.seconds[node_id] = seconds  # before the state: a node seen done has its time
        self.result.states[node_id] = NodeState.DONE
        if not self.bus.listened:
            return
        data: dict[str, Any] = {"seconds": round(seconds, 6)}
        if partial:  # a stream its readers stopped reading before its end
            data["partial"] = True
        self.bus.emit("node_finished", node_id, **data)

    def failed(self, node_id: str, exc: BaseException) -> None:
        if isinstance(exc, KinographError):
            message = str(exc)  # escaped and clipped already
        elif isinstance(exc, OSError) and exc.filename:
            # Files are the user's business: say which one, not which errno.
            message = shown(f"cannot access {exc.filename}: {exc.strerror or exc}", MESSAGE_LIMIT)
        else:
            message = shown(f"{type(exc).__name__}: {exc}", MESSAGE_LIMIT)
        detail = "".join(traceback.format_exception(exc))
        with self._lock:
            self.down.add(node_id)
            self.result.states[node_id] = NodeState.FAILED
            self.result.failures.append(Failure(node_id, self._type(node_id), message, detail))
        self.bus.emit("node_failed", node_id, message=message, traceback=detail)

    def skipped(self, node_id: str, because: str) -> None:
        with self._lock:
            self.down.add(node_id)
            self.result.states[node_id] = NodeState.SKIPPED
        self.bus.emit("node_skipped", node_id, because=because)

    def cancelled(self, node_id: str) -> None:
        self.result.states[node_id] = NodeState.CANCELLED

    def progress(self, node_id: str, done: int, total: int | None) -> None:
        # A stream node may report what its traced stream reports too: say it once.
        with self._lock:
            if self._last_progress.get(node_id) == (done, total):
                return
            self._last_progress[node_id] = (done, total)
        self.bus.emit("node_progress", node_id, done=done, total=total)

    def warn(self, node_id: str, message: str) -> None:
        message = shown(message, MESSAGE_LIMIT)  # a node may echo what a graph holds
        with self._lock:
            self.result.warnings.append((node_id, message))
            if self._held is not None:
                self._held.append((node_id, message))
                return
        self.bus.emit("node_warning", node_id, message=message)

    def add_seconds(self, node_id: str, seconds: float) -> float:
        with self._lock:
            total = self.result.seconds[node_id] = self.result.seconds.get(node_id, 0.0) + seconds
        return total

    def _type(self, node_id: str) -> str:
        return self.snapshot.nodes[node_id].type
