"""Run state on the canvas: a badge per node (queued, running, cached, done, failed...) and thumbnails.

The state lives here, never in the graph model: editing during a run is safe, and undo never
touches it. When the canvas rebuilds a node's item (open, undo of a delete), the badge and the
thumbnail are put back on the new item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem

from kinograph.gui.items.badge import Badge
from kinograph.host import Event, GraphChange

if TYPE_CHECKING:
    from kinograph.gui.main_window import MainWindow
    from kinograph.host import RunResult

COLORS = {
    "queued": "#5f6b7a",
    "running": "#2f6fd0",
    "cached": "#1f8a7e",
    "done": "#2e7d4f",
    "failed": "#d23f44",
    "skipped": "#6b6f76",
    "bypassed": "#8a6d1f",
    "cancelled": "#b7791f",
    "invalid": "#d23f44",
}
STALE_COLOR = "#3f444c"
#: A validation problem as the core words it: "nodes.load.params.path: no file given (set a path)".
_NODE_PROBLEM = re.compile(
    r"^nodes\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.(?:params|inputs|outputs)\.([A-Za-z0-9_-]+)|\.\S*)?:\s*(.*)$")
#: Warnings (random weights, padded sizes...) are written under the node in this amber.
WARNING_COLOR = "#e0a43a"
MESSAGE_CHARS = 140


@dataclass
class NodeRunState:
    """One node's state in the latest run."""

    state: str
    done: int = 0
    total: int | None = None
    seconds: float | None = None
    message: str = ""
    details: str = ""
    #: The node (or something upstream) was edited after this state was reached.
    stale: bool = False
    #: Warnings the node gave in this run (``ctx.warn``), in order.
    warnings: list[str] = field(default_factory=list)

    def badge(self) -> Badge:
        badge = self._with_warnings(self._badge())
        if self.stale and self.state not in ("queued", "running"):
            return Badge(badge.text, STALE_COLOR, None, "edited since the last run: " + badge.tooltip, badge.message,
                         badge.message_color)
        return badge

    def _with_warnings(self, badge: Badge) -> Badge:
        # A node that finished with warnings must not look like a clean success: the first
        # warning is written under it (the log and the tooltip have them all).
        if not self.warnings or self.state == "failed":
            return badge
        first = self.warnings[0]
        short = first if len(first) <= MESSAGE_CHARS else first[: MESSAGE_CHARS - 1] + "…"
        if len(self.warnings) > 1:
            short += f" (+{len(self.warnings) - 1} more)"
        tip = badge.tooltip + "".join(f"\n⚠ {w}" for w in self.warnings)
        return Badge(f"{badge.text} ⚠", badge.color, badge.progress, tip, "⚠ " + short, WARNING_COLOR)

    def _badge(self) -> Badge:
        color = COLORS.get(self.state, "#5f6b7a")
        if self.state == "running":
            if self.total:
                fraction = max(0.0, min(1.0, self.done / self.total))
                return Badge(f"running {fraction:.0%}", color, fraction, f"{self.done} of {self.total}")
            text = f"running {self.done}" if self.done else "running"
            return Badge(text, color, 0.0, "running")
        if self.state == "done":
            text = f"done {format_seconds(self.seconds or 0.0)}"
            tip = "finished (stream stopped early)" if self.message else f"finished in {self.seconds or 0.0:.3f} s"
            return Badge(text, color, None, tip)
        if self.state == "failed":
            short = self.message if len(self.message) <= MESSAGE_CHARS else self.message[: MESSAGE_CHARS - 1] + "…"
            return Badge("failed", color, None, f"failed: {self.message}", short)
        if self.state == "invalid":
            short = self.message if len(self.message) <= MESSAGE_CHARS else self.message[: MESSAGE_CHARS - 1] + "…"
            return Badge("cannot run", color, None, f"the graph cannot run: {self.message}", short)
        if self.state == "skipped":
            return Badge("skipped", color, None, f"skipped: {self.message}")
        if self.state == "cached":
            return Badge("cached", color, None, "taken from the cache: nothing changed since the last run")
        return Badge(self.state, color, None, self.message or self.state)


def format_seconds(seconds: float) -> str:
    if seconds < 0.01:
        return "<0.01 s"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


class ThumbnailItem(QGraphicsPixmapItem):
    """A small picture of a node's output, hung under the node."""

    def __init__(self, pixmap: QPixmap, parent: QGraphicsItem) -> None:
        super().__init__(pixmap, parent)
        self.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        frame = QGraphicsRectItem(self.boundingRect().adjusted(-1, -1, 0, 0), self)
        frame.setPen(QPen(QColor("#121316"), 1.5))
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(-1)


