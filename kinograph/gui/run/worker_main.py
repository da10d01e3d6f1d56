"""The run process: runs the editor's graphs away from its window, so a bad node cannot take it down.

The editor starts this file with ``multiprocessing`` (context ``spawn``) through
:func:`runpy.run_path`, not as ``kinograph.gui.run.worker_main``: importing it as a module would
import the ``kinograph.gui`` package first, and with it Qt, which has no business here. So this
file imports only the host API, the standard library and its two Qt-free siblings
(``plugin_list.py``, ``previews.py``, loaded by path), and everything it sends is builtins or
host API records (:class:`RunResult`, :class:`Failure`), so the editor imports nothing new to read
a message.

One process serves many runs: models (``session.models``), the value cache and the disk stream
cache stay loaded between them, so a second run does not load the ResNet again.

It keeps a **mirror** of the editor's graph: a run request carries either the whole graph (the
first run, and after any edit other than a param or bypass change), which replaces the mirror,
or just the param and bypass edits made since the last run, applied to the mirror with the
graph's own operations. The session then runs that same :class:`Graph` object again, which lets
the core re-run only what the edits affect (nodes not downstream keep their state and emit no
events): a slider drag re-runs only what the param feeds.

Messages, each one tuple of builtins written with marshal (:mod:`kinograph.gui.run.wire`):

- editor -> here: ``("run", run_id, request)`` (request: ``graph`` JSON and ``base_dir``, or
  ``edits`` [(node, param, value)] and ``bypass`` [(node, flag)]; ``options``, ``known``),
  ``("cancel", run_id)``, ``("warm", modules)``,
  ``("devices",)``, ``("stop",)``;
- here -> editor: ``("ready", info)``, ``("event", run_id, kind, node_id, data, time)``,
  ``("done", run_id, result record, thumbnails, stats)``, ``("refused", run_id, message, details[, problems])``
  (problems: (where, message, hint) of each, when the graph itself is the reason),
  ``("warmed", info)``, ``("devices", names)``.

Events go out in the order the run emits them; only ``node_progress`` events of one node are
merged when they come faster than :data:`PROGRESS_INTERVAL` (the last one always goes out before
any later event), so a stream of small chunks cannot flood the editor's event loop.
"""

from __future__ import annotations

import faulthandler
import gc
import importlib
import importlib.util
import os
import queue
import sys
import threading
import time
import traceback
from collections import OrderedDict
from pathlib import Path
from types import ModuleType
from typing import Any

from kinograph.host import (
    CancelToken,
    Graph,
    GraphError,
    KinographError,
    RunOptions,
    RunResult,
    Session,
    available_devices,
)

#: The ``__name__`` this file runs under in the run process (see the module docstring).
RUN_NAME = "kinograph_run_process"
#: At most one progress message per node this often (seconds); the latest always gets through.
PROGRESS_INTERVAL = 0.03
#: When the editor is gone, a run that ignores cancellation gets this long before the process ends.
ORPHAN_GRACE = 2.0
#: Previews kept per content key, so a re-run does not encode the same image again.
PREVIEW_CACHE_ENTRIES = 64


class Outbox:
    """Sends messages to the editor in order, from any thread; merges fast progress messages."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.lock = threading.Lock()
        self.pending: OrderedDict[Any, tuple[Any, ...]] = OrderedDict()
        self.last_progress: dict[Any, float] = {}
        self.broken = False

    def send(self, message: tuple[Any, ...]) -> None:
        with self.lock:
            self._flush()
            self._send(message)

    def progress(self, key: Any, message: tuple[Any, ...]) -> None:
        """Send a progress message now, or keep it until the node's interval passed (the newest wins)."""
        with self.lock:
            now = time.monotonic()
            if not self.pending and now - self.last_progress.get(key, 0.0) >= PROGRESS_INTERVAL:
                self.last_progress[key] = now
                self._send(message)
            else:
                self.pending.pop(key, None)
                self.pending[key] = message

    def flush(self) -> None:
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        now = time.monotonic()
        for key, message in self.pending.items():
            self.last_progress[key] = now
            self._send(message)
        self.pending.clear()

    def _send(self, message: tuple[Any, ...]) -> None:
        if self.broken:
            return
        try:
            self.connection.send_bytes(_sibling("wire").dumps(message))
        except (OSError, EOFError, ValueError):
            self.broken = True  # the editor is gone; the inbox sees it too and ends this process


def _sibling(name: str) -> ModuleType:
    """Load a Qt-free module of this folder by path (importing the package would import Qt)."""
    qualified = f"{RUN_NAME}_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def import_quietly(name: str) -> bool:
    """Import ``name`` if it is installed; False when missing or broken (a node reports that)."""
    if name in sys.modules:
        return True
    try:
        if importlib.util.find_spec(name.partition(".")[0]) is None:
            return False
        importlib.import_module(name)
    except Exception:
        return False
    return True


