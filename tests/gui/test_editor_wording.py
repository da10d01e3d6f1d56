"""Errors in the user's words, in the inspector: sentences instead of patterns, messages that
wrap, a missing input file flagged as it is typed, and where a relative output of an unsaved
graph goes. Values are typed with real key events."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kinograph.core.errors import Problem
from kinograph.gui.wording import problem_text


def select_new(window, type_id: str) -> str:
    node_id = window.editor.add_node(type_id, (0, 0))
    window.view.select_only([node_id])
    QApplication.processEvents()
    return node_id


def type_into(edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def test_a_colour_typed_wrong_is_told_as_a_sentence(window) -> None:
    node_id = select_new(window, "guitest.styled")
    field = window.inspector.fields["tint"]
    type_into(field.widget.edit, "orange")
    text = field.error.plain_text()
    assert field.error.isVisibleTo(window.inspector)
    assert "not a colour" in text and "#1a2b3c" in text
    assert "pattern" not in text and "^#" not in text and "[0-9" not in text
    assert window.graph.nodes[node_id].params["tint"] != "orange"


def test_a_missing_input_file_is_flagged_as_soon_as_it_is_typed(window, tmp_path: Path) -> None:
    select_new(window, "test.read_file")
    field = window.inspector.fields["path"]
    missing = tmp_path / "nowhere" / "photo.png"
    type_into(field.widget.edit, str(missing))
    assert field.note.isVisibleTo(window.inspector)
    assert "No such file" in field.note.plain_text() and str(missing) in field.note.plain_text()
    there = tmp_path / "here.bin"
    there.write_bytes(b"1")
    type_into(field.widget.edit, str(there))
    assert not field.note.isVisibleTo(window.inspector)


def test_a_relative_output_of_an_unsaved_graph_says_where_it_goes(window, tmp_path: Path) -> None:
    node_id = select_new(window, "guitest.styled")
    note = window.inspector.fields["target"].note
    assert note.isVisibleTo(window.inspector)
    assert "not saved yet" in note.plain_text() and str(Path.cwd() / "out.png") in note.plain_text()
    assert window.save_as(tmp_path / "graph.json")
    window.view.select_only([])
    window.view.select_only([node_id])
    note = window.inspector.fields["target"].note
    assert note.plain_text() == f"Written to {tmp_path / 'out.png'}"


def test_long_messages_wrap_inside_the_dock(window, tmp_path: Path) -> None:
    window.inspector_dock.setMinimumWidth(0)
    window.resizeDocks([window.inspector_dock], [300], Qt.Orientation.Horizontal)
    select_new(window, "test.read_file")
    field = window.inspector.fields["path"]
    deep = tmp_path / ("a_rather_long_folder_name_" * 4) / ("and_a_long_file_name_" * 4 + ".png")
    type_into(field.widget.edit, str(deep))
    QApplication.processEvents()
    viewport = window.inspector.viewport()
    label = field.note
    right = label.mapTo(viewport, label.rect().topRight()).x()
    assert right <= viewport.width(), (right, viewport.width())  # not cut at the dock's edge ...
    assert window.inspector.widget().width() <= viewport.width()
    line = QFontMetrics(label.font()).lineSpacing()
    assert label.height() >= 3 * line  # ... but wrapped over several lines
    assert str(deep) in label.plain_text()  # and all of it is there


def test_problems_name_the_node_and_the_field_without_command_line_words(window) -> None:
    select_new(window, "test.read_file")
    where = "nodes.read_file.params.path"
    text = problem_text(Problem(where, f"file does not exist: {os.sep}x.bin", "fix the path or use --set"), window.graph)
    assert text == f"read_file \u203a Path: file does not exist: {os.sep}x.bin (fix the path)"
    inside = problem_text(Problem("nodes.grade/blur.inputs.image", "required input is not connected"), None)
    assert inside == "blur in group grade \u203a input “image”: required input is not connected"


def test_selecting_a_node_whose_file_param_has_a_note_keeps_the_keys_on_the_canvas(window, tmp_path: Path) -> None:
    from helpers import node_point

    node_id = window.editor.add_node("test.read_file", (0, 0), {"path": str(tmp_path / "missing.png")})
    window.view.fit()
    QApplication.processEvents()
    window.view.setFocus()
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(window, node_id))
    assert window.inspector.fields["path"].note.isVisibleTo(window.inspector)
    QApplication.processEvents()
    assert QApplication.focusWidget() is window.view  # no stray window took it
    QTest.keyClick(window.view, Qt.Key.Key_N)
    assert len(window.graph.meta["editor"]["notes"]) == 1
