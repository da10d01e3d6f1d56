"""The batch coordinator: plan the jobs, skip finished ones, hand the rest to workers.

The coordinator is the only process that writes the manifest and the report. It keeps every
worker busy with one job at a time, retries a failed job up to ``retries`` more times (a
worker that crashed or hung counts as a failed attempt; the job goes preferably to another
worker), replaces lost workers, and on cancel stops them so nothing half-written is left at a
target path (output nodes write under a temporary name and rename; the coordinator removes the
temporary files of workers it had to kill).
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kinograph.batch.engine import Engine, Message, sweep_partials
from kinograph.batch.events import BatchSubscriber, deliver
from kinograph.batch.hashing import graph_hash, inputs_hash, json_hash, still_complete
from kinograph.batch.jobs import Job, Out, Over, plan_jobs, split_param
from kinograph.batch.manifest import MANIFEST_NAME, Manifest
from kinograph.host import (
    CancelToken,
    Graph,
    GraphError,
    KinographError,
    atomic_write_text,
    load_graph,
    validate_graph,
)

#: seconds running jobs get to cancel cleanly after Ctrl+C before their workers are killed
STOP_GRACE = 10.0
#: workers that die before they are ready, in a row, before the batch gives up
START_FAILURES = 3
#: seconds the batch waits with no worker ready (Ray placing actors on a full or shrinking
#: cluster) before it gives up
WORKER_WAIT = 600.0


@dataclass
class JobResult:
    """What became of one job."""

    job: Job
    status: str = "pending"  # pending | done | failed | skipped | cancelled
    attempts: int = 0
    error: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    pid: int = 0
    host: str = ""
    #: models the worker had loaded after this job (its session's model store)
    model_loads: int = 0
    warnings: list[str] = field(default_factory=list)
    #: pids of the workers that tried it, in order
    tried_on: list[int] = field(default_factory=list)
    traceback: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.job.to_dict(),
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "outputs": self.outputs,
            "seconds": self.seconds,
            "pid": self.pid,
            "host": self.host,
            "model_loads": self.model_loads,
            "warnings": self.warnings,
        }


@dataclass
class BatchResult:
    """What a batch did: every job's result, and whether it ran to the end."""

    status: str  # finished | cancelled
    jobs: list[JobResult]
    seconds: float
    manifest: Path | None
    engine: str = ""
    workers: int = 0

    def _with(self, status: str) -> list[JobResult]:
        return [r for r in self.jobs if r.status == status]

    @property
    def done(self) -> list[JobResult]:
        return self._with("done")

    @property
    def failed(self) -> list[JobResult]:
        return self._with("failed")

    @property
    def skipped(self) -> list[JobResult]:
        return self._with("skipped")

    @property
    def ok(self) -> bool:
        return self.status == "finished" and not self.failed

    def summary(self) -> dict[str, Any]:
        ran = len(self.done) + len(self.failed)
        return {
            "status": self.status,
            "jobs": len(self.jobs),
            "done": len(self.done),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "cancelled": len(self._with("cancelled")) + len(self._with("pending")),
            "seconds": round(self.seconds, 3),
            "jobs_per_minute": round(60 * ran / self.seconds, 2) if self.seconds > 0 and ran else 0.0,
        }


def _pairs(given: Mapping[Any, Any] | Sequence[Any] | None, kind: type) -> list[Any]:
    """``{"node.param": x}`` or a list of Over/Out -> a list of Over/Out."""
    if not given:
        return []
    if isinstance(given, Mapping):
        option = "--over" if kind is Over else "--out"
        return [kind(*split_param(name, f"{option} {name}"), value) for name, value in given.items()]
    return list(given)


def _param_map(params: Mapping[Any, Any] | None) -> dict[tuple[str, str], Any]:
    found = {}
    for name, value in (params or {}).items():
        key = tuple(name) if isinstance(name, tuple) else split_param(str(name), f"--set {name}")
        found[key] = value
    return found


