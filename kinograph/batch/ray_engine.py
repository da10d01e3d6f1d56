"""The Ray engine: one Ray actor per worker, on this machine or across a cluster.

Each actor holds a :class:`~kinograph.batch.worker.JobRunner` (one session: models load once per
actor) and asks Ray for ``num_gpus``, so Ray pins it to its own GPU(s) through
``CUDA_VISIBLE_DEVICES``. Jobs name their inputs and outputs by path: every node must see the
same file system (object stores are out of scope). Ray is imported only when this engine is used;
it is the optional extra ``kinograph[ray]``. Never ``local_mode``: workers are real processes.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from kinograph.batch.engine import Message
from kinograph.batch.worker import JobRunner
from kinograph.host import KinographError


class RayWorker:
    """Body of a batch actor (made remote with the resources asked for, see :class:`RayEngine`)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.runner = JobRunner(settings)

    def identity(self) -> dict[str, Any]:
        return self.runner.identity()

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        return self.runner.run(job)

    def stop(self) -> None:
        # Runs beside ``run`` (the actor allows two calls at once): cancels the running job.
        self.runner.stop()


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise KinographError(
            "the ray engine needs Ray: pip install 'kinograph[ray]' (on every node of the cluster)"
        ) from None
    return ray


class RayEngine:
    """Batch workers as Ray actors; connects to ``address`` or starts a local Ray."""

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        gpus_per_worker: float | None = None,
        cpus_per_worker: float = 1.0,
        device: str = "auto",
        jobs: int | None = None,
    ) -> None:
        self.ray = import_ray()
        self.started_ray = False
        if not self.ray.is_initialized():
            try:
                # log_to_driver off: actors' logs would land on our stdout, among NDJSON events.
                self.ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = address or "a local Ray"
                raise KinographError(f"cannot connect to {where}: {exc}") from None
            self.started_ray = True
        resources = self.ray.cluster_resources()
        gpus = float(resources.get("GPU", 0)) if device != "cpu" else 0.0
        if gpus_per_worker is None:
            gpus_per_worker = 1.0 if gpus >= 1 else 0.0
        if gpus_per_worker > 0 and gpus < gpus_per_worker:
            raise KinographError(
                f"--gpus-per-worker {gpus_per_worker:g} but the Ray cluster has {gpus:g} GPU(s); "
                "use --gpus-per-worker 0 to run on CPUs"
            )
        if workers is None:
            if gpus_per_worker > 0:
                workers = int(gpus // gpus_per_worker)
            else:
                workers = int(float(resources.get("CPU", 1)) // max(cpus_per_worker, 0.01))
        self._size = max(1, min(workers, jobs) if jobs else workers)
        self.options = {
            "num_gpus": gpus_per_worker,
            "num_cpus": cpus_per_worker,
            "max_restarts": 0,  # a lost actor is replaced by the coordinator, which retries the job
            "max_task_retries": 0,
            "max_concurrency": 2,  # ``stop`` must run while ``run`` does
        }
        self.actor_class = self.ray.remote(RayWorker)
        self.actors: dict[int, Any] = {}
        self.who: dict[int, dict[str, Any]] = {}
        self.pending: dict[Any, tuple[int, str]] = {}
        self._ids = itertools.count(1)

    @property
    def size(self) -> int:
        return self._size

    def add_worker(self, slot: int) -> int:
        worker_id = next(self._ids)
        actor = self.actor_class.options(**self.options).remote({})
        self.actors[worker_id] = actor
        self.pending[actor.identity.remote()] = (worker_id, "ready")
        return worker_id

    def send(self, worker_id: int, job: dict[str, Any]) -> None:
        actor = self.actors.get(worker_id)
        if actor is not None:
            self.pending[actor.run.remote(job)] = (worker_id, "result")

    def poll(self, timeout: float) -> list[Message]:
        if not self.pending:
            time.sleep(timeout)
            return []
        ray = self.ray
        ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(list(self.pending), num_returns=len(self.pending), timeout=0)
        messages = []
        for ref in ready:
            worker_id, kind = self.pending.pop(ref)
            if worker_id not in self.actors:
                continue
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._forget(worker_id)
                messages.append(Message(worker_id, "lost", self._reason(worker_id, exc)))
                continue
            if kind == "ready":
                self.who[worker_id] = value
            messages.append(Message(worker_id, kind, value))
        return messages

    def _reason(self, worker_id: int, exc: Exception) -> str:
        who = self.who.get(worker_id, {})
        name = f"worker pid {who['pid']} on {who['host']}" if who else "a worker that was starting"
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        if "node" in str(exc).lower() and "died" in str(exc).lower():
            first = f"its node died or left the cluster ({first})"
        return f"{name} is gone: {first[:300]}"

    def kill(self, worker_id: int) -> None:
        actor = self.actors.get(worker_id)
        if actor is not None:
            self.ray.kill(actor, no_restart=True)
        self._forget(worker_id)

    def stop(self, grace: float) -> list[Message]:
        for actor in self.actors.values():
            actor.stop.remote()
        messages: list[Message] = []
        deadline = time.monotonic() + grace
        busy = {w for w, kind in self.pending.values() if kind == "result"}
        while busy and time.monotonic() < deadline:
            for message in self.poll(0.1):
                busy.discard(message.worker)
                if message.kind != "lost":
                    messages.append(message)
        for worker_id in list(self.actors):
            self.kill(worker_id)
        return messages

    def pid(self, worker_id: int) -> int:
        return int(self.who.get(worker_id, {}).get("pid", 0))

    def close(self) -> None:
        for worker_id in list(self.actors):
            self.kill(worker_id)
        if self.started_ray:
            self.ray.shutdown()

    def _forget(self, worker_id: int) -> None:
        self.actors.pop(worker_id, None)
        for ref, (owner, _) in list(self.pending.items()):
            if owner == worker_id:
                del self.pending[ref]
