"""What the coordinator needs from an engine (local processes or Ray actors), and clean-up helpers.

An engine starts workers, hands a job to a worker, and reports what happened as
:class:`Message` values: ``ready`` (pid and host), ``result`` (a job's record), ``error`` (a
worker that could not start) and ``lost`` (a worker that is gone: crashed, killed, its node
died). Retries, time-outs, the manifest and events live in the coordinator, once for both.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    worker: int
    kind: str  # ready | result | error | lost
    data: Any


class Engine(Protocol):
    name: str

    @property
    def size(self) -> int:
        """How many workers the engine runs at most."""

    def add_worker(self, slot: int) -> int:
        """Start a worker in ``slot`` (0..size-1); returns its id (a replacement gets a new id)."""

    def send(self, worker_id: int, job: dict[str, Any]) -> None: ...

    def poll(self, timeout: float) -> list[Message]: ...

    def kill(self, worker_id: int) -> None:
        """Stop a worker at once (its job is lost); no ``lost`` message follows."""

    def stop(self, grace: float) -> list[Message]:
        """Cancel running jobs, give them ``grace`` seconds, then kill what is left."""

    def close(self) -> None: ...


def sweep_partials(targets: list[str], pid: int) -> list[Path]:
    """Remove the temporary files a killed worker left beside its job's targets.

    Output nodes write under ``.<stem>.partial-<pid>[-<token>]<suffix>`` (a file) or
    ``.<name>.partial-<pid>[-<token>]`` (an image-sequence folder) and rename it when complete;
    a process killed mid-write cannot remove its own. Only names carrying the dead worker's pid
    are touched, so a live writer's files are safe.
    """
    removed = []
    for target in targets:
        path = Path(target)
        patterns = [
            re.compile(rf"^\.{re.escape(path.stem)}\.partial-{pid}(?:-[0-9a-f]+)?{re.escape(path.suffix)}$"),
            re.compile(rf"^\.{re.escape(path.name)}\.partial-{pid}(?:-[0-9a-f]+)?$"),
        ]
        try:
            entries = list(os.scandir(path.parent))
        except OSError:
            continue
        for entry in entries:
            if not any(p.match(entry.name) for p in patterns):
                continue
            temp = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(temp, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    temp.unlink()
            removed.append(temp)
    return removed
