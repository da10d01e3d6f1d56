"""Runs the editor's graph in a run process and hands what it reports to the Qt thread.

A run works on the graph as it was when Run was pressed, so the graph stays editable while it
runs. The run process keeps a mirror of the graph: the first run sends the whole graph (its JSON),
later runs only the param and bypass edits made since (node, param, value), unless something
else changed (a node or link added, removed, renamed...), which sends the whole graph again. So
the core re-runs the same graph object and redoes only what the edits affect. The run process (see :mod:`kinograph.gui.run.worker_main`)
stays up between runs, keeping models and caches loaded, so a re-run after an edit only
re-executes what changed. Whatever a node does there (segfault, ``os._exit``, a hang in native
code), the editor stays up: a process that dies fails the run with what was running, a run that
ignores Cancel has its process killed, and the next run starts a new process.

Messages arrive on a reader thread as bytes and reach this object through queued signals, in
the order they were sent; they are read here, on the GUI thread (builtins only: see
:mod:`kinograph.gui.run.wire`).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from kinograph.gui.run import wire
from kinograph.gui.run.plugin_list import describe_plugins
from kinograph.gui.run.previews import from_wire
from kinograph.gui.run.tally import RunTally
from kinograph.gui.run.worker_process import RunProcessHandle, describe_exit
from kinograph.gui.wording import plain, problems_text
from kinograph.host import (
    ChangeKind,
    Event,
    Graph,
    GraphChange,
    Problem,
    RunOptions,
    RunResult,
    StreamCache,
    cache_dir,
)

#: After Cancel, a run process that has said nothing for this long is killed (a node hung in a
#: sleep or in native code never reaches the next cancellation check).
CANCEL_GRACE_SECONDS = 0.5
#: ... and one that keeps talking but has not finished after this long is killed too.
CANCEL_LIMIT_SECONDS = 3.0


@dataclass
class RunRecord:
    """What the editor knows from its runs: the last result, plus each node's latest outputs.

    Outputs (small previews, see :mod:`kinograph.gui.run.previews`), thumbnails and content keys
    are merged across runs, so running only the selected nodes keeps the other nodes' previews,
    and a failing node never drops what other nodes produced. The run process leaves out the
    previews of nodes whose content key the editor has already: those are kept.
    """

    last: RunResult | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    thumbnails: dict[str, bytes] = field(default_factory=dict)

    def take(self, result: RunResult, thumbnails: dict[str, bytes] | None = None) -> None:
        thumbnails = thumbnails or {}
        self.last = result
        for node_id in result.plan:
            state = result.states.get(node_id)
            if state in ("done", "cached") and node_id in result.keys:
                key = result.keys[node_id]
                if node_id in result.outputs or self.keys.get(node_id) != key:
                    self.outputs[node_id] = dict(result.outputs.get(node_id, {}))
                    if node_id in thumbnails:
                        self.thumbnails[node_id] = thumbnails[node_id]
                    else:
                        self.thumbnails.pop(node_id, None)
                self.keys[node_id] = key
                self.failures.pop(node_id, None)
        for failure in result.failures:
            self.failures[failure.node_id] = (failure.message, failure.traceback)
            self.forget_outputs(failure.node_id)

    def forget_outputs(self, node_id: str) -> None:
        self.outputs.pop(node_id, None)
        self.keys.pop(node_id, None)
        self.thumbnails.pop(node_id, None)

    def forget(self, node_id: str | None = None) -> None:
        """Drop one node's results (it was deleted), or everything (another graph was opened)."""
        if node_id is None:
            self.outputs.clear()
            self.keys.clear()
            self.failures.clear()
            self.thumbnails.clear()
            self.last = None
        else:
            self.forget_outputs(node_id)
            self.failures.pop(node_id, None)


@dataclass
class ActiveRun:
    """The run in progress: its id, the process running it, and what its events said so far."""

    id: int
    generation: int
    process: RunProcessHandle
    tally: RunTally
    last_heard: float = field(default_factory=time.monotonic)
    cancel_asked: float | None = None
    killed: bool = False


