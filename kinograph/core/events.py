"""Run events, delivered in order to every subscriber; a subscriber that raises never fails a run.

Kinds: run_started (plan), node_started, node_progress (done, total), node_warning (message),
node_cached, node_finished (seconds), node_failed (message), node_skipped (because),
run_cancelled, run_finished (summary).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("kinograph.events")

EVENT_KINDS = (
    "run_started",
    "node_started",
    "node_progress",
    "node_warning",
    "node_cached",
    "node_finished",
    "node_failed",
    "node_skipped",
    "run_cancelled",
    "run_finished",
)


@dataclass(slots=True)
class Event:
    """One thing that happened in a run. ``data`` holds the kind's fields (seconds, message...).

    Treat it as read-only: every subscriber receives the same object. (Not ``frozen``: a frozen
    dataclass costs a microsecond per event, which shows on graphs of thousands of nodes.)
    """

    kind: str
    node_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"event": self.kind}
        if self.node_id is not None:
            record["node"] = self.node_id
        record.update(self.data)
        return record


Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers events to subscribers in order, from any thread, one event at a time."""

    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self._subscribers = list(subscribers or [])
        self._lock = threading.RLock()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    @property
    def listened(self) -> bool:
        """Whether anyone subscribed (a silent run need not build its events at all)."""
        return bool(self._subscribers)

    def emit(self, kind: str, node_id: str | None = None, **data: Any) -> Event | None:
        if not self._subscribers:
            return None
        event = Event(kind, node_id, data)
        with self._lock:
            for subscriber in self._subscribers:
                try:
                    subscriber(event)
                except Exception:
                    log.exception("event subscriber %r failed on %s; the run goes on", subscriber, kind)
        return event