class RunBadges(QObject):
    """Keeps each node's run state and draws it on the canvas through ``NodeItem.set_badge``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.states: dict[str, NodeRunState] = {}
        self.thumbnails: dict[str, QImage] = {}
        #: Thumbnails hang under their nodes; a dense graph may want them off (View menu).
        self.show_thumbnails = True
        #: Nodes edited (or downstream of an edit) since the last run started.
        self.edited: set[str] = set()
        #: Run was pressed and these nodes show "queued" before the run process said what it will
        #: run; what they showed before, for those it turns out not to run.
        self._queued_early: dict[str, tuple[NodeRunState | None, NodeRunState]] = {}
        self._drawn: dict[str, tuple[Any, Badge | None]] = {}
        self._thumb_items: dict[str, tuple[Any, ThumbnailItem]] = {}
        self._reapply = QTimer(self)
        self._reapply.setSingleShot(True)
        self._reapply.setInterval(0)
        self._reapply.timeout.connect(self.apply)
        self._unsubscribe = window.graph.subscribe(self._graph_changed)

    # -- events from the run --

    def queue_up(self, node_ids: list[str]) -> None:
        """Run was pressed: these nodes show "queued" now, not when the run process answers.

        The run process may take seconds to start or to check a big graph; the canvas must say
        at once that a run began. Marks of a refused run go too. ``run_started`` then says
        which nodes really run (an incremental re-run runs fewer): the others get back what they
        showed; a refused run puts everything back.
        """
        self._restore_early(set())
        for node, state in list(self.states.items()):
            if state.state == "invalid":
                del self.states[node]
                self.apply_one(node)
        for node in node_ids:
            queued = NodeRunState("queued")
            self._queued_early[node] = (self.states.get(node), queued)
            self.states[node] = queued
            self.apply_one(node)

    def run_refused(self) -> None:
        """The run did not start: nodes queued early show what they showed before."""
        self._restore_early(set())

    def _restore_early(self, running: set[str]) -> None:
        early, self._queued_early = self._queued_early, {}
        for node, (before, queued) in early.items():
            if node in running or self.states.get(node) is not queued:
                continue  # it runs, or the run already said something about it
            if before is None:
                self.states.pop(node, None)
            else:
                self.states[node] = before
            self.apply_one(node)

    def on_event(self, event: Event) -> None:
        kind, node_id, data = event.kind, event.node_id, event.data
        if kind == "run_started":
            self._restore_early(set(data.get("plan", [])))
            self.edited.clear()
            for node, state in list(self.states.items()):
                if state.state == "invalid":  # the graph is valid now: the refusal no longer holds
                    del self.states[node]
                    self.apply_one(node)
            for node in data.get("plan", []):
                self.states[node] = NodeRunState("queued")
                self.apply_one(node)
            return
        if kind in ("run_cancelled", "run_finished"):
            for node, state in self.states.items():
                if state.state in ("queued", "running"):
                    state.state = "cancelled"
                    self.apply_one(node)
            return
        if node_id is None:
            return
        state = self.states.setdefault(node_id, NodeRunState("queued"))
        warnings = state.warnings  # run_started and node_started begin with none
        if kind == "node_warning":
            state.warnings.append(str(data.get("message", "")))
        elif kind == "node_started":
            self.states[node_id] = NodeRunState("running")
        elif kind == "node_progress":
            state.state = "running"
            state.done, state.total = int(data.get("done", 0)), data.get("total")
        elif kind == "node_cached":
            self.states[node_id] = NodeRunState("cached")
        elif kind == "node_finished":
            self.states[node_id] = NodeRunState("done", seconds=float(data.get("seconds", 0.0)),
                                                message="partial" if data.get("partial") else "")
        elif kind == "node_failed":
            self.states[node_id] = NodeRunState("failed", message=str(data.get("message", "")),
                                                details=str(data.get("traceback", "")))
            self.thumbnails.pop(node_id, None)
        elif kind == "node_skipped":
            because = str(data.get("because", ""))
            self.states[node_id] = NodeRunState("bypassed" if because == "bypassed" else "skipped", message=because)
        else:
            return
        if kind in ("node_finished", "node_failed", "node_cached"):
            self.states[node_id].warnings = warnings  # what it warned about while running
        # Edited while this run was going: what it reports is already out of date.
        self.states[node_id].stale = node_id in self.edited
        self.apply_one(node_id)

    def on_refused(self, problems: str) -> list[str]:
        """A run was refused: mark each node a problem names (``nodes.ID...: why``); returns their ids."""
        marks = []
        for line in problems.splitlines():
            match = _NODE_PROBLEM.match(line.strip())
            if match is None or match.group(1) not in self.window.graph.nodes:
                continue
            node_id, what, why = match.group(1), match.group(2), match.group(3).strip()
            marks.append((node_id, f"{what}: {why}" if what else why))
        return self.mark_refused(marks)

    def mark_refused(self, marks: list[tuple[str, str]]) -> list[str]:
        """A run was refused: mark each node with why (``[(node id, "Path: no file given")]``);
        returns the ids marked (nodes inside groups mark their group from above)."""
        self.run_refused()
        marked: list[str] = []
        for node_id, why in marks:
            if self.window.node_item(node_id) is None and node_id not in self.window.graph.nodes:
                continue
            state = self.states.get(node_id)
            if state is not None and state.state == "invalid" and node_id in marked:
                state.message += "; " + why
            else:
                self.states[node_id] = NodeRunState("invalid", message=why)
                marked.append(node_id)
            self.apply_one(node_id)
        return marked

    def on_finished(self, result: RunResult, thumbnails: dict[str, bytes]) -> None:
        """After a run: show the thumbnails the run process made (PNG bytes by node id).

        It makes them from images a node produced and from the middle frame of streams kept
        in the disk cache; a node whose output did not change keeps the thumbnail it has.
        """
        for node_id in result.plan:
            if result.states.get(node_id) not in ("done", "cached"):
                continue
            png = thumbnails.get(node_id)
            image = QImage.fromData(png, "PNG") if png else None
            if image is not None and not image.isNull():
                self.thumbnails[node_id] = image
            else:
                self.thumbnails.pop(node_id, None)
        self.apply()

    # -- drawing --

    def apply(self) -> None:
        """Put every badge and thumbnail on the current node items (they may have been rebuilt)."""
        for node_id in list(self.states):
            self.apply_one(node_id)
        for node_id in list(self.thumbnails):
            self._apply_thumbnail(node_id)

    def apply_one(self, node_id: str) -> None:
        item = self.window.node_item(node_id)
        if item is None:
            return
        state = self.states.get(node_id)
        badge = state.badge() if state else None
        drawn = self._drawn.get(node_id)
        if drawn is None or drawn[0] is not item or drawn[1] != badge:
            item.set_badge(badge)
            self._drawn[node_id] = (item, badge)
        self._apply_thumbnail(node_id)

    def _apply_thumbnail(self, node_id: str) -> None:
        item = self.window.node_item(node_id)
        image = self.thumbnails.get(node_id)
        existing = self._thumb_items.get(node_id)
        if existing is not None and (existing[0] is not item or image is None):
            if existing[0] is item and existing[1].scene() is not None:
                existing[1].setParentItem(None)
                item.scene().removeItem(existing[1])
            del self._thumb_items[node_id]
            existing = None
        if item is None or image is None:
            return
        pixmap = QPixmap.fromImage(image)
        if existing is None:
            thumb = ThumbnailItem(pixmap, item)
            self._thumb_items[node_id] = (item, thumb)
        else:
            thumb = existing[1]
            if thumb.pixmap().cacheKey() != pixmap.cacheKey():
                thumb.setPixmap(pixmap)
        # Under the node, below a failure message if there is one.
        below = item.height + (44.0 if item.badge is not None and item.badge.message else 6.0)
        thumb.setPos((item.width - pixmap.width()) / 2, below)
        thumb.setVisible(self.show_thumbnails)

    def set_show_thumbnails(self, on: bool) -> None:
        self.show_thumbnails = on
        for _item, thumb in self._thumb_items.values():
            thumb.setVisible(on)

    def counts(self, node_ids: list[str]) -> dict[str, int]:
        """How many of these nodes each badge shows (``{"done": 3, "cancelled": 2}``): what a
        summary of the run says, so it never disagrees with the canvas."""
        counts: dict[str, int] = {}
        for node in node_ids:
            state = self.states.get(node)
            if state is not None:
                counts[state.state] = counts.get(state.state, 0) + 1
        return counts

    def clear(self) -> None:
        """Forget every node's state (another graph was opened)."""
        self._queued_early = {}
        for node_id in list(self.states):
            item = self.window.node_item(node_id)
            if item is not None:
                item.set_badge(None)
        self.states.clear()
        self._drawn.clear()
        self.thumbnails.clear()
        for node_id in list(self._thumb_items):
            self._apply_thumbnail(node_id)

    def _graph_changed(self, change: GraphChange) -> None:
        if change.kind == "reset":
            self.clear()
            return
        if change.kind == "node_removed" and change.node_id:
            self.states.pop(change.node_id, None)
            self.thumbnails.pop(change.node_id, None)
            self._drawn.pop(change.node_id, None)
        elif change.kind in ("param_changed", "bypass_changed") and change.node_id:
            self.mark_stale([change.node_id])
        elif change.kind in ("link_added", "link_removed") and change.link is not None:
            self.mark_stale([change.link.target_node])
        # The scene updates its items in its own observer: draw once it is done.
        self._reapply.start()

    def mark_stale(self, node_ids: list[str]) -> None:
        """Grey out the results of these nodes and everything downstream: they are out of date."""
        graph = self.window.graph
        todo, seen = list(node_ids), set()
        while todo:
            node_id = todo.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            self.edited.add(node_id)
            state = self.states.get(node_id)
            if state is not None and not state.stale:
                state.stale = True
            todo.extend(link.target_node for link in graph.links if link.source_node == node_id)

    def detach(self) -> None:
        self._unsubscribe()
