"""The batch manifest: one JSON line per finished job, so an interrupted batch resumes.

Only the coordinator writes it (workers report back; they never touch it), one whole line at a
time, flushed and synced, so a crash can at worst cut the last line, which reading skips. A lock
file beside it keeps two batches from writing one manifest at once. Each line records the hashes
of the graph, the params and the input files, and each output's size and hash: a job is skipped
on the next run only when all of these still match.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kinograph.host import KinographError, atomic_write_text

MANIFEST_NAME = ".kinograph-batch.jsonl"


class Manifest:
    """Reads and appends the JSONL records of one batch's output folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.unreadable_lines = 0
        self._records: dict[str, dict[str, Any]] = {}

    def load(self) -> dict[str, dict[str, Any]]:
        """The latest record of each job (by key); unreadable lines are counted and skipped."""
        self._records = {}
        self.unreadable_lines = 0
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._records
        except (OSError, UnicodeDecodeError) as exc:
            raise KinographError(f"cannot read the manifest {self.path}: {exc}") from None
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = record["key"]
            except (ValueError, KeyError, TypeError):
                self.unreadable_lines += 1  # e.g. the last line of a batch killed mid-write
                continue
            if isinstance(key, str):
                self._records[key] = record
        return self._records

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        return self._records

    def append(self, record: dict[str, Any]) -> None:
        """Add one record as one line, on disk before this returns."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._records[record["key"]] = record

    def compact(self) -> None:
        """Rewrite the file with only the latest record of each job (atomically)."""
        if not self._records:
            return
        lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":"), default=str) for r in self._records.values()]
        atomic_write_text(self.path, "\n".join(lines) + "\n")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold ``<manifest>.lock`` for the batch; a lock left by a dead process is taken over."""
        lock = self.path.with_name(self.path.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                _refuse_or_clear(lock)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(me, handle)
            break
        else:
            raise KinographError(f"cannot take the manifest lock {lock}")
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()


def _refuse_or_clear(lock: Path) -> None:
    try:
        owner = json.loads(lock.read_text(encoding="utf-8"))
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError):
        owner, pid, host = None, -1, ""
    if owner is not None and host == socket.gethostname() and _alive(pid):
        raise KinographError(
            f"another batch (pid {pid}) is writing to this manifest ({lock.with_suffix('')}); "
            "wait for it to finish or give this one its own --manifest"
        )
    if owner is not None and host != socket.gethostname():
        raise KinographError(
            f"a batch on {host} (pid {pid}) holds the manifest lock {lock}; if it no longer runs, "
            "delete the lock file and start again"
        )
    with contextlib.suppress(FileNotFoundError):
        lock.unlink()  # left by a batch that died


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
