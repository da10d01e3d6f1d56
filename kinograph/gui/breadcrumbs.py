"""Breadcrumbs: where the canvas is in a graph of groups (``Graph > grade > blur_stack``).

Shown over the canvas's top-left corner while a group is entered (as Blender and Houdini show
the path of the network). Each crumb goes back to its level; a group that uses a reusable
subgraph file says so, since its content is read-only until made local.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class Breadcrumbs(QFrame):
    """The path of entered groups; ``go_to(depth)`` asks for a level (0: the top graph)."""

    go_to = Signal(int)
    #: the user asked to make the read-only group shown local (editable)
    make_local = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumbs")
        self.setStyleSheet(
            "#breadcrumbs { background: rgba(32, 35, 40, 220); border: 1px solid #4a5560; border-radius: 4px; }"
            "QToolButton { border: none; padding: 2px 4px; color: #9ecbff; }"
            "QToolButton:disabled { color: #e6e6e6; font-weight: bold; }"
        )
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(6, 2, 6, 2)
        self.row.setSpacing(2)
        self.crumbs: list[QToolButton] = []
        self._parts: list[QWidget] = []
        self.note = QLabel("")
        self.note.setProperty("role", "hint")
        self.local_button = QPushButton("Make local")
        self.local_button.setToolTip("Keep this group's graph in this file, so it can be edited here")
        self.local_button.clicked.connect(self.make_local.emit)
        self.hide()

    def show_path(self, titles: list[str], read_only_source: str = "") -> None:
        """Show ``titles`` (the top graph first); hidden at the top level."""
        for part in self._parts:
            self.row.removeWidget(part)
            part.deleteLater()
        self.crumbs, self._parts = [], []
        while self.row.count():
            self.row.takeAt(0)
        for depth, title in enumerate(titles):
            if depth:
                separator = QLabel("\u203a")  # a single right angle quote
                separator.setProperty("role", "hint")
                self.row.addWidget(separator)
                self._parts.append(separator)
            button = QToolButton(self)
            button.setText(title)
            button.setEnabled(depth < len(titles) - 1)  # the level shown is not a link
            button.clicked.connect(lambda _=False, depth=depth: self.go_to.emit(depth))
            self.row.addWidget(button)
            self.crumbs.append(button)
            self._parts.append(button)
        self.note.setText(f"  uses {read_only_source}: read-only" if read_only_source else "")
        self.row.addWidget(self.note)
        self.row.addWidget(self.local_button)
        self.note.setVisible(bool(read_only_source))
        self.local_button.setVisible(bool(read_only_source))
        self.setVisible(len(titles) > 1)
        self.adjustSize()
        self.move(8, 8)
        self.raise_()

    def titles(self) -> list[str]:
        """The crumbs' texts (for tests and screen readers)."""
        return [c.text() for c in self.crumbs]
