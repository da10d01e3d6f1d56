"""What the editor knows of a run from its events, so it can write the run's end when its process dies.

A run process that crashes (a segfault in a node's native code, killed for memory) or that is
killed because it did not answer Cancel sends no result. The tally has followed the run's events
(plan, which nodes run, finished, failed, warned) and writes the result the core would have:
the nodes that were running fail with what happened, the ones still waiting are skipped or
cancelled, and the events that say so go to the badges and the log like any others.
"""

from __future__ import annotations

import time

from kinograph.host import Event, Failure, NodeState, RunOptions, RunResult, RunStatus

#: Why the nodes that had not started yet did not run, when the process crashed.
CRASH_SKIP_REASON = "the run's process crashed"


class RunTally:
    """Node states, timings, failures and warnings of one run, from its events."""

    def __init__(self, options: RunOptions, node_types: dict[str, str]) -> None:
        self.options = options
        self.node_types = node_types
        self.began = time.monotonic()
        self.plan: list[str] = []
        self.states: dict[str, NodeState] = {}
        self.seconds: dict[str, float] = {}
        self.failures: list[Failure] = []
        self.warnings: list[tuple[str, str]] = []
        self.progress: dict[str, tuple[int, int | None]] = {}

    @property
    def started(self) -> bool:
        """Whether the run got as far as its plan (run_started)."""
        return bool(self.plan)

    def add(self, event: Event) -> None:
        kind, node, data = event.kind, event.node_id, event.data
        if kind == "run_started":
            self.plan = [str(n) for n in data.get("plan", [])]
            return
        if node is None:
            return
        if kind == "node_started":
            self.states[node] = NodeState.RUNNING
        elif kind == "node_progress":
            self.states.setdefault(node, NodeState.RUNNING)
            self.progress[node] = (int(data.get("done", 0)), data.get("total"))
        elif kind == "node_cached":
            self.states[node] = NodeState.CACHED
        elif kind == "node_finished":
            self.states[node] = NodeState.DONE
            self.seconds[node] = float(data.get("seconds", 0.0))
        elif kind == "node_failed":
            self.states[node] = NodeState.FAILED
            self.failures.append(Failure(node, self.node_types.get(node, ""), str(data.get("message", "")),
                                         str(data.get("traceback", ""))))
        elif kind == "node_skipped":
            bypassed = data.get("because") == "bypassed"
            self.states[node] = NodeState.BYPASSED if bypassed else NodeState.SKIPPED
        elif kind == "node_warning":
            self.warnings.append((node, str(data.get("message", ""))))

    def in_flight(self) -> list[str]:
        """The nodes running now, in plan order."""
        return [n for n in self.plan if self.states.get(n) == NodeState.RUNNING]

    def waiting(self) -> list[str]:
        """The nodes of the plan that have not started."""
        return [n for n in self.plan if n not in self.states]

    def describe(self, node: str) -> str:
        """``write (kinograph.video.write, 40/100)``: a node in flight, for a crash message."""
        parts = [self.node_types.get(node, "")]
        done, total = self.progress.get(node, (0, None))
        if done:
            parts.append(f"{done}/{total}" if total else f"{done} done")
        inside = ", ".join(p for p in parts if p)
        return f"{node} ({inside})" if inside else node

    def crashed(self, how: str, detail: str, stack: str) -> tuple[list[Event], RunResult]:
        """The run's process died (``how``: "signal 11", "exit code 3"): events and result that say so."""
        flight = self.in_flight()
        where = f" while running {', '.join(self.describe(n) for n in flight)}" if flight else ""
        message = f"the run's process crashed ({how}){where}."
        if detail:
            message += f" {detail}."
        message += " The next run starts a new process."
        details = message + ("\n\nWhat the process wrote as it crashed:\n" + stack if stack.strip() else "")
        events = [Event("node_failed", node, {"message": message, "traceback": details}) for node in flight]
        events += [Event("node_skipped", node, {"because": CRASH_SKIP_REASON}) for node in self.waiting()]
        return self._end(events, RunStatus.FAILED)

    def killed(self) -> tuple[list[Event], RunResult]:
        """The run did not stop when asked and its process was ended: a cancelled run."""
        for node in self.in_flight() + self.waiting():
            self.states[node] = NodeState.CANCELLED
        return self._end([Event("run_cancelled")], RunStatus.CANCELLED)

    def _end(self, events: list[Event], status: RunStatus) -> tuple[list[Event], RunResult]:
        for event in events:
            self.add(event)
        result = RunResult(status=status, failures=list(self.failures), warnings=list(self.warnings),
                           states=dict(self.states), seconds=dict(self.seconds), plan=list(self.plan),
                           device=self.options.device, total_seconds=time.monotonic() - self.began)
        events.append(Event("run_finished", None, {"summary": result.summary()}))
        return events, result
