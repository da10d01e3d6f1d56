"""The canvas scene: draws the core graph and follows its change events (model -> items).

There is no second graph model here: items hold ids and the scene rebuilds what a
:class:`GraphChange` touches. Mouse gestures that edit (link drags, moves, cuts) go through the
:class:`GraphEditor`, whose undo commands change the graph, which redraws the scene.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsScene, QGraphicsSceneMouseEvent

from kinograph.gui import theme
from kinograph.gui.editor_state import editor_state, link_key
from kinograph.gui.edits import GraphEditor
from kinograph.gui.items.backdrop_item import BackdropItem, FrameItem, NoteItem, NoteText
from kinograph.gui.items.link_item import LinkItem, PendingLinkItem
from kinograph.gui.items.node_item import NodeItem
from kinograph.gui.items.port_item import PortItem
from kinograph.gui.items.reroute_item import RerouteItem
from kinograph.gui.placement import CLEARANCE, free_spot
from kinograph.host import INPUTS_TYPE, OUTPUTS_TYPE, ChangeKind, GraphChange, Link, port_accepts, reachable


class GraphScene(QGraphicsScene):
    """Scene items for one graph; ``status`` carries messages (e.g. a refused link's reason)."""

    status = Signal(str)
    #: (scene position, port ref, direction): a link was dropped on empty canvas.
    search_requested = Signal(QPointF, str, str)
    #: enter the group with this id (Tab on a selected group, or a double-click on it)
    enter_group_requested = Signal(str)
    #: go up one level out of the group shown (Ctrl+Tab)
    exit_group_requested = Signal()

    def __init__(self, editor: GraphEditor) -> None:
        super().__init__()
        self.editor = editor
        self.graph = editor.graph
        self.registry = editor.graph.registry
        self.node_items: dict[str, NodeItem] = {}
        self.link_items: dict[Link, LinkItem] = {}
        #: node id -> the items of its links (a drag of 200 nodes looks them up 200 times a move)
        self._node_links: dict[str, dict[Link, LinkItem]] = {}
        #: links whose curve waits for the end of the current mouse move (both ends may move)
        self._dirty_links: set[LinkItem] = set()
        self._dragging = False
        self._lit_link: LinkItem | None = None  # the link a dragged node would go into
        self.frame_items: list[FrameItem] = []
        self.reroute_items: list[RerouteItem] = []
        self.snap_to_grid = False
        self._pending: PendingLinkItem | None = None
        self._pending_detached: Link | None = None
        self._cut_line: QGraphicsLineItem | None = None
        self._drag_start: dict[QGraphicsItem, QPointF] = {}
        self._carried: dict[BackdropItem, list[tuple[NodeItem, QPointF]]] = {}
        self.setSceneRect(QRectF(-50000, -50000, 100000, 100000))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._unsubscribe = self.graph.subscribe(self._on_change)
        self.rebuild()

    def close(self) -> None:
        self._unsubscribe()

    def set_editor(self, editor: GraphEditor) -> None:
        """Show another graph level (entering or leaving a group): follow its graph instead."""
        self._unsubscribe()
        self.editor = editor
        self.graph = editor.graph
        self._unsubscribe = self.graph.subscribe(self._on_change)
        self.rebuild()

    # -- model -> items --

    def rebuild(self) -> None:
        """Recreate every item from the graph (on open, new and reset)."""
        self._pending = None
        self._cut_line = None
        self.clear()
        self.node_items.clear()
        self.link_items.clear()
        self._node_links.clear()
        self._dirty_links.clear()
        self._lit_link = None
        self.frame_items.clear()
        self.reroute_items.clear()
        for node_id in self.graph.nodes:
            self._add_node_item(node_id)
        for link in self.graph.links:
            self._add_link_item(link)
        self._rebuild_editor_items()

    def _on_change(self, change: GraphChange) -> None:
        kind, node_id = change.kind, change.node_id
        if kind == ChangeKind.RESET:
            self.rebuild()
        elif kind == ChangeKind.NODE_ADDED and node_id is not None:
            self._add_node_item(node_id)
        elif kind == ChangeKind.NODE_REMOVED and node_id is not None:
            item = self.node_items.pop(node_id, None)
            if item is not None:
                self.removeItem(item)
        elif kind == ChangeKind.NODE_RENAMED and change.name in self.node_items and node_id is not None:
            self._remake_node_item(change.name, node_id)
        elif kind == ChangeKind.LINK_ADDED and change.link is not None:
            self._add_link_item(change.link)
            self._rebuild_reroutes()
        elif kind == ChangeKind.LINK_REMOVED and change.link is not None:
            self._remove_link_item(change.link)
        elif kind == ChangeKind.PARAM_CHANGED and node_id in self.node_items:
            self.node_items[node_id].set_params(self.graph.nodes[node_id].params)
        elif kind == ChangeKind.PARAM_EXPOSED and node_id in self.node_items:
            self._remake_node_item(node_id, node_id)  # its ports changed
        elif kind == ChangeKind.BYPASS_CHANGED and node_id in self.node_items:
            self.node_items[node_id].set_bypass(bool(change.value))
            for item in self.links_of(node_id):
                item.update()
        elif kind == ChangeKind.UI_CHANGED and change.name == "pos" and node_id in self.node_items:
            item = self.node_items[node_id]
            pos = change.value if change.value is not None else [0.0, 0.0]
            if QPointF(float(pos[0]), float(pos[1])) != item.pos():
                item.setPos(float(pos[0]), float(pos[1]))
        elif kind == ChangeKind.META_CHANGED and change.name == "editor":
            self._rebuild_editor_items()
        elif kind == ChangeKind.SUBGRAPH_CHANGED and node_id in self.node_items:
            self._remake_node_item(node_id, node_id)  # a group's ports and params follow its content
        elif kind == ChangeKind.INTERFACE_CHANGED:
            for other, node in self.graph.nodes.items():  # inside a group: its interface nodes' ports
                if other in self.node_items and (other == node_id or node.type in (INPUTS_TYPE, OUTPUTS_TYPE)):
                    self._remake_node_item(other, other)
        # NODES_REORDERED changes the file order only: nothing on the canvas moves.

    def _remake_node_item(self, old: str, new: str) -> None:
        """A node got another id or other ports: its item and its links' items are made anew."""
        item = self.node_items.pop(old)
        selected = item.isSelected()
        for link in [lk for lk in self.link_items if old in (lk.source_node, lk.target_node)]:
            self._remove_link_item(link)
        self.removeItem(item)
        self._add_node_item(new).setSelected(selected)
        for link in self.graph.links:
            if new in (link.source_node, link.target_node):
                self._add_link_item(link)
        self._rebuild_reroutes()

    def _add_node_item(self, node_id: str) -> NodeItem:
        node = self.graph.nodes[node_id]
        cls = self.graph.node_class(node_id)  # a group's class is made from its content
        extra_in = sorted({lk.target_port for lk in self.graph.links if lk.target_node == node_id})
        extra_out = sorted({lk.source_port for lk in self.graph.links if lk.source_node == node_id})
        item = NodeItem(node, cls, self.registry, extra_in, extra_out)
        if "pos" not in node.ui:
            # New nodes without a position go below what is there, so they are not hidden.
            bottom = max((i.sceneBoundingRect().bottom() for i in self.node_items.values()), default=-40.0)
            item.setPos(0.0, bottom + 40.0)
        self.node_items[node_id] = item
        self.addItem(item)
        return item

    def _refresh_node(self, node_id: str) -> None:
        """Recreate a node's item (a placeholder learns ports from the links that name them)."""
        old = self.node_items.pop(node_id, None)
        selected = old.isSelected() if old else False
        if old is not None:
            self.removeItem(old)
        for link in [lk for lk in self.link_items if node_id in (lk.source_node, lk.target_node)]:
            self._remove_link_item(link)
        item = self._add_node_item(node_id)
        if old is not None:
            item.setPos(old.pos())
        item.setSelected(selected)
        for link in self.graph.links:
            if node_id in (link.source_node, link.target_node) and link not in self.link_items:
                self._add_link_item(link)

    def _add_link_item(self, link: Link) -> None:
        source_node = self.node_items.get(link.source_node)
        target_node = self.node_items.get(link.target_node)
        if source_node is None or target_node is None:
            return
        source = source_node.port(link.source_port, "output")
        target = target_node.port(link.target_port, "input")
        if source is None or target is None:
            for node in (source_node, target_node):
                if node.missing:
                    self._refresh_node(node.node_id)
                    return
            return  # a link naming a port the node type lacks: validation reports it
        item = LinkItem(link, source, target, theme.port_color(self.registry, source.type_name))
        self.link_items[link] = item
        for node_id in (link.source_node, link.target_node):
            self._node_links.setdefault(node_id, {})[link] = item
        self.addItem(item)

    def _remove_link_item(self, link: Link) -> None:
        item = self.link_items.pop(link, None)
        if item is None:
            return
        for node_id in (link.source_node, link.target_node):
            self._node_links.get(node_id, {}).pop(link, None)
        self._dirty_links.discard(item)
        for dot in item.dots:
            if dot in self.reroute_items:
                self.reroute_items.remove(dot)  # type: ignore[arg-type]
            self.removeItem(dot)
        item.dots.clear()
        self.removeItem(item)

    def _rebuild_editor_items(self) -> None:
        for item in self.frame_items:
            self.removeItem(item)
        self.frame_items.clear()
        state = editor_state(self.graph)
        for data in state["backdrops"]:
            self._add_frame(BackdropItem(data))
        for data in state["notes"]:
            self._add_frame(NoteItem(data))
        self._rebuild_reroutes()

    def _add_frame(self, item: FrameItem) -> None:
        self.frame_items.append(item)
        self.addItem(item)

    def _rebuild_reroutes(self) -> None:
        for dot in self.reroute_items:
            self.removeItem(dot)
        self.reroute_items.clear()
        reroutes = editor_state(self.graph)["reroutes"]
        for link, item in self.link_items.items():
            item.dots.clear()
            points = reroutes.get(link_key(link), [])
            item.waypoints = [QPointF(float(p[0]), float(p[1])) for p in points]
            for index, point in enumerate(item.waypoints):
                dot = RerouteItem(item, index, point)
                item.dots.append(dot)
                self.reroute_items.append(dot)
                self.addItem(dot)
            item.update_path()

    def links_of(self, node_id: str) -> list[LinkItem]:
        return list(self._node_links.get(node_id, {}).values())

    def node_item_moved(self, item: NodeItem) -> None:
        links = self._node_links.get(item.node_id)
        if not links:
            return
        if self._dragging:  # redrawn once per mouse move, however many of its nodes moved
            self._dirty_links.update(links.values())
            return
        for link_item in links.values():
            link_item.update_path()

    def _redraw_dirty_links(self) -> None:
        dirty, self._dirty_links = self._dirty_links, set()
        for link_item in dirty:
            link_item.update_path()

    def snap_point(self, value: QPointF) -> QPointF:
        grid = theme.GRID_SIZE
        return QPointF(round(value.x() / grid) * grid, round(value.y() / grid) * grid)

    def collect_editor_state(self) -> dict[str, Any]:
        """Editor state as the items show it now (after drags and resizes)."""
        state = editor_state(self.graph)
        state["backdrops"] = [i.to_data() for i in self.frame_items if isinstance(i, BackdropItem)]
        state["notes"] = [i.to_data() for i in self.frame_items if isinstance(i, NoteItem)]
        reroutes = {}
        for link, item in self.link_items.items():
            if item.waypoints:
                reroutes[link_key(link)] = [[round(p.x(), 1), round(p.y(), 1)] for p in item.waypoints]
        # Keep dots of links that are gone for now: undoing their removal brings them back.
        for key, points in state["reroutes"].items():
            if not any(link_key(link) == key for link in self.link_items):
                reroutes[key] = points
        state["reroutes"] = reroutes
        return state

    def selected_node_ids(self) -> list[str]:
        return [item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)]

    def selected_links(self) -> list[Link]:
        return [item.link for item in self.selectedItems() if isinstance(item, LinkItem)]

    # -- grid --

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.BACKGROUND)
        scale = painter.worldTransform().m11()
        grid = theme.GRID_SIZE
        if scale * grid < 6:
            grid *= 5  # too dense to read when zoomed far out
        left = math.floor(rect.left() / grid) * grid
        top = math.floor(rect.top() / grid) * grid
        minor, major = [], []
        x = left
        while x < rect.right():
            (major if round(x / grid) % 5 == 0 else minor).append(QLineF(x, rect.top(), x, rect.bottom()))
            x += grid
        y = top
        while y < rect.bottom():
            (major if round(y / grid) % 5 == 0 else minor).append(QLineF(rect.left(), y, rect.right(), y))
            y += grid
        painter.setPen(QPen(theme.GRID_MINOR, 0))
        painter.drawLines(minor)
        painter.setPen(QPen(theme.GRID_MAJOR, 0))
        painter.drawLines(major)

    # -- mouse: link drags, moves, cuts --

    def port_at(self, point: QPointF) -> PortItem | None:
        for item in self.items(QRectF(point.x() - 8, point.y() - 8, 16, 16)):
            if isinstance(item, PortItem):
                return item
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        point = event.scenePos()
        if event.button() == Qt.MouseButton.LeftButton:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier and self._empty_at(point):
                self._cut_line = QGraphicsLineItem(QLineF(point, point))
                self._cut_line.setPen(QPen(theme.CUT_LINE, 1.5, Qt.PenStyle.DashLine))
                self._cut_line.setZValue(10)
                self.addItem(self._cut_line)
                event.accept()
                return
            port = self.port_at(point)
            if port is not None:
                self._start_link_drag(port, point)
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._remember_drag_start()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        point = event.scenePos()
        if self._cut_line is not None:
            self._cut_line.setLine(QLineF(self._cut_line.line().p1(), point))
            return
        if self._pending is not None:
            self._pending.follow(point)
            return
        self._dragging = bool(self._drag_start)
        try:
            super().mouseMoveEvent(event)
            for backdrop, carried in self._carried.items():
                delta = backdrop.pos() - self._drag_start.get(backdrop, backdrop.pos())
                for node, start in carried:
                    node.setPos(start + delta)
        finally:
            self._dragging = False
            self._redraw_dirty_links()
        self._show_insert_target()

    def _lone_dragged_node(self) -> NodeItem | None:
        """The node being dragged when it is the only one and has no links (it may go into one)."""
        nodes = [item for item in self._drag_start if isinstance(item, NodeItem) and item.isSelected()]
        if len(nodes) != 1 or self._node_links.get(nodes[0].node_id):
            return None
        return nodes[0]

    def insert_target(self, node: NodeItem) -> LinkItem | None:
        """The link a node dropped now would go into: one it touches whose ports fit."""
        for link, item in self.link_items.items():
            if item.isVisible() and item.collidesWithItem(node) and self.editor.insert_ports(node.node_id, link):
                return item
        return None

    def _show_insert_target(self) -> None:
        """Light up the link a lone dragged node would go into, before the drop (as Blender does)."""
        node = self._lone_dragged_node()
        target = self.insert_target(node) if node is not None and node.pos() != self._drag_start[node] else None
        if target is not self._lit_link:
            if self._lit_link is not None and self._lit_link.scene() is self:
                self._lit_link.set_insert_target(False)
            if target is not None:
                target.set_insert_target(True)
            self._lit_link = target

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        point = event.scenePos()
        if self._cut_line is not None:
            self._finish_cut()
            return
        if self._pending is not None:
            self._finish_link_drag(point)
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        point = event.scenePos()
        item = self.itemAt(point, QTransform())
        if isinstance(item, RerouteItem):
            self.editor.remove_reroute(item.link_item.link, item.index)
            return
        if isinstance(item, LinkItem):
            self.editor.add_reroute(item.link, self._waypoint_index(item, point), (point.x(), point.y()))
            return
        if isinstance(item, NoteText):
            super().mouseDoubleClickEvent(event)  # a double-click in the text being edited: select a word
            return
        if isinstance(item, FrameItem):
            self.edit_frame_text(item)
            return
        node = item if isinstance(item, NodeItem) else item.parentItem() if item is not None else None
        if isinstance(node, NodeItem) and node.is_group and not node.missing:
            self.enter_group_requested.emit(node.node_id)
            return
        super().mouseDoubleClickEvent(event)

    def edit_frame_text(self, item: FrameItem) -> None:
        from PySide6.QtWidgets import QInputDialog

        if isinstance(item, NoteItem):  # in place, as on paper (no dialog)
            item.start_editing(lambda text: self._note_edited(item, text))
            return
        parent = self.views()[0] if self.views() else None
        text, ok = QInputDialog.getText(parent, "Backdrop", "Title:", text=item.data.get("title", ""))
        if ok:
            item.data["title"] = text
            self.editor.set_editor_state(self.collect_editor_state(), "Edit title")

    def _note_edited(self, item: NoteItem, text: str) -> None:
        if item not in self.frame_items:
            return  # the notes were rebuilt meanwhile (undo): nothing to store
        text_item, item.editing = item.editing, None
        if text_item is not None and text_item.scene() is self:
            self.removeItem(text_item)  # the note draws its text itself again
        item.update()
        if text != item.data.get("text", ""):
            item.data["text"] = text
            self.editor.set_editor_state(self.collect_editor_state(), "Edit note")

    def editing_text(self) -> bool:
        """Whether the user is typing in a note on the canvas (its keys are text, not shortcuts)."""
        return isinstance(self.focusItem(), NoteText)

    def _waypoint_index(self, item: LinkItem, point: QPointF) -> int:
        """Where a new dot goes among a link's dots: ordered along the link by x."""
        return sum(1 for p in item.waypoints if p.x() < point.x())

    def _empty_at(self, point: QPointF) -> bool:
        return not any(isinstance(i, NodeItem | PortItem | RerouteItem) for i in self.items(point))

    def cancel_gesture(self) -> bool:
        """Esc: drop a link drag or a cut line in progress without changing anything."""
        if self._cut_line is not None:
            self.removeItem(self._cut_line)
            self._cut_line = None
            return True
        if self._pending is not None:
            self.removeItem(self._pending)
            detached = self._pending_detached
            if detached is not None and detached in self.link_items:
                self.link_items[detached].setVisible(True)
            self._pending, self._pending_detached = None, None
            self._clear_highlight()
            self.status.emit("Link cancelled")
            return True
        return False

    # link drags

    def _start_link_drag(self, port: PortItem, point: QPointF) -> None:
        anchor = port
        self._pending_detached = None
        if port.direction == "input":
            existing = next((lk for lk in self.graph.links_into(port.node.node_id) if lk.target_port == port.name), None)
            if existing is not None:
                # Like Blender: dragging a linked input picks its link up from the source.
                source_item = self.node_items.get(existing.source_node)
                source_port = source_item.port(existing.source_port, "output") if source_item else None
                if source_port is not None:
                    anchor = source_port
                    self._pending_detached = existing
                    if existing in self.link_items:
                        self.link_items[existing].setVisible(False)
        self._pending = PendingLinkItem(anchor)
        self.addItem(self._pending)
        self._pending.follow(point)
        self._highlight_targets(anchor)
        self.status.emit(f"Linking from {anchor.ref} ({anchor.type_name or 'unknown type'}): "
                         "drop on a highlighted port, or on empty canvas to add a node")

    def _highlight_targets(self, anchor: PortItem) -> None:
        """Light up the ports that can take the dragged link.

        The same rules as ``Graph.check_link`` (port types by the core's registry, no cycles),
        with reachability computed once per drag instead of once per port: a 1,000-node graph
        highlights in milliseconds. The drop itself is always judged by ``check_link``.
        """
        ignored = self._pending_detached
        cycle_nodes = reachable(self.graph.links, anchor.node.node_id, upstream=anchor.direction == "output",
                                ignoring=ignored)
        ports = self.registry.ports
        for node in self.node_items.values():
            for port in node.ports():
                if port.direction == anchor.direction or node is anchor.node or node.node_id in cycle_nodes:
                    port.set_accepts(False)
                    continue
                source, target = (anchor, port) if anchor.direction == "output" else (port, anchor)
                port.set_accepts(port_accepts(ports, source.type_name, target.type_name))

    @staticmethod
    def _link_ends(anchor: PortItem, other: PortItem) -> tuple[str, str]:
        return (anchor.ref, other.ref) if anchor.direction == "output" else (other.ref, anchor.ref)

    def _clear_highlight(self) -> None:
        for node in self.node_items.values():
            for port in node.ports():
                port.set_accepts(None)

    def _finish_link_drag(self, point: QPointF) -> None:
        pending, detached = self._pending, self._pending_detached
        self._pending, self._pending_detached = None, None
        assert pending is not None
        self.removeItem(pending)
        self._clear_highlight()
        anchor = pending.anchor
        if detached is not None and detached in self.link_items:
            self.link_items[detached].setVisible(True)
        target = self.port_at(point)
        if target is not None and target is not anchor and target.direction != anchor.direction:
            source, dest = self._link_ends(anchor, target)
            if detached is not None and Link.parse(source, dest) == detached:
                return
            reason = self.editor.relink(detached, source, dest) if detached else self.editor.connect(source, dest)
            if reason is not None:
                self.status.emit(f"Link refused: {reason}")
            else:
                self.status.emit(f"Linked {source} → {dest}")
            return
        if target is not None:
            self.status.emit(f"Link refused: {anchor.ref} and {target.ref} are both "
                             f"{anchor.direction}s; link an output to an input")
            return
        if detached is not None:
            self.editor.disconnect([detached])
            self.status.emit(f"Removed link {detached}")
            return
        # The drag is over: say what the popup offers instead of the drag's hint.
        self.status.emit(f"Pick a node to connect to {anchor.ref} (Esc: no node)")
        self.search_requested.emit(point, anchor.ref, anchor.direction)

    # cuts

    def _finish_cut(self) -> None:
        line_item, self._cut_line = self._cut_line, None
        assert line_item is not None
        line = line_item.line()
        self.removeItem(line_item)
        cut = [link for link, item in self.link_items.items() if item.isVisible() and _crosses(item, line)]
        if cut:
            self.editor.disconnect(cut, "Cut")
            self.status.emit(f"Cut {len(cut)} link{'s' if len(cut) != 1 else ''}")

    # moves

    def _remember_drag_start(self) -> None:
        self._drag_start = {}
        self._carried = {}
        movable = [i for i in self.selectedItems() if isinstance(i, NodeItem | FrameItem | RerouteItem)]
        for item in movable:
            self._drag_start[item] = QPointF(item.pos())
            if isinstance(item, BackdropItem):
                carried = [n for n in item.contained_nodes() if not n.isSelected()]
                self._carried[item] = [(n, QPointF(n.pos())) for n in carried]
                for node in carried:
                    self._drag_start[node] = QPointF(node.pos())
        for item in self.frame_items:
            self._drag_start.setdefault(item, QPointF(item.pos()))

    def _commit_moves(self) -> None:
        lone = self._lone_dragged_node()
        target = self._lit_link if lone is not None and self._lit_link is not None else None
        if self._lit_link is not None:
            self._lit_link.set_insert_target(False)
            self._lit_link = None
        if target is not None and lone is not None:
            # Move, insert and make room: one undo step.
            self.editor.stack.beginMacro(f"Insert {lone.node_id} into {target.link}")
            try:
                self._commit_node_moves()
                self._insert(lone, target.link)
            finally:
                self.editor.stack.endMacro()
            return
        self._commit_node_moves()

    def _insert(self, node: NodeItem, link: Link) -> None:
        if not self.editor.insert_on_link(node.node_id, link):
            return
        self.status.emit(f"Inserted {node.node_id} into {link}")
        # It was dropped on the link, maybe on a node at either end: move it where it covers none.
        others = [item.sceneBoundingRect() for item in self.node_items.values() if item is not node]
        rect = node.sceneBoundingRect()
        if any(rect.intersects(other.adjusted(-CLEARANCE, -CLEARANCE, CLEARANCE, CLEARANCE)) for other in others):
            spot = free_spot(node.pos(), (node.width, node.height), others)
            old = self.graph.nodes[node.node_id].ui.get("pos")
            self.editor.move({node.node_id: (old, [round(spot.x(), 1), round(spot.y(), 1)])})

    def _commit_node_moves(self) -> None:
        starts, self._drag_start, self._carried = self._drag_start, {}, {}
        if not starts:
            return
        moves: dict[str, tuple[Any, Any]] = {}
        moved_nodes = []
        for item, start in starts.items():
            if isinstance(item, NodeItem) and item.pos() != start:
                old = self.graph.nodes[item.node_id].ui.get("pos")
                moves[item.node_id] = (old, [round(item.x(), 1), round(item.y(), 1)])
                moved_nodes.append(item)
        state = self.collect_editor_state()
        self.editor.move(moves, state)


def _crosses(item: LinkItem, line: QLineF) -> bool:
    """Whether a straight cut crosses a link's curve (sampled: curves are smooth)."""
    path = item.path()
    previous = path.pointAtPercent(0)
    for i in range(1, 33):
        current = path.pointAtPercent(i / 32)
        kind, _ = QLineF(previous, current).intersects(line)
        if kind == QLineF.IntersectionType.BoundedIntersection:
            return True
        previous = current
    return False
