"""Stream plumbing for the scheduler: per-stage accounting and bounded fan-out.

Sinks pull; each chunk a stage yields is checked, timed and counted for the node that made it,
so its errors, progress, time and cancellation belong to that node, not to the sink pulling.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from kinograph.core.context import CancelToken
from kinograph.core.errors import Cancelled, UpstreamFailed
from kinograph.core.frames import FrameChunk, FrameStream


class _ChildTime(threading.local):
    """Per thread: seconds the stages called from the one being measured spent."""

    child = 0.0


_local = _ChildTime()


class OwnTime:
    """Measures one stage's own time on this thread: pulls into upstream stages are left out.

    A stage (or a sink's ``run``) calls :meth:`start` before it works and :meth:`stop` after;
    stages it pulls from in between do the same, and their time is subtracted from its own.
    """

    __slots__ = ("saved", "started")

    def __init__(self) -> None:
        self.saved = _local.child
        _local.child = 0.0
        self.started = time.perf_counter()

    def stop(self) -> float:
        """End the measure; return the seconds that were this stage's own."""
        elapsed = time.perf_counter() - self.started
        own = elapsed - _local.child
        _local.child = self.saved + elapsed
        return own

    def abandon(self) -> None:
        """End the measure without counting it (the stage raised)."""
        _local.child = self.saved


class WallTime:
    """:class:`OwnTime`'s interface for work that pulls no stream: its wall time is its own."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def stop(self) -> float:
        return time.perf_counter() - self.started

    def abandon(self) -> None:
        pass


class StageHooks:
    """Callbacks the scheduler gives a traced stage (all called on the pulling thread)."""

    def __init__(
        self,
        on_progress: Callable[[int, int | None], None],
        on_finished: Callable[[float], None],
        on_failed: Callable[[BaseException], None],
        on_pulled: Callable[[], None] | None = None,
    ) -> None:
        self.on_progress = on_progress
        self.on_finished = on_finished
        self.on_failed = on_failed
        #: called once, when a consumer first pulls (a stream never pulled did no work)
        self.on_pulled = on_pulled


def traced(stream: FrameStream, node_id: str, cancel: CancelToken, hooks: StageHooks) -> FrameStream:
    """Wrap a node's output stream so that its work is accounted to ``node_id``.

    Time spent inside upstream stages is subtracted, so each node's seconds are its own.
    """

    def chunks() -> Iterator[FrameChunk]:
        if hooks.on_pulled is not None:
            hooks.on_pulled()
        iterator = iter(stream)
        own = 0.0
        frames = 0
        while True:
            if cancel.cancelled:
                raise Cancelled("run cancelled")
            clock = OwnTime()
            try:
                chunk = next(iterator)
            except StopIteration:
                own += clock.stop()
                hooks.on_finished(own)
                return
            except (Cancelled, UpstreamFailed):
                clock.abandon()
                raise
            except BaseException as exc:
                clock.abandon()
                hooks.on_failed(exc)
                raise UpstreamFailed(node_id) from exc
            own += clock.stop()
            problem = chunk.problem(stream.width, stream.height) if isinstance(chunk, FrameChunk) else (
                f"yielded {type(chunk).__name__}, expected FrameChunk"
            )
            if problem:
                error = TypeError(f"stream output breaks the frame contract: {problem}")
                hooks.on_failed(error)
                raise UpstreamFailed(node_id)
            frames += chunk.count
            hooks.on_progress(frames, stream.frame_count)
            yield chunk

    return stream.derive(chunks)


class Tee:
    """Splits one stream between consumers that pull in step through a bounded buffer.

    Each consumer runs on its own thread. The consumer that needs a chunk nobody has pulled yet
    pulls it from the source; one that runs ahead by ``limit`` chunks waits for the slowest.
    """

    def __init__(self, stream: FrameStream, consumers: int, limit: int = 4) -> None:
        self.stream = stream
        self.limit = limit
        self._source: Iterator[FrameChunk] | None = None
        self._buffers: list[deque[Any]] = [deque() for _ in range(consumers)]
        self._closed = [False] * consumers
        self._done = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._pulling = False
        self.peak = 0

    def branch(self, index: int) -> FrameStream:
        return self.stream.derive(lambda: self._iterate(index))

    def close(self, index: int) -> None:
        """The consumer ``index`` is done (finished, failed or stopped early): stop waiting for it."""
        with self._cond:
            self._closed[index] = True
            self._buffers[index].clear()
            self._cond.notify_all()

    def _iterate(self, index: int) -> Iterator[FrameChunk]:
        try:
            while True:
                item = self._next(index)
                if item is None:
                    return
                yield item
        finally:
            with self._cond:
                self._closed[index] = True
                self._buffers[index].clear()
                self._cond.notify_all()

    def _next(self, index: int) -> FrameChunk | None:
        with self._cond:
            while True:
                buffer = self._buffers[index]
                if buffer:
                    self._cond.notify_all()
                    return buffer.popleft()
                if self._error is not None:
                    raise self._error
                if self._done:
                    return None
                others_full = any(
                    len(b) >= self.limit for i, b in enumerate(self._buffers) if i != index and not self._closed[i]
                )
                if self._pulling or others_full:
                    self._cond.wait(0.5)
                    continue
                self._pulling = True
                break
        try:
            if self._source is None:
                self._source = iter(self.stream)
            chunk = next(self._source, None)
            error = None
        except BaseException as exc:  # delivered to every consumer
            chunk, error = None, exc
        with self._cond:
            self._pulling = False
            if error is not None:
                self._error = error
            elif chunk is None:
                self._done = True
            else:
                for i, buffer in enumerate(self._buffers):
                    if not self._closed[i]:
                        buffer.append(chunk)
                self.peak = max(self.peak, max(len(b) for b in self._buffers))
            self._cond.notify_all()
        return self._next(index)
