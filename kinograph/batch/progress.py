"""Showing a batch: a progress bar on a terminal, plain lines in logs, NDJSON for machines.

All three are batch event subscribers. The bar and the lines count jobs (done, failed), the rate
in jobs per minute and the time left, measured over the jobs that ran in this invocation (jobs
skipped as finished before do not inflate the rate).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from kinograph.batch.events import BatchEvent


def _escaped(text: object) -> str:
    """Text from file names and errors, safe inside rich markup."""
    from rich.markup import escape

    return escape(str(text))


class JobCounter:
    """Done, failed, rate and time left, from the events seen so far."""

    def __init__(self) -> None:
        self.total = 0
        self.to_run = 0
        self.skipped = 0
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()

    def see(self, event: BatchEvent) -> None:
        d = event.data
        if event.kind == "batch_started":
            self.total, self.to_run, self.skipped = d["jobs"], d["to_run"], d["skipped"]
            self.started = time.monotonic()
        elif event.kind == "job_finished":
            self.done += 1
        elif event.kind == "job_failed":
            self.failed += 1

    @property
    def finished(self) -> int:
        return self.skipped + self.done + self.failed

    @property
    def per_minute(self) -> float:
        elapsed = time.monotonic() - self.started
        ran = self.done + self.failed
        return 60.0 * ran / elapsed if elapsed > 0 and ran else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.per_minute
        left = self.to_run - self.done - self.failed
        return 60.0 * left / rate if rate > 0 else None

    def status(self) -> str:
        eta = self.eta_seconds
        parts = [f"{self.finished}/{self.total}", f"{self.failed} failed", f"{self.per_minute:.1f} jobs/min"]
        if eta is not None and self.finished < self.total:
            parts.append(f"ETA {duration(eta)}")
        return ", ".join(parts)


def duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class JsonBatchEvents:
    """One JSON object per line on stdout (``--events json``), with the time of each event."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: BatchEvent) -> None:
        record = {**event.to_dict(), "time": round(event.time, 3)}
        record.pop("traceback", None)
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()


class PlainBatchLines:
    """A readable line per job on stderr, for logs and pipes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.count = JobCounter()

    def write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, event: BatchEvent) -> None:
        self.count.see(event)
        d = event.data
        kind = event.kind
        if kind == "batch_started":
            skipped = f", {d['skipped']} finished before (skipped)" if d["skipped"] else ""
            workers = f" on {d['workers']} {d['engine']} worker(s)" if d["to_run"] else ""
            self.write(f"batch: {d['jobs']} job(s){skipped}, {d['to_run']} to run{workers}")
        elif kind == "job_finished":
            self.write(f"[{self.count.status()}] done {d['label']} in {d['seconds']:.1f} s")
        elif kind == "job_failed":
            self.write(f"[{self.count.status()}] FAILED {d['label']} after {d['attempts']} attempt(s): {d['error']}")
        elif kind == "job_retry":
            self.write(f"  retrying {d['label']} (attempt {d['attempt']} failed: {d['error']})")
        elif kind == "worker_lost":
            self.write(f"  lost a worker: {d['reason']}")
        elif kind == "batch_warning":
            self.write(f"warning: {d['message']}")


class BatchProgressBar:
    """A live bar over jobs on a terminal (rich): done/total, failed, rate, time left."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.count = JobCounter()
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/]"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.task: Any = None

    def _update(self) -> None:
        eta = self.count.eta_seconds
        self.progress.update(
            self.task,
            completed=self.count.finished,
            failed=self.count.failed,
            rate=f"{self.count.per_minute:.1f} jobs/min",
            eta=duration(eta) if eta is not None else "-",
        )

    def __call__(self, event: BatchEvent) -> None:
        self.count.see(event)
        d = event.data
        kind = event.kind
        if kind == "batch_started":
            self.progress.start()
            self.task = self.progress.add_task("batch", total=d["jobs"], failed=0, rate="", eta="-")
            if d["skipped"]:
                self.progress.console.print(f"{d['skipped']} job(s) finished before: skipped")
        elif self.task is None:
            return
        elif kind in ("job_finished", "job_failed", "job_skipped"):
            if kind == "job_failed":
                self.progress.console.print(
                    f"[red]failed[/] {_escaped(d['label'])} after {d['attempts']} attempt(s): {_escaped(d['error'])}",
                    markup=True, highlight=False,
                )
            self._update()
        elif kind == "job_retry":
            self.progress.console.print(f"[yellow]retrying[/] {_escaped(d['label'])}: {_escaped(d['error'])}", highlight=False)
        elif kind == "worker_lost":
            self.progress.console.print(f"[yellow]lost a worker[/]: {_escaped(d['reason'])}", highlight=False)
        elif kind == "batch_warning":
            self.progress.console.print(f"[yellow]warning[/] {_escaped(d['message'])}", highlight=False)
        elif kind in ("batch_finished", "batch_cancelled"):
            self._update()
            self.progress.stop()
