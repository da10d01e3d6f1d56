"""Stopping a run on SIGINT, SIGTERM and SIGHUP alike: cancel cleanly, then exit 128 + signal.

Ctrl+C, ``kill``, ``timeout`` and a closed terminal all ask the run to stop between chunks, so
temporary files are removed and nothing is left at an output path. A second signal stops at
once (KeyboardInterrupt), which still runs the cleanup of the files being written.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Signals that stop a run, with the exit code each leads to (128 + signal number).
STOP_SIGNALS = tuple(
    s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None
)


@dataclass
class Stop:
    """Which signal asked the run to stop (None while none has)."""

    signum: int | None = None

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum) if self.signum is not None else 130


@contextmanager
def stop_on_signals(cancel: Callable[[], None], say: Callable[[str], None]) -> Iterator[Stop]:
    """Route the stop signals to ``cancel`` while the block runs; restore the old handlers after."""
    stop = Stop()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.signum is not None:
            raise KeyboardInterrupt
        stop.signum = signum
        name = signal.Signals(signum).name
        say(f"cancelling on {name}... (send it again to stop at once)")
        cancel()

    previous = {}
    for signum in STOP_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, on_signal)
        except (ValueError, OSError):  # not the main thread, or not allowed here
            continue
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
