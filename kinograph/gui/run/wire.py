"""Messages between the editor and its run process: builtin values only, written with marshal.

A message is a tuple of builtins (text, numbers, bytes, lists, tuples, dicts). Unlike pickle,
reading one imports no module and calls no constructor, so nothing the run process sends can run
code in the editor. Writing refuses any other value (``ValueError``), which keeps the run process
honest: outputs cross as previews (:mod:`kinograph.gui.run.previews`), and a run's result as the
plain record :func:`result_record` makes. Qt-free: the run process loads it too.
"""

from __future__ import annotations

import marshal
from typing import Any

from kinograph.host import Failure, NodeState, RunResult, RunStatus

#: marshal's current format; both ends are the same Python (the editor starts the run process).
VERSION = 4


def dumps(message: tuple[Any, ...]) -> bytes:
    """The bytes of a message of builtins (ValueError for anything else)."""
    return marshal.dumps(message, VERSION)


def loads(data: bytes) -> Any:
    """A message from its bytes (only builtin values come out)."""
    return marshal.loads(data)


def result_record(result: RunResult, outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A run's result as builtins, with ``outputs`` (already previews) in place of its values."""
    return {
        "status": str(result.status),
        "failures": [(str(f.node_id), str(f.type), str(f.message), str(f.traceback)) for f in result.failures],
        "warnings": [(str(node), str(message)) for node, message in result.warnings],
        "outputs": outputs,
        "states": {str(node): str(state) for node, state in result.states.items()},
        "seconds": {str(node): float(seconds) for node, seconds in result.seconds.items()},
        "keys": {str(node): str(key) for node, key in result.keys.items()},
        "plan": [str(node) for node in result.plan],
        "device": str(result.device),
        "total_seconds": float(result.total_seconds),
        "buffer_peaks": {str(name): int(peak) for name, peak in result.buffer_peaks.items()},
    }


def result_from_record(record: dict[str, Any]) -> RunResult:
    """The :class:`RunResult` that :func:`result_record` wrote (its enums and failures typed again)."""
    return RunResult(
        status=RunStatus(record["status"]),
        failures=[Failure(*failure) for failure in record["failures"]],
        warnings=[tuple(warning) for warning in record["warnings"]],
        outputs=record["outputs"],
        states={node: NodeState(state) for node, state in record["states"].items()},
        seconds=record["seconds"],
        keys=record["keys"],
        plan=record["plan"],
        device=record["device"],
        total_seconds=record["total_seconds"],
        buffer_peaks=record["buffer_peaks"],
    )
