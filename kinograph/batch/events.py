"""Batch events: what the coordinator tells progress bars, NDJSON readers and Python callers.

Kinds: ``batch_started`` (jobs, to_run, skipped, engine, workers, manifest), ``job_skipped``,
``worker_started`` (worker, pid, host), ``worker_lost`` (worker, pid, reason, job),
``job_started`` (job, worker, pid, attempt), ``job_retry`` (job, attempt, error),
``job_finished`` (job, seconds, outputs), ``job_failed`` (job, error, attempts),
``batch_warning`` (message), ``batch_cancelled``, ``batch_finished`` (done, failed, skipped, cancelled,
seconds, jobs_per_minute).
Every job event carries ``job`` (its index) and ``label`` (its first input's file name).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("kinograph.batch")


@dataclass
class BatchEvent:
    """One thing that happened in a batch; ``data`` holds the kind's fields."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **self.data}


BatchSubscriber = Callable[[BatchEvent], None]


def deliver(subscribers: list[BatchSubscriber], kind: str, **data: Any) -> BatchEvent:
    """Send an event to every subscriber; one that raises is logged and never stops the batch."""
    event = BatchEvent(kind, data)
    for subscriber in subscribers:
        try:
            subscriber(event)
        except Exception:
            log.exception("batch event subscriber %r failed on %s; the batch goes on", subscriber, kind)
    return event
