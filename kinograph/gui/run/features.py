"""Running from the editor: Run / Run selected / Cancel, device choice, badges, viewer, log, autosave.

:func:`attach_run_features` adds all of it to a :class:`MainWindow`; the window itself knows
nothing about running. Graphs run in a separate run process (:mod:`kinograph.gui.run.controller`),
so a node that crashes or hangs fails its run, never the editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QComboBox, QDockWidget, QLabel, QMenu, QMessageBox, QWidget

from kinograph.gui import settings, shortcuts
from kinograph.gui.autosave import Autosaver
from kinograph.gui.log_dock import LogPanel
from kinograph.gui.run.badges import RunBadges
from kinograph.gui.run.controller import RunController
from kinograph.gui.run.warmup import LibraryWarmup
from kinograph.gui.viewer import ViewerPanel
from kinograph.gui.wording import problem_parts
from kinograph.host import Event, Graph, Problem, RunResult

if TYPE_CHECKING:
    from kinograph.gui.main_window import MainWindow

__all__ = ["RunFeatures", "attach_run_features"]

#: Param edits within this long make one live update (a slider drag sends many).
LIVE_DELAY_MS = 100


class DeviceBox(QComboBox):
    """The device selector: auto and cpu at once; CUDA/MPS devices are looked up when it opens.

    Finding GPUs imports torch (a second or more), so the run process does it, and only once
    the user opens the box; the devices it finds are added as they arrive (the open list too).
    """

    def __init__(self, controller: RunController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItems(["auto", "cpu"])
        self.setToolTip("Device to run on (auto: CUDA, then MPS, then the CPU)")
        self._looked_up = False
        self.controller = controller
        controller.devices_found.connect(self.add_devices)

    def look_up(self) -> None:
        if self._looked_up:
            return
        self._looked_up = True
        self.controller.look_up_devices()

    def add_devices(self, devices: list[str]) -> None:
        current = self.currentText()
        for device in devices:
            if self.findText(device) < 0:
                self.addItem(device)
        self.setCurrentText(current)

    def showPopup(self) -> None:
        self.look_up()
        super().showPopup()


class RunFeatures(QObject):
    """Everything running adds to one window; made by :func:`attach_run_features`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller = RunController(window.graph, parent=self)
        self.badges = RunBadges(window)
        self.viewer = ViewerPanel(self.controller, window.registry, window)
        self.log = LogPanel(window)
        self.autosaver = Autosaver(window)
        # The first run should not wait for the run process to start and import torch & co.
        self.warmup = LibraryWarmup(self, self.controller)
        self.viewer_dock: QDockWidget = window.add_dock("Viewer", self.viewer, Qt.DockWidgetArea.RightDockWidgetArea)
        self.log_dock: QDockWidget = window.add_dock("Log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)
        # The log is a strip along the bottom; the canvas keeps most of the height.
        window.resizeDocks([self.log_dock], [150], Qt.Orientation.Vertical)
        # The inspector keeps room for a node's params (sliders, paths) above the viewer, which
        # Qt would otherwise make the larger of the two while it only says "run the graph".
        window.resizeDocks([window.inspector_dock, self.viewer_dock], [11, 9], Qt.Orientation.Vertical)
        self._docks_sized = False
        if window.isVisible():
            self._size_side_docks()
        #: what the last run was asked to run (None: the output nodes); live updates run it again
        self.last_targets: list[str] | None = None
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DELAY_MS)
        self._live_timer.timeout.connect(self._live_update)
        self._live_waiting = False  # an edit came during a run: one more live update after it
        self._build_actions()
        self._connect()
        self._closed = False
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._quitting)

    # -- building --

    def _build_actions(self) -> None:
        window = self.window
        self.run_action = self._action("run", "▶ Run", "Run the graph", self.run)
        self.run_selected_action = self._action(
            "run_selected", "Run selected", "Run only what the selected nodes need", self.run_selected)
        self.cancel_action = self._action("cancel_run", "■ Cancel", "Cancel the run", self.cancel)
        self.cancel_action.setEnabled(False)
        self.device_box = DeviceBox(self.controller, window)
        self.device_box.currentTextChanged.connect(self._device_chosen)
        self.run_state = QLabel("", window)
        self.run_state.setStyleSheet("color: #9aa0a6; padding: 0 6px;")
        toolbar = window.toolbar
        toolbar.addSeparator()
        toolbar.addAction(self.run_action)
        toolbar.addAction(self.run_selected_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addWidget(QLabel(" device ", window))
        toolbar.addWidget(self.device_box)
        toolbar.addWidget(self.run_state)
        menu = window.menuBar().addMenu("&Run")
        for action in (self.run_action, self.run_selected_action, self.cancel_action):
            menu.addAction(action)
        self.thumbnails_action = QAction("Thumbnails on Nodes", window)
        self.thumbnails_action.setCheckable(True)
        self.thumbnails_action.setChecked(True)
        self.thumbnails_action.toggled.connect(self.badges.set_show_thumbnails)
        window.actions["thumbnails"] = self.thumbnails_action
        menu.addSeparator()
        menu.addAction(self.thumbnails_action)
        self.live_action = QAction("Live Updates", window)
        self.live_action.setCheckable(True)
        self.live_action.setChecked(settings.setting("live_updates", False))
        self.live_action.setToolTip("Re-run what a param feeds as you change it (a slider drag updates the "
                                    "viewer as you go); off for graphs that take long to run")
        self.live_action.toggled.connect(self._live_toggled)
        window.actions["live_updates"] = self.live_action
        menu.addAction(self.live_action)
        window.context_menu_extras.append(self._node_menu)

    def _action(self, name: str, text: str, tip: str, slot: object) -> QAction:
        # Keys come from the one table of shortcuts, which the help dialog (F1) lists.
        keys = shortcuts.keys_for(name)
        action = QAction(text, self.window)
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip} ({keys.toString()})" if not keys.isEmpty() else tip)
        action.triggered.connect(slot)
        self.window.addAction(action)
        self.window.actions[name] = action
        return action

    def _connect(self) -> None:
        controller = self.controller
        controller.event.connect(self._on_event)
        controller.run_finished.connect(self._on_finished)
        controller.run_refused.connect(self._on_refused)
        controller.busy_changed.connect(self._on_busy)
        controller.notice.connect(self._on_notice)
        self.window.scene.selectionChanged.connect(self._selection_changed)
        self.log.node_clicked.connect(self._select_node)
        self._unsubscribe = self.window.graph.subscribe(self._graph_changed)

    # -- actions --

    def run(self) -> bool:
        """Run the whole graph (its output nodes); False when a run is already going."""
        return self._start(None)

    def run_selected(self) -> bool:
        """Run only what the selected nodes need."""
        ids = self.window.scene.selected_node_ids()
        if not ids:
            self.window.show_status("Select the nodes to run first (Run selected runs what they need).")
            return False
        return self._start(ids)

    def run_to(self, node_id: str) -> bool:
        """Run to here: run what one node needs, up to and including it."""
        return self._start([node_id], what=node_id)

    def _start(self, targets: list[str] | None, what: str = "", live: bool = False) -> bool:
        if self.controller.busy:
            self.window.show_status("A run is already going: cancel it (Esc) or wait.")
            return False
        if not self.window.graph.nodes:
            self.window.show_status("Nothing to run: add nodes first (Tab).")
            return False
        # Say it on the canvas at once: the run process may take a while to answer.
        self.badges.queue_up(self.expected_plan(targets))
        started = self.controller.start(targets)
        if not started:
            self.badges.run_refused()
            return False
        self.last_targets = list(targets) if targets else None
        what = what or (f"{len(targets)} selected node(s)" if targets else "the graph")
        self.run_state.setText("live update…" if live else "running…")
        device = self.controller.device
        where = "" if device == "auto" else f" on {device}"  # "on auto" reads like a typo
        self.window.show_status(f"{'Updating' if live else 'Running'} {what}{where}… (Esc cancels)")
        return True

    def expected_plan(self, targets: list[str] | None) -> list[str]:
        """The nodes a run of ``targets`` (None: the output nodes) needs, as far as the editor
        can tell without the run process (which has the last word: it may re-run fewer)."""
        graph = self.window.graph
        if targets is None:
            targets = [n for n in graph.nodes if _gives_output(graph, n)]
        feeds: dict[str, list[str]] = {}
        for link in graph.links:
            feeds.setdefault(link.target_node, []).append(link.source_node)
        needed, todo = set(), [t for t in targets if t in graph.nodes]
        while todo:
            node = todo.pop()
            if node not in needed:
                needed.add(node)
                todo.extend(feeds.get(node, []))
        return [n for n in graph.nodes if n in needed]

    def cancel(self) -> None:
        # Esc first drops a link drag or cut line in progress, as it does when nothing runs.
        cancel_gesture = getattr(self.window.scene, "cancel_gesture", None)
        if cancel_gesture is not None and cancel_gesture():
            return
        if self.controller.busy:
            self.controller.cancel()
            self.run_state.setText("cancelling…")
            self.window.show_status("Cancelling: the run stops at the next chunk "
                                    "(a node that does not answer has its process ended).")

    def _device_chosen(self, device: str) -> None:
        if device:
            self.controller.device = device

    # -- what the run reports --

    def _on_event(self, event: Event) -> None:
        self.badges.on_event(event)
        if event.kind != "run_finished":  # its line comes with the result, counted as the badges show
            self.log.add_event(event)
        if event.kind == "node_progress" and event.node_id:
            total = event.data.get("total")
            done = event.data.get("done", 0)
            self.run_state.setText(f"{event.node_id}: {done}/{total}" if total else f"{event.node_id}: {done}")

    def _on_finished(self, result: RunResult) -> None:
        self.badges.on_finished(result, self.controller.record.thumbnails)
        self.viewer.refresh()
        # Counted from the badges, so the summary says what the canvas shows (a node running
        # when Cancel came is "cancelled" on both).
        counts = ", ".join(f"{n} {state}" for state, n in sorted(self.badges.counts(result.plan).items()))
        text = {"finished": "Run finished", "failed": "Run finished with failures",
                "cancelled": "Run cancelled"}.get(result.status, result.status)
        self.run_state.setText(f"{result.status} in {result.total_seconds:.2f} s")
        message = f"{text} in {result.total_seconds:.2f} s ({counts or 'nothing to redo'})"
        level = {"finished": "ok", "failed": "error", "cancelled": "warning"}.get(result.status, "info")
        self.log.add_line(f"run {result.status} in {round(result.total_seconds, 4)} s ({counts})", level)
        if result.failures:
            first = result.failures[0]
            message += f" — {first.node_id}: {first.message.splitlines()[0] if first.message else ''}"
        self.window.show_status(message)
        self._live_after_run()

    def _on_refused(self, message: str, details: str, problems: list[Problem] | None = None) -> None:
        self._live_after_run()
        self.run_state.setText("not run")
        if problems:  # the nodes the problems name say so on the canvas
            marks = [problem_parts(p, self.window.graph) for p in problems]
            self.badges.mark_refused([(node, text) for node, text in marks if node is not None])
        else:
            self.badges.on_refused(details)
        if "no output node" in message:
            message += "; or select nodes and use Run selected (Shift+F5)"
        self.log.add_line(message, "error", details)
        self.log_dock.show()
        self.window.show_status(message.replace("\n", " "))

    def _on_notice(self, text: str, details: str) -> None:
        self.log.add_line(text, "warning", details)

    def _on_busy(self, busy: bool) -> None:
        if not busy and not self.controller.run_is_current:
            self.run_state.setText("")
        self.cancel_action.setEnabled(busy)
        self.run_action.setEnabled(not busy)
        self.run_selected_action.setEnabled(not busy)
        self.device_box.setEnabled(not busy)

    def _selection_changed(self) -> None:
        try:
            ids = self.window.scene.selected_node_ids()
        except RuntimeError:  # the scene is being torn down
            return
        if len(ids) == 1:
            self.viewer.show_node(ids[0])
        elif self.viewer.node_id not in ids:  # nothing (or several others) selected: say so
            self.viewer.show_node(None)

    def _select_node(self, node_id: str) -> None:
        view = getattr(self.window.view, "select_only", None)
        if view is not None and node_id in self.window.graph.nodes:
            view([node_id])

    def _graph_changed(self, change: object) -> None:
        kind = getattr(change, "kind", "")
        # A param edit inside a group reaches this (top) graph as a change of the group.
        if kind in ("param_changed", "bypass_changed", "subgraph_changed") and self.live_action.isChecked():
            self._schedule_live_update()
        if kind == "reset":
            # Another graph: nothing of the last one's runs may look like it belongs to this one.
            self.controller.forget()
            self.viewer.show_node(None)
            self.log.clear()
            self.run_state.setText("")
            self.last_targets = None
            self._live_timer.stop()
            self._live_waiting = False
        elif kind == "node_removed":
            node_id = getattr(change, "node_id", None)
            self.controller.record.forget(node_id)
            if node_id == self.viewer.node_id:
                self.viewer.show_node(None)

    # -- live updates --

    def _live_toggled(self, on: bool) -> None:
        settings.remember("live_updates", on)
        self.window.show_status("Live updates: a param change re-runs what it feeds" if on
                                else "Live updates off: press F5 to run")
        if not on:
            self._live_timer.stop()
            self._live_waiting = False

    def _schedule_live_update(self) -> None:
        # Edits within LIVE_DELAY_MS make one run: started by the first, not put off by each one
        # (a slider drag shows its result while it goes on, not only when it stops).
        if not self._live_timer.isActive():
            self._live_timer.start()

    def _live_update(self) -> None:
        if self._closed or not self.live_action.isChecked():
            return
        if self.controller.busy:
            self._live_waiting = True  # never more than one live run waiting: the newest values
            return
        nodes = self.window.graph.nodes
        targets = [t for t in self.last_targets or [] if t in nodes] or None
        self._start(targets, live=True)

    def _live_after_run(self) -> None:
        if self._live_waiting:
            self._live_waiting = False
            self._schedule_live_update()

    # -- the node's menu --

    def _node_menu(self, menu: QMenu, node_id: str | None) -> None:
        if node_id is None:
            return
        menu.addSeparator()
        action = menu.addAction("Run to Here", lambda: self.run_to(node_id))
        action.setToolTip("Run what this node needs, up to it (the viewer shows it)")
        action.setEnabled(not self.controller.busy)

    # -- closing --

    def ask_stop_run(self) -> str:
        """A run is going and the window is closing: "stop" (cancel it and close) or "keep" (tests replace it)."""
        answer = QMessageBox.question(
            self.window, "A run is in progress",
            "A graph is running. Stop the run and close the window?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return "stop" if answer == QMessageBox.StandardButton.Yes else "keep"

    def _size_side_docks(self) -> None:
        # Side columns in proportion to the window as shown (a window manager may have made it
        # smaller than asked), so a laptop-sized window keeps a usable canvas.
        self._docks_sized = True
        window = self.window
        width = window.width()
        window.resizeDocks([window.palette_dock, window.inspector_dock],
                           [max(180, min(260, width * 18 // 100)), max(300, min(380, width * 27 // 100))],
                           Qt.Orientation.Horizontal)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Show and not self._docks_sized:
            self._size_side_docks()
        if watched is self.window and event.type() == QEvent.Type.Close:
            if not self._closed and self.controller.busy and self.ask_stop_run() != "stop":
                event.ignore()  # Ctrl+Q must not cancel a run without asking
                return True
            # The window decides (unsaved changes may keep it open): look once it has.
            QTimer.singleShot(0, self._check_closed)
        return False

    def _check_closed(self) -> None:
        try:
            visible = self.window.isVisible()
        except RuntimeError:
            visible = False
        if not visible:
            self.close()

    def _quitting(self) -> None:
        # The application quits with this window still open (not through its close button):
        # unsaved work was never confirmed lost, so keep it for the next start.
        try:
            keep = self.window.isVisible() and not self.window.stack.isClean()
        except RuntimeError:
            keep = False
        if keep:
            self.autosaver.save_now()
        self.close(keep_recovery=keep)

    def close(self, keep_recovery: bool = False) -> None:
        """The window closed cleanly: stop any run, remove the recovery file (unless kept)."""
        if self._closed:
            return
        self._closed = True
        self._live_timer.stop()
        self._unsubscribe()
        self.controller.shutdown()
        self.warmup.stop()
        self.autosaver.stop(remove=not keep_recovery)
        self.badges.detach()


def _gives_output(graph: Graph, node_id: str) -> bool:
    """Whether a node is an output node (a writer, a preview), or a group holding one."""
    if getattr(graph.node_class(node_id), "output_node", False):
        return True
    if graph.nodes[node_id].subgraph is None:
        return False
    inner = graph.inner(node_id)
    return any(_gives_output(inner, n) for n in inner.nodes)


def attach_run_features(window: MainWindow) -> RunFeatures:
    """Add running, badges, the viewer and log docks, and autosave to an editor window.

    The result is also kept as ``window.run_features``.
    """
    features = RunFeatures(window)
    window.run_features = features  # type: ignore[attr-defined]
    return features
