"""What runs inside a batch worker: one :class:`Session` for many jobs.

The session lives as long as the worker, so models (ResNet, the LSTM) and caches load once per
worker, not once per job. The same :class:`JobRunner` serves a local worker process
(:func:`worker_main`) and a Ray actor. A job arrives as plain data (graph text, the values to
set) and leaves as plain data (status, error, outputs with size and hash), so it crosses a pipe
or a Ray object store unchanged, and a worker never writes the manifest.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kinograph.batch.hashing import fingerprint, inputs_hash
from kinograph.host import (
    CancelToken,
    Graph,
    GraphError,
    KinographError,
    RunOptions,
    Session,
    get_registry,
)

#: signals a terminal sends to its whole process group; the coordinator handles them
_GROUP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGHUP", None)) if s is not None)


class JobRunner:
    """Runs jobs one after another in one process, keeping its session between them."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.registry = get_registry()
        self.session = Session(self.registry)
        self.cancel: CancelToken | None = None
        self.stopping = False
        self.pid = os.getpid()
        self.host = socket.gethostname()

    def identity(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host}

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job and describe what happened; never raises for a job's own failure."""
        started = time.perf_counter()
        record: dict[str, Any] = {"key": job["key"], **self.identity()}
        try:
            # Hashed here, by the worker that reads them: what the manifest records is what ran.
            record["input_hash"] = inputs_hash(job.get("input_files", []))
            record.update(self._run(job))
        except GraphError as exc:
            # The graph cannot run with these values (a missing input file...): a retry cannot help.
            record.update(status="failed", error=exc.describe().replace("\n", "; "), retry=False)
        except KinographError as exc:
            record.update(status="failed", error=str(exc), retry=True)
        except Exception as exc:  # a bug in a node or in kinograph: report it, keep the worker
            record.update(
                status="failed", error=f"internal error: {type(exc).__name__}: {exc}", retry=True,
                traceback=traceback.format_exc(),
            )
        finally:
            self.cancel = None
        record["seconds"] = round(time.perf_counter() - started, 4)
        record["model_loads"] = self.session.models.loads
        return record

    def _run(self, job: dict[str, Any]) -> dict[str, Any]:
        base_dir = Path(job["base_dir"]) if job.get("base_dir") else None
        graph = Graph.from_json(job["graph"], self.registry, base_dir)
        for node, param, value in job["values"]:
            graph.set_param(node, param, value)
        self.cancel = CancelToken()
        if self.stopping:
            self.cancel.cancel()
        options = RunOptions(
            device=job.get("device", "auto"),
            use_cache=job.get("use_cache", True),
            stream_cache="off",  # every job streams different frames: caching them only costs disk
        )
        result = self.session.run(graph, options, [], self.cancel)
        warnings = [f"{node}: {message}" for node, message in result.warnings]
        if result.status == "cancelled":
            return {"status": "cancelled", "error": "cancelled", "retry": False, "warnings": warnings}
        if not result.ok:
            error = "; ".join(f"node {f.node_id} ({f.type}) failed: {f.message}" for f in result.failures)
            details = "\n".join(f.traceback for f in result.failures if f.traceback)
            return {"status": "failed", "error": error or result.status, "retry": True,
                    "traceback": details, "warnings": warnings}
        outputs = [fingerprint(path) for path in result.written(graph)]
        return {"status": "done", "outputs": outputs, "warnings": warnings}

    def stop(self) -> None:
        """Cancel the running job (its output node removes its temporary file) and stop after it."""
        self.stopping = True
        if self.cancel is not None:
            self.cancel.cancel()


def worker_main(conn: Connection, settings: dict[str, Any]) -> None:
    """Body of a local worker process: announce itself, then run jobs until told to stop.

    Ctrl+C (and a closed terminal's SIGHUP) reaches every process of the terminal's group; the
    coordinator alone decides what it means, so a worker ignores them and stops on SIGTERM
    (cancelling its job cleanly).
    """
    for signum in _GROUP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    os.environ.update(settings.get("env", {}))  # before torch loads: threads, pinned GPU
    try:
        runner = JobRunner(settings)
    except BaseException as exc:
        conn.send(("error", f"the worker could not start: {type(exc).__name__}: {exc}"))
        return

    def on_term(signum: int, frame: Any) -> None:
        if runner.cancel is None:
            raise SystemExit(0)  # idle: just leave
        runner.stop()

    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=_stop_when_orphaned, args=(runner,), daemon=True, name="orphan-watch").start()
    conn.send(("ready", runner.identity()))
    while not runner.stopping:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the coordinator is gone
        if job is None:
            return
        result = runner.run(job)
        try:
            conn.send(("result", result))
        except (BrokenPipeError, OSError):
            return


def _stop_when_orphaned(runner: JobRunner, every: float = 0.5) -> None:
    """Stop when the coordinator is gone (killed with SIGKILL, say): cancel the job and leave.

    A busy worker would otherwise render on for minutes with nobody to report to. Cancelling
    lets the output node remove its temporary file; the exit follows shortly after.
    """
    parent = os.getppid()
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            runner.stop()
            deadline = time.monotonic() + 10
            while runner.cancel is not None and time.monotonic() < deadline:
                time.sleep(0.05)  # the job unwinds and removes its temporary file
            os._exit(0)
