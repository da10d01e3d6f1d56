"""Every keyboard shortcut of the editor, declared in one place, and the help dialog listing them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


@dataclass(frozen=True)
class Hotkey:
    """One shortcut: the action it triggers, its key sequence and what it does in a user's words."""

    action: str
    keys: str
    description: str


#: Actions of the main window look their keys up here (by ``action``); the help dialog lists them.
HOTKEYS: list[Hotkey] = [
    Hotkey("new", "Ctrl+N", "New graph"),
    Hotkey("open", "Ctrl+O", "Open a graph, or an MP4/PNG made by kinograph"),
    Hotkey("save", "Ctrl+S", "Save"),
    Hotkey("save_as", "Ctrl+Shift+S", "Save as"),
    Hotkey("quit", "Ctrl+Q", "Quit"),
    Hotkey("undo", "Ctrl+Z", "Undo"),
    Hotkey("redo", "Ctrl+Shift+Z", "Redo (also Ctrl+Y)"),
    Hotkey("copy", "Ctrl+C", "Copy the selection as JSON text"),
    Hotkey("cut", "Ctrl+X", "Cut the selection"),
    Hotkey("paste", "Ctrl+V", "Paste nodes (JSON graph text) at the cursor"),
    Hotkey("duplicate", "Ctrl+D", "Duplicate the selection"),
    Hotkey("delete", "Del", "Delete the selection (also Backspace)"),
    Hotkey("select_all", "Ctrl+A", "Select all"),
    Hotkey("search", "Tab", "Search nodes at the cursor and place one (also Space); on a selected group: enter it"),
    Hotkey("exit_group", "Ctrl+Tab", "Leave the group shown, up one level (or click a breadcrumb)"),
    Hotkey("fit", "F", "Fit the selection, or the whole graph, in view"),
    Hotkey("frame_all", "Home", "Show the whole graph (however big)"),
    Hotkey("bypass", "Ctrl+B", "Toggle bypass of the selected nodes"),
    Hotkey("layout", "L", "Auto-layout the selection, or the whole graph"),
    Hotkey("group", "Ctrl+G", "Group the selected nodes into a subgraph (links across become its ports)"),
    Hotkey("ungroup", "Ctrl+Alt+G", "Ungroup the selected groups"),
    Hotkey("backdrop", "Ctrl+J", "Put a backdrop behind the selection"),
    Hotkey("note", "N", "Add a sticky note at the cursor"),
    Hotkey("snap", "Ctrl+Shift+G", "Toggle snapping to the grid"),
    Hotkey("run", "F5", "Run the graph (its output nodes)"),
    Hotkey("run_selected", "Shift+F5", "Run only what the selected nodes need"),
    Hotkey("cancel_run", "Esc", "Cancel the run (or a link drag / cut in progress)"),
    Hotkey("shortcuts", "F1", "Show this list"),
]

#: Mouse gestures are not QActions but users look for them in the same list.
GESTURES: list[tuple[str, str]] = [
    ("Wheel", "Zoom around the cursor"),
    ("Middle drag / Space+drag", "Pan"),
    ("Drag on empty canvas", "Box select (Shift+drag adds; Ctrl+click toggles a node)"),
    ("Drag from a port", "Make a link; compatible ports light up"),
    ("Drop a link on empty canvas", "Search nodes that fit, place and connect one"),
    ("Drag from a linked input", "Pick the link up (drop on nothing to remove it)"),
    ("Ctrl+drag across links", "Cut them"),
    ("Double-click a link", "Add a reroute dot (double-click a dot to remove it)"),
    ("Drag a node onto a link", "Insert it into the link (the link lights up when the node fits)"),
    ("Double-click a sticky note", "Edit its text in place (click elsewhere or Esc when done)"),
    ("Click or drag in the minimap", "Move the view there (View ▸ Minimap shows or hides it)"),
    ("Double-click a group", "Enter it (breadcrumbs at the top left lead back)"),
]

_BY_ACTION = {hotkey.action: hotkey for hotkey in HOTKEYS}


def keys_for(action: str) -> QKeySequence:
    """The key sequence of an action (empty when the action has none)."""
    hotkey = _BY_ACTION.get(action)
    return QKeySequence(hotkey.keys) if hotkey else QKeySequence()


class ShortcutsDialog(QDialog):
    """A table of every shortcut and mouse gesture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 640)
        rows = [(h.keys, h.description) for h in HOTKEYS] + GESTURES
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Keys", "Does"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, text) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.table = table