class RunProcess:
    """The run process's side: one session, a queue of jobs, an inbox thread for cancel and stop."""

    def __init__(self, commands: Any, messages: Any, plugins: list[dict[str, Any]], crash_log: str = "") -> None:
        if crash_log:
            # A segfault writes the Python stack of every thread here; the editor shows it.
            self._crash_file = open(crash_log, "w")  # open for the life of the process
            faulthandler.enable(self._crash_file, all_threads=True)
        self.previews = _sibling("previews")
        self.wire = _sibling("wire")
        plugin_list = _sibling("plugin_list")
        self.commands = commands
        self.outbox = Outbox(messages)
        self.registry = plugin_list.build_registry(plugins)
        self.session = Session(self.registry)
        self.jobs: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self.tokens: dict[int, CancelToken] = {}
        #: the editor's graph as of its last run request (see the module docstring)
        self.mirror: Graph | None = None
        self.runs = 0
        self.frozen = False
        self.preview_cache: OrderedDict[str, tuple[dict[str, Any], bytes | None]] = OrderedDict()

    def serve(self) -> None:
        self.outbox.send(("ready", {"pid": os.getpid(), "problems": self.registry.problems(),
                                    "modules": self.modules()}))
        threading.Thread(target=self._inbox, name="kinograph-run-inbox", daemon=True).start()
        threading.Thread(target=self._flusher, name="kinograph-run-flush", daemon=True).start()
        while True:
            job = self.jobs.get()
            if job is None:
                break
            if job[0] == "run":
                _, run_id, request, token = job
                try:
                    self.run(run_id, request, token)
                finally:
                    self.tokens.pop(run_id, None)
            elif job[0] == "warm":
                self.warm(job[1])
        self.outbox.flush()

    # -- the inbox: cancel must get through while the main thread runs a graph --

    def _inbox(self) -> None:
        while True:
            try:
                message = self.wire.loads(self.commands.recv_bytes())
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "run":
                token = CancelToken()
                self.tokens[message[1]] = token
                self.jobs.put(("run", message[1], message[2], token))
            elif kind == "cancel":
                token = self.tokens.get(message[1])
                if token is not None:
                    token.cancel()
            elif kind == "warm":
                self.jobs.put(("warm", list(message[1])))
            elif kind == "devices":
                # Answered here, not after the run in progress: finding GPUs may import torch,
                # which is why the editor asks this process rather than doing it itself.
                try:
                    devices = available_devices()
                except Exception:
                    devices = ["auto", "cpu"]
                self.outbox.send(("devices", devices))
            elif kind == "stop":
                break
        # The editor asked us to stop, or is gone: stop the run and leave. A node that ignores
        # cancellation must not keep this process alive without its editor.
        for token in list(self.tokens.values()):
            token.cancel()
        self.jobs.put(None)
        timer = threading.Timer(ORPHAN_GRACE, os._exit, args=(0,))
        timer.daemon = True
        timer.start()

    def _flusher(self) -> None:
        while not self.outbox.broken:
            time.sleep(PROGRESS_INTERVAL)
            self.outbox.flush()

    # -- jobs --

    def warm(self, modules: list[str]) -> None:
        """Import the libraries runs need while the user is not running anything yet."""
        imported = []
        for name in modules:
            if not self.jobs.empty():  # a run is waiting: it imports what it needs itself
                break
            if name not in sys.modules and import_quietly(name):
                imported.append(name)
        self.freeze_imports()
        self.outbox.send(("warmed", {"imported": imported, "modules": self.modules(), "frozen": gc.get_freeze_count()}))

    def freeze_imports(self) -> None:
        """What was imported lives as long as this process. Freezing it keeps the collector's
        full passes from walking torch & co. (about 90 ms each here, a stalled live update every
        few dozen edits; benchmarks/live_updates.py). Done once: after the warm-up, or after the
        first run of a process that was not warmed up (one started again after a kill)."""
        if not self.frozen:
            self.frozen = True
            gc.collect()  # only what is alive is frozen; later garbage is collected as usual
            gc.freeze()

    def run(self, run_id: int, request: dict[str, Any], token: CancelToken) -> None:
        plain = self.previews.plain

        def forward(event: Any) -> None:
            message = ("event", run_id, event.kind, event.node_id, plain(event.data), event.time)
            if event.kind == "node_progress":
                self.outbox.progress((run_id, event.node_id), message)
            else:
                self.outbox.send(message)

        try:
            graph = self.mirror_of(request)
            result = self.session.run(graph, RunOptions(**request["options"]), [forward], token)
        except GraphError as exc:
            problems = exc.describe()
            # Also each problem as (where, message, hint): the editor words them its own way.
            parts = [(str(p.where), str(p.message), str(p.hint)) for p in exc.problems]
            self.outbox.send(("refused", run_id, "The graph cannot run: " + "; ".join(problems.splitlines()),
                              problems, parts))
            return
        except KinographError as exc:
            self.outbox.send(("refused", run_id, str(exc), traceback.format_exc()))
            return
        except Exception as exc:  # a bug somewhere below: report it, keep serving
            self.outbox.send(("refused", run_id,
                              f"The run stopped on an internal error: {type(exc).__name__}: {exc}",
                              traceback.format_exc()))
            return
        self.runs += 1
        outputs, thumbnails = self.previews_of(graph, result, request.get("known", {}))
        self.outbox.send(("done", run_id, self.wire.result_record(result, outputs), thumbnails, self.stats()))
        self.freeze_imports()  # after the reply, so the run's end is not delayed

    def mirror_of(self, request: dict[str, Any]) -> Graph:
        """The graph to run: a new mirror from the request's JSON, or the mirror with its edits."""
        if "graph" in request:
            self.mirror = None  # a graph that fails to load leaves no stale mirror behind
            base_dir = request.get("base_dir")
            self.mirror = Graph.from_json(request["graph"], self.registry, Path(base_dir) if base_dir else None)
            return self.mirror
        mirror = self.mirror
        if mirror is None:
            raise KinographError("the run process lost the graph; run again (it is sent whole)")
        for node_id, name, value in request.get("edits", []):
            # As the editor has it, valid or not: the run's validation names what is wrong.
            mirror.set_params(node_id, {name: value}, check=False)
        for node_id, bypass in request.get("bypass", []):
            mirror.set_bypass(node_id, bypass)
        return mirror

    def stats(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "runs": self.runs, "model_loads": self.session.models.loads,
                "modules": self.modules(), "frozen": gc.get_freeze_count()}

    @staticmethod
    def modules() -> dict[str, bool]:
        """Which heavy libraries this process has loaded (the editor's tests and benchmark ask)."""
        return {name: name in sys.modules for name in ("torch", "cv2", "av", "numpy", "PySide6")}

    def previews_of(self, graph: Graph, result: RunResult,
                    known: dict[str, str]) -> tuple[dict[str, dict[str, Any]], dict[str, bytes]]:
        """Previews and thumbnails of the nodes that produced something the editor does not have yet."""
        outputs: dict[str, dict[str, Any]] = {}
        thumbnails: dict[str, bytes] = {}
        for node_id in result.plan:
            key = result.keys.get(node_id)
            if result.states.get(node_id) not in ("done", "cached") or key is None or known.get(node_id) == key:
                continue
            entry = self.preview_cache.get(key)
            if entry is None:
                entry = self._preview(graph, node_id, key, result.outputs.get(node_id, {}))
                self.preview_cache[key] = entry
                while len(self.preview_cache) > PREVIEW_CACHE_ENTRIES:
                    self.preview_cache.popitem(last=False)
            else:
                self.preview_cache.move_to_end(key)
            outputs[node_id] = entry[0]
            if entry[1] is not None:
                thumbnails[node_id] = entry[1]
        return outputs, thumbnails

    def _preview(self, graph: Graph, node_id: str, key: str,
                 values: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        previews = self.previews
        shown: dict[str, Any] = {}
        thumbnail: bytes | None = None
        node = graph.nodes.get(node_id)
        cls = self.registry.node(node.type) if node is not None else None
        port_types = {port.name: port.type for port in cls.outputs} if cls is not None else {}
        for port, value in values.items():
            try:
                # A plugin's own preview of its port type comes first (kinograph_previews hook).
                drawn = self.registry.preview(port_types[port], value) if port in port_types else None
                if drawn is not None:
                    shown[port] = previews.wire_plugin_preview(drawn)
                    if drawn.get("kind") == "image" and thumbnail is None:
                        thumbnail = previews.thumbnail_png(drawn["image"])
                    continue
                shown[port] = previews.wire_preview(value)
                pixels = previews.image_pixels(value) if thumbnail is None else None
                if pixels is not None:
                    thumbnail = previews.thumbnail_png(pixels)
            except Exception as exc:  # a preview must never cost the run its result
                shown[port] = previews.wire_preview(f"(no preview: {type(exc).__name__}: {exc})")
        if thumbnail is None:
            thumbnail = self._stream_thumbnail(graph, node_id, key)
        return shown, thumbnail

    def _stream_thumbnail(self, graph: Graph, node_id: str, key: str) -> bytes | None:
        """The middle frame of a stream the run kept in the disk cache, as a thumbnail."""
        node = graph.nodes.get(node_id)
        cls = self.registry.node(node.type) if node is not None else None
        for port in cls.outputs if cls is not None else ():
            stream_key = f"{key}-{port.name}"
            try:
                manifest = self.session.streams.manifest(stream_key)
                if manifest and manifest.get("frame_count"):
                    frame = self.session.streams.read_frame(stream_key, int(manifest["frame_count"]) // 2)
                    if frame is not None:
                        return self.previews.thumbnail_png(frame)
            except Exception:
                return None
        return None


def main(commands: Any, messages: Any, plugins: list[dict[str, Any]], crash_log: str = "") -> None:
    """Serve runs until the editor says stop or goes away."""
    RunProcess(commands, messages, plugins, crash_log).serve()


if __name__ == RUN_NAME:
    main(**WORKER_ARGS)  # type: ignore[name-defined]  # noqa: F821 - given by the editor (runpy init_globals)