class Batch:
    """One graph over many inputs, planned and checked when it is made.

    ``over`` maps ``"node.param"`` to a source (a glob, a folder, ``"@list.txt"``,
    ``"@table.csv:column"``, or a list of values); several zip together. ``out`` maps
    ``"node.param"`` to a template such as ``"out/{stem}.mp4"``. ``params`` sets the same value
    in every job. Relative paths resolve against the current folder. Mistakes raise
    :class:`~kinograph.host.GraphError` or :class:`~kinograph.host.KinographError` here, before
    anything runs.
    """

    def __init__(
        self,
        graph: str | Path | Graph,
        over: Mapping[str, Any] | Sequence[Over],
        out: Mapping[str, str] | Sequence[Out] | None = None,
        params: Mapping[Any, Any] | None = None,
        *,
        manifest: str | Path | None = None,
    ) -> None:
        self.graph = graph if isinstance(graph, Graph) else load_graph(graph)
        self.graph_path = None if isinstance(graph, Graph) else Path(graph)
        self.over = _pairs(over, Over)
        self.out = _pairs(out, Out)
        self.params = _param_map(params)
        self.jobs = plan_jobs(self.graph, self.over, self.out, self.params)
        self._check_graph()
        self.graph_text = self.graph.to_json()
        self.graph_hash = graph_hash(self.graph.to_file_data())
        self.manifest = Manifest(manifest if manifest is not None else self._default_manifest())

    def _default_manifest(self) -> Path:
        folders = [os.path.dirname(t) for job in self.jobs for t in job.targets.values()]
        common = os.path.commonpath(folders) if folders else os.getcwd()
        return Path(common) / MANIFEST_NAME

    def _check_graph(self) -> None:
        """Problems every job would have (unknown nodes, bad links...) stop the batch now."""
        scratch = Graph.from_json(self.graph.to_json(), self.graph.registry, self.graph.base_dir)
        for node, param, value in self.jobs[0].values:
            scratch.set_param(node, param, value)
        varying = {f"nodes.{item.node}.params.{item.param}" for item in [*self.over, *self.out]}
        common = [p for p in validate_graph(scratch) if not any(p.where.startswith(v) for v in varying)]
        if common:
            raise GraphError(common)

    def params_hash(self, job: Job) -> str:
        return json_hash([[node, param, value] for node, param, value in job.values])

    def finished_before(self) -> set[str]:
        """Keys of the jobs the manifest shows finished with this graph, params, inputs and outputs."""
        records = self.manifest.load()
        candidates = [
            job for job in self.jobs
            if (r := records.get(job.key)) is not None
            and r.get("status") == "done"
            and r.get("graph_hash") == self.graph_hash
            and r.get("params_hash") == self.params_hash(job)
        ]

        def still_valid(job: Job) -> bool:
            record = records[job.key]
            if record.get("input_hash") != inputs_hash(job.input_files):
                return False
            return still_complete(record.get("outputs") or [])

        with ThreadPoolExecutor(max_workers=4) as pool:  # hashing reads files: I/O-bound
            valid = list(pool.map(still_valid, candidates))
        return {job.key for job, ok in zip(candidates, valid, strict=True) if ok}

    def run(
        self,
        *,
        engine: str | Engine = "local",
        workers: int | None = None,
        address: str | None = None,
        gpus_per_worker: float | None = None,
        retries: int = 1,
        job_timeout: float | None = None,
        device: str = "auto",
        use_cache: bool = True,
        resume: bool = True,
        report: str | Path | None = None,
        subscribers: Iterable[BatchSubscriber] = (),
        cancel: CancelToken | None = None,
    ) -> BatchResult:
        """Run every job not finished before; returns when all are done, failed or cancelled."""
        if retries < 0:
            raise KinographError("--retries must be 0 or more")
        if job_timeout is not None and job_timeout <= 0:
            raise KinographError("--job-timeout must be a positive number of seconds")
        if workers is not None and workers < 1:
            raise KinographError("--workers must be 1 or more")
        subs = list(subscribers)
        cancel = cancel or CancelToken()
        started = time.monotonic()
        with self.manifest.locked():
            done_before = self.finished_before() if resume else set()
            if self.manifest.unreadable_lines:
                deliver(subs, "batch_warning", message=(
                    f"skipped {self.manifest.unreadable_lines} unreadable line(s) of {self.manifest.path}"))
            results = [JobResult(job) for job in self.jobs]
            to_run = []
            for result in results:
                if result.job.key in done_before:
                    record = self.manifest.records[result.job.key]
                    result.status, result.outputs = "skipped", record.get("outputs", [])
                else:
                    to_run.append(result)
            chosen = self._engine(engine, workers, address, gpus_per_worker, device, len(to_run)) if to_run else None
            deliver(
                subs, "batch_started", jobs=len(results), to_run=len(to_run), skipped=len(results) - len(to_run),
                engine=getattr(chosen, "name", str(engine)), workers=chosen.size if chosen else 0,
                manifest=str(self.manifest.path),
            )
            for result in results:
                if result.status == "skipped":
                    deliver(subs, "job_skipped", job=result.job.index, label=result.job.label,
                            outputs=[o.get("path") for o in result.outputs])
            status = "finished"
            if chosen is not None:
                run = _Coordinator(self, chosen, to_run, retries, job_timeout, device, use_cache, subs, cancel)
                status = run.execute()
            self.manifest.compact()
        seconds = time.monotonic() - started
        batch = BatchResult(status, results, seconds, self.manifest.path,
                            getattr(chosen, "name", str(engine)), chosen.size if chosen else 0)
        if report is not None:
            self.write_report(batch, report)
        deliver(subs, "batch_cancelled" if status == "cancelled" else "batch_finished", **batch.summary())
        return batch

    def _engine(
        self, engine: str | Engine, workers: int | None, address: str | None,
        gpus_per_worker: float | None, device: str, jobs: int,
    ) -> Engine:
        if not isinstance(engine, str):
            return engine
        if engine == "local":
            from kinograph.batch.local import LocalEngine, local_settings

            settings = local_settings(workers, device, gpus_per_worker)
            return LocalEngine(settings[: max(1, min(len(settings), jobs))])
        if engine == "ray":
            from kinograph.batch.ray_engine import RayEngine

            return RayEngine(workers, address=address, gpus_per_worker=gpus_per_worker, device=device, jobs=jobs)
        raise KinographError(f"unknown engine {engine!r}: use local or ray")

    def write_report(self, batch: BatchResult, path: str | Path) -> None:
        """A JSON report of the batch: the summary and every job's inputs, targets, status and error."""
        record = {
            "graph": str(self.graph_path) if self.graph_path else None,
            "engine": batch.engine,
            "workers": batch.workers,
            "manifest": str(batch.manifest) if batch.manifest else None,
            "summary": batch.summary(),
            "jobs": [r.to_dict() for r in batch.jobs],
        }
        atomic_write_text(Path(path), json.dumps(record, indent=2, default=str) + "\n")