class RunController(QObject):
    """Starts and cancels runs of one window's graph in its run process; re-emits what it reports."""

    #: A core :class:`Event` (run_started, node_progress, node_failed, ...), on the GUI thread.
    event = Signal(object)
    #: The run began: the :class:`RunOptions` it uses.
    run_started = Signal(object)
    #: The run ended (finished, failed, cancelled, or its process crashed): its :class:`RunResult`.
    run_finished = Signal(object)
    #: The run could not start (invalid graph, unknown device): a message and details in the
    #: editor's words, and the graph's problems as the core gave them (:class:`Problem` each;
    #: empty when the reason is not one of the graph's).
    run_refused = Signal(str, str, list)
    #: True while a run is in progress.
    busy_changed = Signal(bool)
    #: Something about the run process the user should know: text, details.
    notice = Signal(str, str)
    #: The run process reported its state (pid, runs, model loads, loaded libraries): a dict.
    process_stats = Signal(object)
    #: The devices the run process can run on (``["auto", "cpu", "cuda:0", ...]``).
    devices_found = Signal(list)

    # From the reader thread of a run process; queued to the GUI thread, in order.
    _message = Signal(object, object)
    _exited = Signal(object, object)

    def __init__(self, graph: Graph, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.record = RunRecord()
        self.device = "auto"
        #: The disk stream cache the run process writes and the viewer reads frames from.
        self.streams = StreamCache(cache_dir() / "streams")
        #: What the run process said about itself last (pid, runs, model_loads, modules).
        self.stats: dict[str, Any] = {}
        #: Bumped when the window takes another graph: results of a run started before belong
        #: to the old graph and are dropped.
        self.generation = 0
        self._run_generation = 0
        #: "graph" or "edits": what the last run request sent (tests and the log look)
        self.last_request_kind = ""
        self.cancel_grace = CANCEL_GRACE_SECONDS
        self.cancel_limit = CANCEL_LIMIT_SECONDS
        self._process: RunProcessHandle | None = None
        self._process_plugins: list[dict[str, Any]] = []
        self._run: ActiveRun | None = None
        # What the run process's mirror of the graph lacks (see the module docstring).
        self._mirror_in: RunProcessHandle | None = None
        self._mirror_base: str | None = None
        self._param_edits: dict[tuple[str, str], None] = {}  # ordered set of (node, param)
        self._bypass_edits: dict[str, None] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._watch = QTimer(self)
        self._watch.setInterval(50)
        self._watch.timeout.connect(self._check_cancel)
        self._message.connect(self._on_message, Qt.ConnectionType.QueuedConnection)
        self._exited.connect(self._on_exit, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = graph.subscribe(self._graph_changed)

    @property
    def busy(self) -> bool:
        return self._run is not None

    @property
    def run_is_current(self) -> bool:
        """False while a run started on a graph the window no longer shows is winding down."""
        return self._run_generation == self.generation

    @property
    def process_pid(self) -> int | None:
        """The pid of the run process, while one is up."""
        return self._process.pid if self._process is not None else None

    # -- commands --

    def start(self, targets: list[str] | None = None) -> bool:
        """Run the graph as it is now (only what ``targets`` need, when given); False if busy."""
        if self.busy or self._closed:
            return False
        options = RunOptions(device=self.device, targets=list(targets) if targets else None,
                             stream_cache="outputs")
        process = self._ensure_process()
        request = {**self._graph_request(process), "options": dataclasses.asdict(options),
                   "known": dict(self.record.keys)}
        tally = RunTally(options, {node_id: node.type for node_id, node in self.graph.nodes.items()})
        run = ActiveRun(next(self._ids), self.generation, process, tally)
        self._run = run
        self._run_generation = run.generation
        process.send(("run", run.id, request))  # if it died meanwhile, its exit ends the run
        self.busy_changed.emit(True)
        self.run_started.emit(options)
        return True

    def _graph_request(self, process: RunProcessHandle) -> dict[str, Any]:
        """The whole graph, or only the edits the process's mirror of it lacks."""
        base_dir = str(self.graph.base_dir) if self.graph.base_dir else None
        if self._mirror_in is process and self._mirror_base == base_dir:
            nodes = self.graph.nodes
            edits = [(node_id, name, copy.deepcopy(nodes[node_id].params.get(name)))
                     for node_id, name in self._param_edits if node_id in nodes]
            bypass = [(node_id, nodes[node_id].bypass) for node_id in self._bypass_edits if node_id in nodes]
            request: dict[str, Any] = {"edits": edits, "bypass": bypass}
        else:
            request = {"graph": self.graph.to_json(), "base_dir": base_dir}
            self._mirror_in, self._mirror_base = process, base_dir
        self._param_edits.clear()
        self._bypass_edits.clear()
        self.last_request_kind = "graph" if "graph" in request else "edits"
        return request

    def _graph_changed(self, change: GraphChange) -> None:
        if change.kind == ChangeKind.PARAM_CHANGED and change.node_id and change.name:
            self._param_edits[(change.node_id, change.name)] = None
        elif change.kind == ChangeKind.BYPASS_CHANGED and change.node_id:
            self._bypass_edits[change.node_id] = None
        elif change.kind not in (ChangeKind.UI_CHANGED, ChangeKind.META_CHANGED, ChangeKind.NODES_REORDERED):
            self._mirror_in = None  # anything else: the next run sends the whole graph

    def warm_up(self, modules: list[str]) -> None:
        """Start the run process now and let it import ``modules`` while nothing runs."""
        if not self._closed:
            self._ensure_process().send(("warm", list(modules)))

    def look_up_devices(self) -> None:
        """Ask the run process which devices it can use; :attr:`devices_found` answers.

        Finding CUDA or MPS devices imports torch: the run process does it, never the editor.
        """
        if not self._closed:
            self._ensure_process().send(("devices",))

    def forget(self) -> None:
        """The window took another graph: drop all results and cancel a run of the old one."""
        self.generation += 1
        self.record.forget()
        self.cancel()

    def cancel(self) -> None:
        """Ask the run to stop (streams stop at the next chunk, writers leave no file behind).

        A run that has not stopped and said nothing within :data:`CANCEL_GRACE_SECONDS` (a node
        hung where it never checks for cancellation) has its process killed.
        """
        run = self._run
        if run is None or run.cancel_asked is not None:
            return
        run.cancel_asked = time.monotonic()
        run.process.send(("cancel", run.id))
        self._watch.start()

    def shutdown(self) -> None:
        """The window is closing: end the run process (its run is cancelled; killed if it hangs)."""
        self._closed = True
        self._unsubscribe()
        self._watch.stop()
        process, self._process = self._process, None
        self._run = None
        if process is not None:
            process.stop(timeout=1.0)

    # -- the run process --

    def _ensure_process(self) -> RunProcessHandle:
        addresses, unnamed = describe_plugins(self.graph.registry)
        plugins = [a.to_wire() for a in addresses]
        unchanged = plugins == self._process_plugins or self._run is not None  # never swap mid-run
        if self._process is not None and self._process.alive and unchanged:
            return self._process
        if self._process is not None:  # plugins were registered since it started: a fresh one
            old, self._process = self._process, None
            old.stop(timeout=1.0)
        process = RunProcessHandle(plugins, self._message.emit, self._exited.emit)
        process.start()
        self._process = process
        self._process_plugins = plugins
        if unnamed:
            self.notice.emit(
                f"Plugin(s) {', '.join(unnamed)} cannot be loaded by the run process (defined inside a "
                "function or not importable by name): their nodes cannot run.", "")
        return process

    @Slot(object, object)
    def _on_message(self, process: RunProcessHandle, data: bytes) -> None:
        if process is not self._process:
            return  # a process this window stopped or replaced
        message = wire.loads(data)
        kind = message[0]
        run = self._run
        if run is not None:
            run.last_heard = time.monotonic()
        if kind in ("ready", "warmed"):
            self.stats.update(message[1])
            problems = [p for p in message[1].get("problems", []) if p not in self.graph.registry.problems()]
            if problems:
                self.notice.emit("The run process could not load every plugin: "
                                 + "; ".join(f"{name}: {error}" for name, error in problems), "")
            self.process_stats.emit(dict(self.stats))
            return
        if kind == "devices":
            self.devices_found.emit([str(name) for name in message[1]])
            return
        if run is None or message[1] != run.id:
            return
        if kind == "event":
            event = Event(message[2], message[3], message[4], message[5])
            run.tally.add(event)
            if run.generation == self.generation:
                self.event.emit(event)
        elif kind == "done":
            result = wire.result_from_record(message[2])
            result.outputs = {node: {port: from_wire(value) for port, value in ports.items()}
                              for node, ports in result.outputs.items()}
            self.stats.update(message[4])
            self.process_stats.emit(dict(self.stats))
            self._finish(run, result, message[3])
        elif kind == "refused":
            problems = [Problem(*part) for part in (message[4] if len(message) > 4 else [])]
            if problems:
                # In the editor's words: the node and the field as the canvas and the inspector
                # name them, no command-line advice (see wording.py).
                details = problems_text(problems, self.graph)
                text = "The graph cannot run: " + "; ".join(details.splitlines())
            else:
                text, details = plain(message[2]), plain(message[3])
            self._refuse(run, text, details, problems)

    @Slot(object, object)
    def _on_exit(self, process: RunProcessHandle, code: int | None) -> None:
        if process is not self._process:
            process.remove_crash_log()
            return
        self._process = None
        stack = process.crash_text()
        process.remove_crash_log()
        run = self._run
        how, detail = describe_exit(code)
        if run is None:
            self.notice.emit(f"The run process ended ({how}{', ' + detail if detail else ''}); "
                             "the next run starts a new one.", stack)
            return
        if run.killed:
            waited = time.monotonic() - (run.cancel_asked or time.monotonic())
            self.notice.emit(f"The run did not stop within {waited:.1f} s of Cancel, so its process was "
                             "ended; the next run starts a new one (models load again).", "")
            events, result = run.tally.killed()
        elif not run.tally.started:
            self._refuse(run, f"The run's process crashed ({how}) before the run started"
                              f"{' (' + detail + ')' if detail else ''}; the next run starts a new one.", stack)
            return
        else:
            events, result = run.tally.crashed(how, detail, stack)
        if run.generation == self.generation:
            for event in events:
                self.event.emit(event)
        self._finish(run, result, {})

    def _check_cancel(self) -> None:
        run = self._run
        if run is None or run.cancel_asked is None or run.killed:
            self._watch.stop()
            return
        now = time.monotonic()
        silent = now - max(run.last_heard, run.cancel_asked)
        if silent >= self.cancel_grace or now - run.cancel_asked >= self.cancel_limit:
            run.killed = True
            self._watch.stop()
            run.process.kill()  # its exit arrives through the reader and ends the run

    def _finish(self, run: ActiveRun, result: RunResult, thumbnails: dict[str, bytes]) -> None:
        self._run = None
        self._watch.stop()
        current = run.generation == self.generation
        if current:
            self.record.take(result, thumbnails)
        self.busy_changed.emit(False)
        if current:
            self.run_finished.emit(result)

    def _refuse(self, run: ActiveRun, message: str, details: str, problems: list[Problem] | None = None) -> None:
        self._mirror_in = None  # whatever went wrong, the next run starts from the whole graph
        self._run = None
        self._watch.stop()
        self.busy_changed.emit(False)
        if run.generation == self.generation:
            self.run_refused.emit(message, details, problems or [])
