"""Fan-out of streams: several readers of one stream pull it in step through a bounded Tee.

The run plan says which sinks share a stream (:attr:`RunPlan.sink_groups`); the executor starts
them together on their own threads. This object owns the Tees between them: it hands each
reader its branch, closes the branch of a reader whose sinks have all stopped (so a sink that
finished early, failed, or read only part never holds the others back), and lets buffers grow
when sinks of one stream cannot all start together (one needs another's result).
"""

from __future__ import annotations

import threading

from kinograph.core.frames import FrameStream
from kinograph.core.run_plan import PortRef, RunPlan
from kinograph.core.streams import Tee

UNBOUNDED = 1 << 30


class FanOut:
    """The Tees of one run, one per stream that several running nodes read."""

    def __init__(self, plan: RunPlan, buffer_chunks: int) -> None:
        self.plan = plan
        self.buffer_chunks = buffer_chunks
        self.unbounded = False
        self.tees: dict[PortRef, Tee] = {}
        self._index: dict[tuple[PortRef, str], int] = {}
        self._finished_sinks: set[str] = set()
        self._lock = threading.Lock()

    def branch(self, output: PortRef, stream: FrameStream, readers: list[str], reader: str) -> FrameStream:
        """``reader``'s branch of ``stream``, read by all of ``readers`` (the Tee is made on first use)."""
        with self._lock:
            tee = self.tees.get(output)
            if tee is None:
                tee = self.tees[output] = Tee(stream, len(readers), UNBOUNDED if self.unbounded else self.buffer_chunks)
                # Every reader gets its branch now, so one that never reads can be closed.
                for index, other in enumerate(readers):
                    self._index[(output, other)] = index
                for other in readers:
                    if self._sinks(output, other) <= self._finished_sinks:
                        tee.close(self._index[(output, other)])
            index = self._index[(output, reader)]
        return tee.branch(index)

    def sink_done(self, node_id: str) -> None:
        """A sink stopped (done, failed, or read only part): close the branches only it was reading."""
        if not self.plan.branch_sinks:  # no stream is shared in this run
            return
        with self._lock:
            self._finished_sinks.add(node_id)
            for (output, reader), sinks in self.plan.branch_sinks.items():
                if node_id in sinks and sinks <= self._finished_sinks and (output, reader) in self._index:
                    self.tees[output].close(self._index[(output, reader)])

    def unbind(self) -> None:
        """Sinks of one stream cannot start together: let buffers grow rather than deadlock."""
        with self._lock:
            self.unbounded = True
            for tee in self.tees.values():
                tee.limit = UNBOUNDED

    def peaks(self) -> dict[str, int]:
        """The most chunks any shared stream held for a slower reader, by ``node.port``."""
        return {f"{node}.{port}": tee.peak for (node, port), tee in self.tees.items()}

    def _sinks(self, output: PortRef, reader: str) -> frozenset[str]:
        return self.plan.branch_sinks.get((output, reader), frozenset({reader}))
