"""Showing a run: progress bars on a terminal, plain lines otherwise, NDJSON for machines."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from rich.markup import escape

from kinograph.host import Event


class JsonEvents:
    """One JSON object per line on stdout (``--events json``)."""

    def __init__(self, stream: TextIO | None = None, debug: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.debug = debug

    def __call__(self, event: Event) -> None:
        record = event.to_dict()
        if not self.debug:
            record.pop("traceback", None)  # tracebacks are for --debug
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()


class PlainLines:
    """Readable lines on stderr for logs and pipes; progress at most every 10%."""

    def __init__(self, stream: TextIO | None = None, debug: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.debug = debug
        self._last: dict[str, int] = {}

    def write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, event: Event) -> None:
        n = event.node_id
        d = event.data
        if event.kind == "run_started":
            self.write(f"running {len(d['plan'])} node(s)")
        elif event.kind == "node_started":
            self.write(f"  {n}: started ({d['type']})")
        elif event.kind == "node_progress" and d.get("total"):
            step = int(10 * d["done"] / max(1, d["total"]))
            if step != self._last.get(n or "", -1):
                self._last[n or ""] = step
                self.write(f"  {n}: {d['done']}/{d['total']}")
        elif event.kind == "node_cached":
            self.write(f"  {n}: cached")
        elif event.kind == "node_finished":
            self.write(f"  {n}: done in {d['seconds']:.2f} s")
        elif event.kind == "node_warning":
            self.write(f"  {n}: warning: {d['message']}")
        elif event.kind == "node_failed":
            self.write(f"  {n}: FAILED: {d['message']}")
            if self.debug:
                self.write(d.get("traceback", ""))
        elif event.kind == "node_skipped":
            self.write(f"  {n}: skipped ({d['because']})")
        elif event.kind == "run_cancelled":
            self.write("cancelled")


class ProgressBars:
    """Live rich progress bars on a terminal, one per running node; messages printed above."""

    def __init__(self, debug: bool = False) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.debug = debug
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def _task(self, node_id: str) -> Any:
        if node_id not in self.tasks:
            self.tasks[node_id] = self.progress.add_task(node_id, total=None)
        return self.tasks[node_id]

    def __call__(self, event: Event) -> None:
        n = event.node_id or ""
        d = event.data
        if event.kind == "run_started":
            self.progress.start()
        elif event.kind == "node_started":
            self._task(n)
        elif event.kind == "node_progress":
            self.progress.update(self._task(n), completed=d["done"], total=d.get("total"))
        elif event.kind == "node_cached":
            self.progress.update(self._task(n), description=f"{n} [dim](cached)[/]", total=1, completed=1)
        elif event.kind == "node_finished":
            task = self._task(n)
            total = self.progress.tasks[task].total or 1
            self.progress.update(task, description=f"{n} [green]{d['seconds']:.2f} s[/]", total=total, completed=total)
        elif event.kind == "node_warning":
            self.progress.console.print(f"[yellow]warning[/] {escape(n)}: {escape(d['message'])}")
        elif event.kind == "node_failed":
            self.progress.update(self._task(n), description=f"{n} [red]failed[/]")
            self.progress.console.print(f"[red]error[/] {escape(n)}: {escape(d['message'])}", markup=True, highlight=False)
            if self.debug:
                self.progress.console.print(d.get("traceback", ""), markup=False)
        elif event.kind == "node_skipped":
            self.progress.update(self._task(n), description=f"{n} [dim]skipped[/]")
        elif event.kind in ("run_finished",):
            self.progress.stop()
