"""The local engine: a pool of worker processes on this machine.

Workers are started with ``spawn`` (never ``fork``: a forked copy of a process that holds CUDA,
OpenMP or Qt state can deadlock), each with a pipe to the coordinator. The coordinator waits on
the pipes and on the processes' sentinels at once, so a worker that dies (segfault, the
out-of-memory killer, SIGKILL) is noticed at once, with its exit signal as the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from kinograph.batch.engine import Message
from kinograph.batch.worker import worker_main

#: memory a CPU worker may take while rendering (models, frame buffers, codecs)
WORKER_MEMORY = 2 << 30


@dataclass
class _Process:
    process: Any
    conn: Connection
    pid: int


class LocalEngine:
    """Worker processes on this machine; each gets its own settings (threads, pinned GPU)."""

    name = "local"

    def __init__(self, settings: list[dict[str, Any]]) -> None:
        #: settings of worker slot i (a replacement takes over its slot's settings)
        self.settings = settings
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[int, _Process] = {}
        self.slot_of: dict[int, int] = {}
        self._ids = itertools.count(1)

    @property
    def size(self) -> int:
        return len(self.settings)

    def add_worker(self, slot: int) -> int:
        worker_id = next(self._ids)
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=worker_main, args=(child, self.settings[slot]), name=f"kinograph-batch-{worker_id}"
        )
        with _sigint_ignored():  # so a Ctrl+C during the worker's start-up cannot hit it
            process.start()
        child.close()
        self.workers[worker_id] = _Process(process, parent, process.pid or 0)
        self.slot_of[worker_id] = slot
        return worker_id

    def send(self, worker_id: int, job: dict[str, Any]) -> None:
        worker = self.workers.get(worker_id)
        if worker is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            worker.conn.send(job)  # a dead worker shows up as lost in the next poll

    def poll(self, timeout: float) -> list[Message]:
        waitables: dict[Any, int] = {}
        for worker_id, worker in self.workers.items():
            waitables[worker.conn] = worker_id
            waitables[worker.process.sentinel] = worker_id
        if not waitables:
            time.sleep(timeout)
            return []
        messages: list[Message] = []
        for ready in wait(list(waitables), timeout):
            worker_id = waitables[ready]
            worker = self.workers.get(worker_id)
            if worker is None:
                continue  # already handled through its other handle
            gone = not self._drain(worker_id, worker, messages)
            if gone or ready is worker.process.sentinel:
                worker.process.join(1)
                code = worker.process.exitcode
                if code is None:  # closed its pipe but hangs on the way out
                    self.kill(worker_id)
                self._forget(worker_id)
                messages.append(Message(worker_id, "lost", exit_reason(code, worker.pid)))
        return messages

    def _drain(self, worker_id: int, worker: _Process, into: list[Message]) -> bool:
        """Read every message waiting on the pipe; False when the pipe is closed."""
        try:
            while worker.conn.poll():
                kind, data = worker.conn.recv()
                into.append(Message(worker_id, kind, data))
        except (EOFError, OSError):
            return False
        return True

    def kill(self, worker_id: int) -> None:
        worker = self.workers.get(worker_id)
        if worker is None:
            return
        with contextlib.suppress(OSError):
            worker.process.kill()
        worker.process.join(5)
        self._forget(worker_id)

    def stop(self, grace: float) -> list[Message]:
        """Ask every worker to cancel its job and leave; kill those still there after ``grace``."""
        messages: list[Message] = []
        for worker in self.workers.values():
            with contextlib.suppress(OSError):
                worker.process.terminate()  # SIGTERM: the job is cancelled, its temp file removed
        deadline = time.monotonic() + grace
        while self.workers and time.monotonic() < deadline:
            messages.extend(m for m in self.poll(0.1) if m.kind != "lost")
        for worker_id in list(self.workers):
            self.kill(worker_id)
        return messages

    def pid(self, worker_id: int) -> int:
        worker = self.workers.get(worker_id)
        return worker.pid if worker else 0

    def close(self) -> None:
        for worker_id, worker in list(self.workers.items()):
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.conn.send(None)
            worker.process.join(5)
            if worker.process.is_alive():
                self.kill(worker_id)
            else:
                self._forget(worker_id)

    def _forget(self, worker_id: int) -> None:
        worker = self.workers.pop(worker_id, None)
        self.slot_of.pop(worker_id, None)
        if worker is not None:
            with contextlib.suppress(OSError):
                worker.conn.close()


def exit_reason(code: int | None, pid: int) -> str:
    """Why a worker process ended, in a user's words."""
    if code is None:
        return f"worker pid {pid} stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {
            "SIGKILL": " (killed: the system's out-of-memory killer does this)",
            "SIGSEGV": " (crashed: segmentation fault)",
            "SIGABRT": " (aborted)",
            "SIGBUS": " (crashed: bus error)",
        }.get(name, "")
        return f"worker pid {pid} died from {name}{why}"
    return f"worker pid {pid} exited with code {code}"


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start children with SIGINT and SIGHUP ignored (kept through exec); only the main thread can."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [s for s in (signal.SIGINT, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def local_settings(workers: int | None, device: str, gpus_per_worker: float | None) -> list[dict[str, Any]]:
    """Settings of each local worker: one per GPU by default, else as many as fit the CPUs and memory."""
    gpus = _gpu_count(device)
    if gpus and device in ("auto", "cuda"):
        share = gpus_per_worker if gpus_per_worker and gpus_per_worker > 0 else 1.0
        count = workers or max(1, int(gpus / share))
        threads = max(1, (os.cpu_count() or 1) // count)
        settings = []
        for index in range(count):
            if share >= 1:
                first = int(index * share) % gpus
                visible = ",".join(str((first + k) % gpus) for k in range(int(share)))
            else:
                visible = str(int(index * share) % gpus)
            settings.append({"env": {"CUDA_VISIBLE_DEVICES": visible, **_thread_env(threads)}})
        return settings
    if device.startswith("cuda:") or device == "mps":
        count = workers or 1  # one named device: workers share it, so one by default
    else:
        count = workers or default_cpu_workers()
    threads = max(1, (os.cpu_count() or 1) // count)
    return [{"env": _thread_env(threads)} for _ in range(count)]


def default_cpu_workers() -> int:
    """As many workers as there are cores, but no more than fit in the available memory."""
    cores = os.cpu_count() or 1
    available = _available_memory()
    if available is None:
        return cores
    return max(1, min(cores, available // WORKER_MEMORY))


def _thread_env(threads: int) -> dict[str, str]:
    # Each worker gets its share of the cores: N workers x all-core thread pools thrash.
    return {name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def _gpu_count(device: str) -> int:
    if device not in ("auto", "cuda"):
        return 0
    from kinograph.host import available_devices  # imports torch: only when GPUs may be used

    return sum(1 for d in available_devices() if d.startswith("cuda:"))


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