def run_batch(
    graph: str | Path | Graph,
    over: Mapping[str, Any] | Sequence[Over],
    out: Mapping[str, str] | Sequence[Out] | None = None,
    params: Mapping[Any, Any] | None = None,
    *,
    manifest: str | Path | None = None,
    **options: Any,
) -> BatchResult:
    """Plan and run a batch in one call; ``options`` are those of :meth:`Batch.run`."""
    return Batch(graph, over, out, params, manifest=manifest).run(**options)


@dataclass
class _Worker:
    id: int
    slot: int
    pid: int = 0
    host: str = ""
    ready: bool = False
    job: JobResult | None = None
    since: float = 0.0
    error: str = ""


class _Coordinator:
    """One execution of a batch's remaining jobs on an engine (internal)."""

    def __init__(
        self, batch: Batch, engine: Engine, to_run: list[JobResult], retries: int,
        job_timeout: float | None, device: str, use_cache: bool,
        subscribers: list[BatchSubscriber], cancel: CancelToken,
    ) -> None:
        self.batch = batch
        self.engine = engine
        self.pending: deque[JobResult] = deque(to_run)
        self.retries = retries
        self.job_timeout = job_timeout
        self.device = device
        self.use_cache = use_cache
        self.subs = subscribers
        self.cancel = cancel
        self.workers: dict[int, _Worker] = {}
        self.last_worker: dict[str, int] = {}
        self.start_failures = 0
        self.no_worker_since: float | None = None

    def execute(self) -> str:
        try:
            for slot in range(self.engine.size):
                self._start(slot)
            while self.pending or any(w.job for w in self.workers.values()):
                if self.cancel.cancelled:
                    self._stop(STOP_GRACE)
                    return "cancelled"
                self._dispatch()
                for message in self.engine.poll(0.2):
                    self._handle(message)
                self._check_timeouts()
                self._keep_pool()
                self._check_starved()
            return "finished"
        except KeyboardInterrupt:  # a second Ctrl+C: stop now
            self._stop(0.0)
            return "cancelled"
        finally:
            self.engine.close()

    # -- workers --

    def _start(self, slot: int) -> None:
        worker_id = self.engine.add_worker(slot)
        self.workers[worker_id] = _Worker(worker_id, slot)

    def _keep_pool(self) -> None:
        """Replace lost workers while there is work left for them."""
        work = len(self.pending) + sum(1 for w in self.workers.values() if w.job)
        used = {w.slot for w in self.workers.values()}
        for slot in range(self.engine.size):
            if len(self.workers) >= work:
                break
            if slot not in used:
                self._start(slot)

    def _check_starved(self) -> None:
        """Give up when no worker has been ready for WORKER_WAIT seconds (nothing can run)."""
        if any(w.ready for w in self.workers.values()):
            self.no_worker_since = None
            return
        now = time.monotonic()
        if self.no_worker_since is None:
            self.no_worker_since = now
        elif now - self.no_worker_since > WORKER_WAIT:
            raise KinographError(
                f"no batch worker became ready in {WORKER_WAIT:g} s; for --engine ray, check that the "
                "cluster has the CPUs/GPUs each worker asks for (--gpus-per-worker)"
            )

    def _handle(self, message: Message) -> None:
        worker = self.workers.get(message.worker)
        if worker is None:
            return
        if message.kind == "ready":
            worker.ready, worker.pid, worker.host = True, message.data["pid"], message.data["host"]
            self.start_failures = 0
            deliver(self.subs, "worker_started", worker=worker.id, pid=worker.pid, host=worker.host)
        elif message.kind == "error":
            worker.error = str(message.data)
        elif message.kind == "result":
            job = worker.job
            worker.job = None
            if job is not None:
                self._finish(job, message.data)
        elif message.kind == "lost":
            self._lost(worker, worker.error or str(message.data))

    def _lost(self, worker: _Worker, reason: str) -> None:
        self.workers.pop(worker.id, None)
        if not worker.ready:
            self.start_failures += 1
            if self.start_failures >= START_FAILURES and not any(w.ready for w in self.workers.values()):
                raise KinographError(f"the batch workers cannot start: {reason}")
        deliver(self.subs, "worker_lost", worker=worker.id, pid=worker.pid, reason=reason,
                job=worker.job.job.index if worker.job else None)
        job = worker.job
        if job is None:
            return
        if worker.pid:
            sweep_partials(list(job.job.targets.values()), worker.pid)
        self._failed_attempt(job, reason, retry=True)

    def _check_timeouts(self) -> None:
        if self.job_timeout is None:
            return
        now = time.monotonic()
        for worker in list(self.workers.values()):
            if worker.job is not None and now - worker.since > self.job_timeout:
                self.engine.kill(worker.id)
                self._lost(worker, f"timed out after {self.job_timeout:g} s (worker pid {worker.pid} was stopped)")

    def _stop(self, grace: float) -> None:
        for message in self.engine.stop(grace):
            worker = self.workers.get(message.worker)
            if message.kind == "result" and worker is not None and worker.job is not None:
                job, worker.job = worker.job, None
                self._finish(job, message.data)
        for worker in self.workers.values():
            if worker.job is not None:
                if worker.pid:
                    sweep_partials(list(worker.job.job.targets.values()), worker.pid)
                worker.job.status = "cancelled"
        for job in self.pending:
            job.status = "cancelled"
        self.pending.clear()
        self.workers.clear()

    # -- jobs --

    def _dispatch(self) -> None:
        for worker in self.workers.values():
            if not worker.ready or worker.job is not None or not self.pending:
                continue
            job = self._next_for(worker)
            job.attempts += 1
            worker.job, worker.since = job, time.monotonic()
            self.last_worker[job.job.key] = worker.id
            job.tried_on.append(worker.pid)
            self.engine.send(worker.id, self._payload(job))
            deliver(self.subs, "job_started", job=job.job.index, label=job.job.label, worker=worker.id,
                    pid=worker.pid, host=worker.host, attempt=job.attempts)

    def _next_for(self, worker: _Worker) -> JobResult:
        """The next job, preferring one that did not just fail on this worker."""
        for index, job in enumerate(self.pending):
            if self.last_worker.get(job.job.key) != worker.id:
                del self.pending[index]
                return job
        return self.pending.popleft()

    def _payload(self, job: JobResult) -> dict[str, Any]:
        return {
            "key": job.job.key,
            "index": job.job.index,
            "attempt": job.attempts,
            "graph": self.batch.graph_text,
            "base_dir": str(self.batch.graph.base_dir) if self.batch.graph.base_dir else None,
            "values": [[node, param, value] for node, param, value in job.job.values],
            "input_files": job.job.input_files,
            "device": self.device,
            "use_cache": self.use_cache,
        }

    def _finish(self, job: JobResult, record: dict[str, Any]) -> None:
        job.seconds = float(record.get("seconds", 0.0))
        job.pid, job.host = int(record.get("pid", 0)), str(record.get("host", ""))
        job.model_loads = int(record.get("model_loads", 0))
        job.warnings = list(record.get("warnings", []))
        status = record.get("status")
        if status == "done":
            job.status, job.error, job.outputs = "done", "", list(record.get("outputs", []))
            self._record(job, input_hash=record.get("input_hash"))
            deliver(self.subs, "job_finished", job=job.job.index, label=job.job.label, seconds=job.seconds,
                    outputs=[o["path"] for o in job.outputs], pid=job.pid, attempts=job.attempts)
        elif status == "cancelled":
            job.status = "cancelled"
        else:
            job.traceback = str(record.get("traceback", ""))
            self._failed_attempt(job, str(record.get("error", "failed")), retry=bool(record.get("retry", True)))

    def _failed_attempt(self, job: JobResult, error: str, *, retry: bool) -> None:
        job.error = error
        if retry and job.attempts <= self.retries and not self.cancel.cancelled:
            job.status = "pending"
            self.pending.append(job)
            deliver(self.subs, "job_retry", job=job.job.index, label=job.job.label, attempt=job.attempts,
                    error=error)
            return
        job.status = "failed"
        self._record(job)
        deliver(self.subs, "job_failed", job=job.job.index, label=job.job.label, error=error,
                attempts=job.attempts)

    def _record(self, job: JobResult, input_hash: str | None = None) -> None:
        self.batch.manifest.append({
            "key": job.job.key,
            "index": job.job.index,
            "status": job.status,
            "inputs": job.job.inputs,
            "targets": job.job.targets,
            "graph_hash": self.batch.graph_hash,
            "params_hash": self.batch.params_hash(job.job),
            "input_hash": input_hash,
            "outputs": job.outputs,
            "error": job.error,
            "attempts": job.attempts,
            "seconds": job.seconds,
            "pid": job.pid,
            "host": job.host,
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        })


__all__ = ["Batch", "BatchResult", "JobResult", "Out", "Over", "run_batch"]
