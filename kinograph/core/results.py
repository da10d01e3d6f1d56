"""What a run is asked to do (:class:`RunOptions`) and what it did (:class:`RunResult`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """How a run ended."""

    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NodeState(StrEnum):
    """Where a node of a run stands (the editor's badges show these)."""

    RUNNING = "running"
    DONE = "done"
    CACHED = "cached"
    BYPASSED = "bypassed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass
class RunOptions:
    """How to run: device spec, caching, which nodes to run (default: the output nodes)."""

    device: str = "auto"
    use_cache: bool = True
    targets: list[str] | None = None
    #: which stream outputs go to the disk cache: "outputs" (those feeding output nodes or
    #: asked for), "all", or "off"
    stream_cache: str = "outputs"
    tee_buffer: int = 4
    validate: bool = True


@dataclass
class Failure:
    """A node that failed: id, type, message, and the traceback (for --debug and the editor)."""

    node_id: str
    type: str
    message: str
    traceback: str = ""


@dataclass
class RunResult:
    """What a run did: status, every failure, warnings, and the value outputs it kept."""

    status: RunStatus = RunStatus.FINISHED
    failures: list[Failure] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, NodeState] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: each node's content key (what the caches file its outputs under), computed when first read
    keys: Mapping[str, str] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)
    device: str = ""
    total_seconds: float = 0.0
    #: the most chunks each shared stream buffered for its slower reader ("node.port")
    buffer_peaks: dict[str, int] = field(default_factory=dict)

    def written(self, graph: Any) -> list[str]:
        """The files (or folders) that ``graph``'s output nodes reported writing in this run."""
        paths = []
        for node_id, outputs in self.outputs.items():
            cls = graph.node_class(node_id)
            if cls is None or not cls.output_node:
                continue
            for port, value in outputs.items():
                spec = cls.output(port)
                if spec is not None and spec.type == "Path" and value:
                    paths.append(str(value))
        return paths

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.FINISHED

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for state in self.states.values():
            counts[state] = counts.get(state, 0) + 1
        return {
            "status": self.status,
            "seconds": round(self.total_seconds, 4),
            "nodes": counts,
            "failures": [{"node": f.node_id, "type": f.type, "message": f.message} for f in self.failures],
            "warnings": [{"node": n, "message": m} for n, m in self.warnings],
        }
