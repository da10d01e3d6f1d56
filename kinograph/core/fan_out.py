"""Fan-out of streams: the sinks that read one stream run together, in step, through a Tee.

A node that returns a stream (a lazy stage) does not read its input inside ``run()``; the sinks
downstream do. So the nodes that must start together are the *sinks* that end up pulling a
shared stream, directly or through lazy stages. Mixed into the scheduler's run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from kinograph.core.frames import FrameStream
from kinograph.core.streams import Tee

if TYPE_CHECKING:
    from kinograph.core.node import Node
    from kinograph.core.results import RunOptions

UNBOUNDED = 1 << 30


class StreamFanOut:
    """Grouping of sinks and the Tees between them (state lives on the run)."""

    classes: dict[str, type[Node]]
    consumers: dict[tuple[str, str], list[str]]
    inputs: dict[str, list[Any]]
    options: RunOptions
    lock: threading.RLock
    tees: dict[tuple[str, str], Tee]
    tee_index: dict[tuple[tuple[str, str], str], int]
    branch_sinks: dict[tuple[tuple[str, str], str], set[str]]
    finished_sinks: set[str]
    unbounded_tees: bool

    def is_stream(self, node_id: str, port: str) -> bool:  # provided by the run
        raise NotImplementedError

    def produces_stream(self, node_id: str) -> bool:
        return any(self.is_stream(node_id, out.name) for out in self.classes[node_id].outputs)

    def pulls(self, node_id: str, action: dict[str, str]) -> bool:
        """A running node that reads streams inside run() (a sink); stream producers read lazily."""
        if action.get(node_id) != "run" or self.produces_stream(node_id):
            return False
        return any(self.is_stream(link.source_node, link.source_port) for link in self.inputs[node_id])

    def sinks_of(self, node_id: str, action: dict[str, str]) -> set[str]:
        """The sinks that end up pulling what ``node_id`` reads (itself, if it is one)."""
        found, stack, seen = set(), [node_id], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if self.pulls(current, action):
                found.add(current)
                continue
            for out in self.classes[current].outputs:
                if self.is_stream(current, out.name):
                    stack.extend(
                        c for c in self.consumers.get((current, out.name), []) if action.get(c) in ("run", "bypass")
                    )
        return found

    def sink_groups(self, action: dict[str, str]) -> dict[str, frozenset[str]]:
        """Sinks that share a stream (directly or through stream stages) must run together, in step."""
        parent: dict[str, str] = {}

        def find(node_id: str) -> str:
            while parent.setdefault(node_id, node_id) != node_id:
                node_id = parent[node_id]
            return node_id

        for key, consumers in self.consumers.items():
            running = [c for c in consumers if action.get(c) in ("run", "bypass")]
            if len(running) < 2 or not self.is_stream(*key):
                continue
            members = set()
            for consumer in running:
                sinks = self.sinks_of(consumer, action)
                self.branch_sinks[(key, consumer)] = sinks
                members |= sinks
            members_list = sorted(members)
            for other in members_list[1:]:
                parent[find(other)] = find(members_list[0])
        by_root: dict[str, set[str]] = {}
        for node_id in parent:
            by_root.setdefault(find(node_id), set()).add(node_id)
        return {n: frozenset(g) for g in by_root.values() if len(g) > 1 for n in g}

    def shared_branch(self, key: tuple[str, str], value: FrameStream, readers: list[str], reader: str) -> FrameStream:
        """``reader``'s branch of a stream read by several nodes (the Tee is made on first use)."""
        with self.lock:
            tee = self.tees.get(key)
            if tee is None:
                tee = self.tees[key] = Tee(value, len(readers), self.options.tee_buffer)
                if self.unbounded_tees:
                    tee.limit = UNBOUNDED
                # Every reader gets its branch now, so one that never reads can be closed.
                for index, other in enumerate(readers):
                    self.tee_index[(key, other)] = index
                for other in readers:
                    if self.branch_sinks.get((key, other), {other}) <= self.finished_sinks:
                        tee.close(self.tee_index[(key, other)])
            index = self.tee_index[(key, reader)]
        return tee.branch(index)

    def sink_done(self, node_id: str) -> None:
        """A sink that stopped (done, failed, or read only part) must not hold the others back."""
        if not self.branch_sinks:  # no stream is shared in this run
            return
        with self.lock:
            self.finished_sinks.add(node_id)
            for (key, reader), sinks in self.branch_sinks.items():
                if node_id in sinks and sinks <= self.finished_sinks and (key, reader) in self.tee_index:
                    self.tees[key].close(self.tee_index[(key, reader)])

    def unbind_tees(self) -> None:
        """Sinks that cannot start together (one needs another's result): let buffers grow
        rather than deadlock."""
        self.unbounded_tees = True
        for tee in self.tees.values():
            tee.limit = UNBOUNDED
