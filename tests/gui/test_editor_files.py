"""Files: save and reopen, unknown node types kept unchanged, clipboard text, outputs, plugins."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QApplication

from kinograph.core.graph import Graph
from kinograph.core.registry import Registry
from kinograph.gui.files import RecentFiles
from kinograph.gui.plugins_dialog import PluginsDialog


def _small_graph(window) -> None:
    e = window.editor
    a = e.add_node("kinograph.frames.test_pattern", (0, 0), {"width": 64, "height": 48})
    b = e.add_node("test.invert", (300, 0))
    e.connect(f"{a}.frames", f"{b}.frames")
    e.add_reroute(window.graph.links[0], 0, (150.0, 80.0))


def test_save_reopen_gives_the_same_graph(window, tmp_path) -> None:
    _small_graph(window)
    path = tmp_path / "pipe.json"
    assert window.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text == window.graph.to_json()
    assert Graph.load(path, window.registry).to_json() == text  # `kinograph run` reads the same file
    window.new_graph()
    assert window.graph.nodes == {}
    assert window.open_file(path)
    assert window.graph.to_json() == text
    assert len(window.scene.node_items) == 2 and len(window.scene.link_items) == 1
    assert len(window.scene.reroute_items) == 1  # editor-only state came back from meta
    assert window.save()
    assert path.read_text(encoding="utf-8") == text
    assert RecentFiles().paths()[0] == str(path.resolve())


def test_unknown_node_type_opens_as_placeholder_and_saves_back_unchanged(window, tmp_path) -> None:
    data = {
        "format": "kinograph.graph",
        "version": 3,
        "meta": {"name": "uses a missing plugin", "description": ""},
        "nodes": {
            "n": {"type": "kinograph.value.number", "version": 1, "params": {"value": 2.0},
                  "ui": {"pos": [0.0, 0.0]}, "bypass": False},
            "magic": {"type": "acme.magic", "version": 3, "params": {"power": 9000, "style": {"a": [1, 2]}},
                      "ui": {"pos": [300.0, 0.0]}, "bypass": False,
                      "plugin": {"name": "acme", "dist": "acme-nodes", "version": "2.0"}},
        },
        "links": [{"from": "n.value", "to": "magic.amount"}],
    }
    source = tmp_path / "missing.json"
    source.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    assert window.open_file(source)
    item = window.scene.node_items["magic"]
    assert item.missing and "amount" in item.inputs  # ports learned from its links
    assert len(window.scene.link_items) == 1
    assert "acme-nodes" in item.toolTip()
    assert "not installed" in window.statusBar().currentMessage()
    out = tmp_path / "saved.json"
    assert window.save_as(out)
    assert json.loads(out.read_text(encoding="utf-8")) == data
    assert out.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


def test_copy_paste_goes_through_the_clipboard_as_graph_json(window) -> None:
    _small_graph(window)
    window.select_all()
    window.copy()
    text = QApplication.clipboard().text()
    fragment = json.loads(text)
    assert fragment["format"] == "kinograph.graph" and len(fragment["nodes"]) == 2
    assert len(fragment["links"]) == 1
    window.paste()
    assert len(window.graph.nodes) == 4 and len(window.graph.links) == 2
    pasted = sorted(window.scene.selected_node_ids())
    assert pasted == ["invert2", "test_pattern2"]
    assert window.graph.nodes["test_pattern2"].params["width"] == 64
    QApplication.clipboard().setText("not a graph")
    window.paste()
    assert "Cannot paste" in window.statusBar().currentMessage() and len(window.graph.nodes) == 4


def test_duplicate_and_cut(window) -> None:
    _small_graph(window)
    window.view.select_only(["invert"])
    window.duplicate()
    assert "invert2" in window.graph.nodes
    pos = window.graph.nodes["invert2"].ui["pos"]
    assert pos == [330.0, 30.0]  # offset, so the copy is visible
    window.view.select_only(["invert2"])
    window.cut()
    assert "invert2" not in window.graph.nodes
    assert "invert2" in QApplication.clipboard().text()


def test_opening_an_output_without_a_graph_says_why(window, tmp_path) -> None:
    from PySide6.QtGui import QImage

    _small_graph(window)
    before = window.graph.to_json()
    png = tmp_path / "plain.png"
    image = QImage(8, 8, QImage.Format.Format_RGB888)
    image.fill(0)
    image.save(str(png))
    window.stack.setClean()
    assert not window.open_file(png)
    message = window.statusBar().currentMessage()
    assert "plain.png" in message and ("no kinograph graph" in message or "not installed" in message)
    assert window.graph.to_json() == before


def test_prompt_before_dropping_unsaved_work(window, tmp_path) -> None:
    window.editor.add_node("test.noop")
    window.ask_unsaved = lambda: "cancel"
    window.new_graph()
    assert len(window.graph.nodes) == 1
    path = tmp_path / "kept.json"
    window.ask_unsaved = lambda: "save"
    window.save_as(path)
    window.editor.add_node("test.noop")
    window.new_graph()  # saves to the current path first
    assert window.graph.nodes == {}
    assert len(json.loads(path.read_text())["nodes"]) == 2


def test_failed_plugins_are_listed_and_counted(qtbot, gui_registry: Registry) -> None:
    from kinograph.core.hookspecs import hookimpl
    from kinograph.gui.main_window import MainWindow

    class Broken:
        @hookimpl
        def kinograph_nodes(self):
            raise RuntimeError("broken on purpose")

    gui_registry.register_plugin(Broken(), "broken-pack", dist="broken-pack", version="0.1")
    window = MainWindow(gui_registry)
    qtbot.addWidget(window)
    assert window.plugins_button.text() == "⚠ 1 plugin failed to load"
    dialog = PluginsDialog(gui_registry, window)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 4).text() for r in range(dialog.table.rowCount())}
    assert rows["broken-pack"] == "failed"
    assert "broken on purpose" in dialog.details.toPlainText()


def test_run_editor_opens_the_file_and_returns_zero_on_close(qtbot, gui_registry: Registry, tmp_path) -> None:
    from PySide6.QtCore import QTimer

    from kinograph.gui.app import run_editor
    from kinograph.gui.main_window import MainWindow

    graph = Graph(gui_registry)
    graph.add_node("kinograph.value.number", "n", {"value": 4.0}, (0, 0))
    path = tmp_path / "start.json"
    graph.save(path)
    seen: list[int] = []

    def close_windows() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen.append(len(widget.graph.nodes))
                widget.close()

    QTimer.singleShot(200, close_windows)
    assert run_editor(str(path)) == 0
    assert seen == [1]


def test_opening_a_png_made_by_kinograph_reopens_its_graph(window, tmp_path) -> None:
    embed = __import__("pytest").importorskip("kinograph.plugins.media.embed")
    import numpy as np
    from PIL import Image

    graph = Graph(window.registry)
    graph.add_node("kinograph.frames.test_pattern", "pattern", {"width": 64}, (0, 0))
    graph.add_node("test.invert", "invert", None, (300, 0))
    graph.connect("pattern.frames", "invert.frames")
    png = tmp_path / "frame.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(png, pnginfo=embed.png_text(graph.to_json()))
    assert window.open_file(png)
    assert window.graph.to_json() == graph.to_json()
    assert window.path is None and "frame.png" in window.windowTitle()  # Save must not write over the PNG
    assert len(window.scene.link_items) == 1


def test_take_graph_replaces_the_graph_and_can_mark_it_unsaved(window, tmp_path) -> None:
    other = Graph(window.registry)
    other.add_node("kinograph.frames.test_pattern", "pattern", {"width": 64, "height": 48})
    path = tmp_path / "restored.json"
    window.take_graph(other, path, modified=True)
    assert list(window.graph.nodes) == ["pattern"] and "pattern" in window.scene.node_items
    assert window.path == path and window.isWindowModified()
    assert window.windowTitle().startswith("restored.json")
    assert not window.stack.canUndo()  # the old graph's history does not apply to this one
    asked = []
    window.ask_unsaved = lambda: asked.append(True) or "cancel"
    assert not window.maybe_save()  # closing asks before dropping the restored work
    assert asked
    window.take_graph(Graph(window.registry))
    assert window.path is None and not window.isWindowModified() and window.graph.nodes == {}


def test_opening_an_mp4_made_by_a_run_reopens_the_graph_that_made_it(window, tmp_path) -> None:
    from kinograph.core.scheduler import RunOptions, Session

    out = tmp_path / "made.mp4"
    graph = Graph(window.registry)
    graph.add_node("kinograph.frames.test_pattern", "pattern", {"width": 64, "height": 48, "frames": 6}, (0, 0))
    graph.add_node("kinograph.video.write", "write", {"path": str(out), "preset": "ultrafast"}, (300, 0))
    graph.connect("pattern.frames", "write.frames")
    result = Session(window.registry).run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.ok, result.failures
    assert window.open_file(out)
    assert window.graph.to_json() == graph.to_json()
    assert window.path is None  # Save asks for a graph file name instead of writing over the video
