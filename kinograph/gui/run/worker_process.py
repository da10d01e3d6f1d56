"""The editor's handle on its run process: start it, send it commands, read what it says, end it.

Qt-free: the run controller gives two callbacks, ``on_message(handle, bytes)`` for each message
in the order the process sent it and ``on_exit(handle, exit code)`` once, after the last one. Both are called on
a reader thread; the controller turns them into queued Qt signals. The reader hands over raw
bytes; they are read on the GUI thread (:mod:`kinograph.gui.run.wire`: builtins only, so reading
imports nothing, which on a second thread while Qt paints has crashed this editor before).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import multiprocessing.spawn
import os
import queue
import runpy
import signal
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from kinograph.gui.run import wire
from kinograph.gui.run.worker_main import RUN_NAME

#: The file the run process executes (see ``worker_main``'s docstring for why by path).
WORKER_FILE = str(Path(__file__).with_name("worker_main.py"))
#: How long a process asked to stop may take before it is killed.
STOP_TIMEOUT = 2.0
#: Crash logs longer than this are cut (the start of a native stack says most).
CRASH_LOG_LIMIT = 20_000

_LIVE: weakref.WeakSet[RunProcessHandle] = weakref.WeakSet()


class RunProcessHandle:
    """One run process (``spawn``), its two pipes and the thread that reads its messages."""

    def __init__(self, plugins: list[dict[str, Any]],
                 on_message: Callable[[RunProcessHandle, bytes], None],
                 on_exit: Callable[[RunProcessHandle, int | None], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self._commands_in, self._commands = context.Pipe(duplex=False)
        self._messages, self._messages_out = context.Pipe(duplex=False)
        handle, self.crash_log = tempfile.mkstemp(prefix="kinograph-run-", suffix=".crash.txt")
        os.close(handle)
        args = {"commands": self._commands_in, "messages": self._messages_out, "plugins": plugins,
                "crash_log": self.crash_log}
        self.process = context.Process(
            target=runpy.run_path, args=(WORKER_FILE,),
            kwargs={"init_globals": {"WORKER_ARGS": args}, "run_name": RUN_NAME},
            name="kinograph-run", daemon=False)  # not daemonic: its nodes may start processes
        self._on_message = on_message
        self._on_exit = on_exit
        self._reader: threading.Thread | None = None
        # Commands go out on a thread of their own: a graph bigger than the pipe's buffer (64 KB)
        # would block the GUI thread until the process reads it, which at the first run is
        # after it has started and imported kinograph (a third of a second, the canvas frozen).
        self._outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._broken = False
        self.stopping = False

    def start(self) -> None:
        with _without_main_module():
            self.process.start()
        # Only the process keeps its ends: when it dies, reading here sees the end of the pipe.
        self._commands_in.close()
        self._messages_out.close()
        _LIVE.add(self)
        self._reader = threading.Thread(target=self._read, name="kinograph-run-reader", daemon=True)
        self._reader.start()
        self._writer = threading.Thread(target=self._write, name="kinograph-run-writer", daemon=True)
        self._writer.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, message: tuple[Any, ...]) -> bool:
        """Queue a command (sent in order, without waiting); False when the process is gone
        (its exit is reported anyway)."""
        if self._broken:
            return False
        self._outgoing.put(wire.dumps(message))
        return True

    def _write(self) -> None:
        while True:
            data = self._outgoing.get()
            if data is None:
                return
            try:
                self._commands.send_bytes(data)
            except (OSError, ValueError):
                self._broken = True
                return

    def kill(self) -> None:
        """End the process now (SIGKILL): for a run that does not answer cancel."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.kill()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the process to stop (it cancels its run); kill it if it has not within ``timeout``."""
        self.stopping = True
        if self.process.pid is None:
            return
        self.send(("stop",))
        self._outgoing.put(None)  # the writer ends after the stop went out
        self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
            self.process.join(timeout)
        if self._writer is not None:
            self._writer.join(timeout)  # the process is gone: a write in progress fails at once
        with contextlib.suppress(OSError):
            self._commands.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout)
        self.remove_crash_log()

    def crash_text(self) -> str:
        """What the process wrote when it crashed (Python's fault handler: the stack of each thread)."""
        try:
            text = Path(self.crash_log).read_text(errors="replace")
        except OSError:
            return ""
        return text if len(text) <= CRASH_LOG_LIMIT else text[:CRASH_LOG_LIMIT] + "\n…"

    def remove_crash_log(self) -> None:
        with contextlib.suppress(OSError):
            os.remove(self.crash_log)

    def _read(self) -> None:
        connection, sentinel = self._messages, self.process.sentinel
        while True:
            ready = wait([connection, sentinel])
            if connection in ready:  # messages first: they were sent before the process ended
                try:
                    data = connection.recv_bytes()
                except (EOFError, OSError):
                    break
                self._deliver(self._on_message, data)
                continue
            while connection.poll(0):  # dead: what it sent before it died still counts
                try:
                    data = connection.recv_bytes()
                except (EOFError, OSError):
                    break
                self._deliver(self._on_message, data)
            break
        self.process.join(STOP_TIMEOUT)
        with contextlib.suppress(OSError):
            connection.close()
        self._deliver(self._on_exit, self.process.exitcode)

    def _deliver(self, callback: Callable[[RunProcessHandle, Any], None], value: Any) -> None:
        try:
            callback(self, value)
        except RuntimeError:  # the receiver (a Qt object) is gone: the window closed
            pass


_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_main_module() -> Iterator[None]:
    """Start a spawn process that does not import this program's ``__main__`` again.

    ``spawn`` normally re-runs the parent's main script in the child (as ``__mp_main__``), so
    that functions defined there can be unpickled. The run process needs nothing from it (it
    runs ``worker_main.py`` by path and imports plugins by name), and re-running it costs
    time, fails outright when the editor was started from standard input, and would run an
    unguarded script's body (a second editor) in the run process.
    """
    with _START_LOCK:
        original = multiprocessing.spawn.get_preparation_data

        def prepared(name: str) -> dict[str, Any]:
            data = original(name)
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
            return data

        multiprocessing.spawn.get_preparation_data = prepared  # type: ignore[assignment]
        try:
            yield
        finally:
            multiprocessing.spawn.get_preparation_data = original  # type: ignore[assignment]


def describe_exit(code: int | None) -> tuple[str, str]:
    """How a process ended: ``("signal 11", "SIGSEGV, Segmentation fault")`` or ``("exit code 3", "")``."""
    if code is None:
        return "no exit code", ""
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = ""
        return f"signal {number}", ", ".join(part for part in (name, signal.strsignal(number) or "") if part)
    return f"exit code {code}", ""


@atexit.register
def _end_all() -> None:
    # Runs before multiprocessing's own exit handler (registered earlier, so called later),
    # which would otherwise wait forever for a run process that waits for commands.
    for handle in list(_LIVE):
        if handle.process.pid is not None and handle.process.is_alive():
            handle.kill()
            handle.process.join(2.0)
        handle.remove_crash_log()
