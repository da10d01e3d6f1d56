"""Run state the user can trust: "queued" at once, a cancel summary that matches the badges, a
fresh start on another graph, no silent cancel on quit, a viewer that follows the selection,
Run to Here, and live updates that re-run only what a slider feeds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSlider, QStyle, QStyleOptionSlider
from run_helpers import add_pattern_to_video, run_and_wait

from kinograph.core.graph import Graph
from kinograph.core.registry import Registry


def badge(window, node_id: str) -> str:
    item = window.node_item(node_id)
    return item.badge.text if item is not None and item.badge is not None else ""


def sum_graph(window) -> None:
    """number -> add -> record, and a number nothing reads."""
    e = window.editor
    e.add_node("kinograph.value.number", (0.0, 0.0))
    e.add_node("test.add", (260.0, 0.0))
    e.add_node("test.record", (520.0, 0.0))
    e.add_node("kinograph.value.number", (0.0, 300.0))  # number2: not needed by the record
    assert e.connect("number.value", "add.a") is None
    assert e.connect("add.sum", "record.value") is None


def test_run_shows_queued_at_once_on_the_nodes_it_will_run(qtbot, run_window) -> None:
    sum_graph(run_window)
    run_and_wait(qtbot, run_window)
    assert badge(run_window, "add").startswith("done")
    with qtbot.waitSignal(run_window.run_features.controller.run_finished, timeout=30000):
        QTest.keyClick(run_window.view, Qt.Key.Key_F5)
        # Before the run process said anything: the nodes it will run say so, last run's "done" is gone.
        assert [badge(run_window, n) for n in ("number", "add", "record")] == ["queued"] * 3
        assert badge(run_window, "number2") == ""
    assert badge(run_window, "record").startswith("done") or badge(run_window, "record") == "cached"


def test_the_cancel_summary_counts_what_the_badges_show(qtbot, run_window, tmp_path: Path) -> None:
    add_pattern_to_video(run_window, tmp_path / "long.mp4", frames=100_000, size=(32, 24))
    run_window.editor.add_node("kinograph.frames.test_pattern", (0.0, 300.0))  # not needed: no badge
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.event, timeout=30000,
                          check_params_cb=lambda e: e.kind == "node_progress"):
        QTest.keyClick(run_window.view, Qt.Key.Key_F5)
    with qtbot.waitSignal(features.controller.run_finished, timeout=30000) as blocker:
        QTest.keyClick(run_window.view, Qt.Key.Key_Escape)
    result = blocker.args[0]
    assert result.status == "cancelled"
    shown: dict[str, int] = {}
    for node in result.plan:
        state = features.badges.states[node].state
        shown[state] = shown.get(state, 0) + 1
    said = run_window.statusBar().currentMessage()
    counted = dict((state, int(n)) for n, state in re.findall(r"(\d+) (\w+)", said.split("(", 1)[1]))
    assert counted == shown, said
    assert "running" not in said and "running" not in features.log.texts()[-1]
    assert f"{shown['cancelled']} cancelled" in features.log.texts()[-1]


def test_opening_another_graph_resets_the_log_the_viewer_and_the_run_state(qtbot, run_window, tmp_path) -> None:
    sum_graph(run_window)
    run_and_wait(qtbot, run_window)
    run_window.view.select_only(["add"])
    features = run_window.run_features
    assert features.log.texts() and features.run_state.text() and features.viewer.node_id == "add"
    other = Graph(run_window.registry)
    other.add_node("test.noop", "elsewhere", None, (0.0, 0.0))
    other.save(tmp_path / "other.json")
    assert run_window.open_file(tmp_path / "other.json")
    assert features.log.texts() == []
    assert features.run_state.text() == ""
    assert features.viewer.node_id is None and "Select a node" in features.viewer.message.text()


def test_quitting_during_a_run_asks_first(qtbot, run_window, tmp_path: Path) -> None:
    add_pattern_to_video(run_window, tmp_path / "long.mp4", frames=100_000, size=(32, 24))
    features = run_window.run_features
    asked: list[str] = []
    answers = iter(["keep", "stop"])
    features.ask_stop_run = lambda: asked.append("asked") or next(answers)
    with qtbot.waitSignal(features.controller.event, timeout=30000,
                          check_params_cb=lambda e: e.kind == "node_progress"):
        QTest.keyClick(run_window.view, Qt.Key.Key_F5)
    QTest.keyClick(run_window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["asked"] and run_window.isVisible() and features.controller.busy  # kept running
    QTest.keyClick(run_window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["asked", "asked"]
    qtbot.waitUntil(lambda: not run_window.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: features.controller.process_pid is None, timeout=5000)
    assert not (tmp_path / "long.mp4").exists()


def test_the_viewer_follows_the_selection(qtbot, run_window) -> None:
    sum_graph(run_window)
    run_and_wait(qtbot, run_window)
    viewer = run_window.run_features.viewer
    QTest.mouseClick(run_window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=run_window.view.mapFromScene(run_window.node_item("add").sceneBoundingRect().center()))
    assert viewer.node_id == "add" and viewer.kind == "text"
    empty = run_window.view.mapFromScene(run_window.node_item("record").sceneBoundingRect().bottomRight()
                                         + type(run_window.node_item("record").pos())(200, 200))
    QTest.mouseClick(run_window.view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert run_window.scene.selected_node_ids() == []
    assert viewer.node_id is None and "Select a node" in viewer.message.text()


def test_run_to_here_runs_what_the_node_needs(qtbot, run_window) -> None:
    sum_graph(run_window)
    run_window.view.fit()
    QApplication.processEvents()
    point = run_window.view.mapFromScene(run_window.node_item("add").sceneBoundingRect().center())
    run_window.view.customContextMenuRequested.emit(point)
    action = next(a for a in run_window.context_menu.actions() if a.text() == "Run to Here")
    with qtbot.waitSignal(run_window.run_features.controller.run_finished, timeout=30000) as blocker:
        action.trigger()
    result = blocker.args[0]
    assert result.plan == ["number", "add"] and result.status == "finished"
    assert badge(run_window, "record") == ""  # not needed to get to "add"
    assert run_window.run_features.viewer.node_id == "add"


# -- live updates -------------------------------------------------------------------------------------


@pytest.fixture
def live_graph(run_window, registry: Registry):
    """number -> scale (a slider) -> record, and number2 -> record2 beside it."""
    import live_nodes

    info = registry.register_plugin(live_nodes, "livetest")
    assert not info.errors, info.errors
    e = run_window.editor
    e.add_node("kinograph.value.number", (0.0, 0.0), {"value": 2.0})
    e.add_node("livetest.scale", (260.0, 0.0))
    e.add_node("test.record", (520.0, 0.0))
    e.add_node("kinograph.value.number", (0.0, 300.0), {"value": 5.0})
    e.add_node("test.record", (260.0, 300.0))
    for source, target in (("number.value", "scale.value"), ("scale.value", "record.value"),
                           ("number2.value", "record2.value")):
        assert e.connect(source, target) is None
    return run_window


def drag_slider(qtbot, slider: QSlider, steps: int = 8, before_release=lambda: None) -> None:
    """Press the slider's handle, drag it right in steps (30 ms apart), release: as a hand does."""
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    handle = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                           QStyle.SubControl.SC_SliderHandle, slider).center()
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, handle)
    for i in range(1, steps + 1):
        QTest.mouseMove(slider, handle + QPoint(i * 6, 0))
        qtbot.wait(30)
    before_release()
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, handle + QPoint(steps * 6, 0))


def settled(features) -> bool:
    return not features.controller.busy and not features._live_timer.isActive() and not features._live_waiting


def test_a_slider_drag_with_live_updates_reruns_only_what_the_param_feeds(qtbot, live_graph) -> None:
    window, features = live_graph, live_graph.run_features
    window.actions["live_updates"].trigger()  # Run ▸ Live Updates
    assert features.live_action.isChecked()
    run_and_wait(qtbot, window)
    first = {n: badge(window, n) for n in ("number", "number2", "record2")}
    started: list[str] = []
    runs: list[object] = []
    features.controller.event.connect(lambda e: started.append(e.node_id) if e.kind == "node_started" else None)
    features.controller.run_started.connect(runs.append)
    window.view.select_only(["scale"])
    slider = window.inspector.fields["factor"].widget.findChild(QSlider)
    steps_before = window.stack.count()
    during: list[int] = []
    drag_slider(qtbot, slider, before_release=lambda: during.append(len(runs)))
    qtbot.waitUntil(lambda: bool(runs) and settled(features), timeout=30000)

    assert during[0] >= 1  # the result followed the slider while it moved, not only on release
    assert set(started) == {"scale", "record"}  # only what the factor feeds
    assert features.controller.last_request_kind == "edits"  # the run process got the edit, not the graph
    assert window.graph.nodes["scale"].params["factor"] > 1.0
    assert window.stack.count() == steps_before + 1  # the whole drag is one undo step
    # The nodes that did not run keep what they showed, neither "queued" nor "cancelled".
    assert {n: badge(window, n) for n in ("number", "number2", "record2")} == first
    assert badge(window, "record").startswith("done")
    assert len(runs) <= 4  # one run per 100 ms of dragging at most, never one per step


def test_without_live_updates_a_slider_drag_runs_nothing(qtbot, live_graph) -> None:
    window, features = live_graph, live_graph.run_features
    assert not features.live_action.isChecked()  # off by default
    runs: list[object] = []
    features.controller.run_started.connect(runs.append)
    window.view.select_only(["scale"])
    drag_slider(qtbot, window.inspector.fields["factor"].widget.findChild(QSlider))
    qtbot.wait(400)
    assert runs == [] and not features.controller.busy
    assert window.graph.nodes["scale"].params["factor"] > 1.0  # the edit itself is made


def test_the_live_updates_choice_is_remembered(qtbot, run_window) -> None:
    from kinograph.gui.main_window import MainWindow
    from kinograph.gui.run import attach_run_features

    run_window.actions["live_updates"].trigger()
    other = MainWindow(run_window.registry)
    features = attach_run_features(other)
    qtbot.addWidget(other)
    assert features.live_action.isChecked()
    features.close()


def test_a_refused_run_names_the_node_and_field_in_the_editors_words(qtbot, run_window, tmp_path: Path) -> None:
    e = run_window.editor
    e.add_node("test.read_file", (0.0, 0.0), {"path": str(tmp_path / "photo.png")})  # not there
    e.add_node("test.record", (260.0, 0.0))
    assert e.connect("read_file.size", "record.value") is None
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.run_refused, timeout=30000):
        QTest.keyClick(run_window.view, Qt.Key.Key_F5)
    said = run_window.statusBar().currentMessage()
    assert "read_file \u203a Path: file does not exist" in said, said
    shown = [said, *features.log.texts(), features.log.details.toPlainText(), run_window.node_item("read_file").badge.message]
    assert not any("--set" in text or "nodes.read_file" in text for text in shown), shown
    assert run_window.node_item("read_file").badge.message.startswith("Path: file does not exist")


def test_restore_in_the_recovery_bar_gives_the_canvas_the_keys(qtbot, run_window, registry, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys
    import time

    from kinograph.gui.autosave import offer_recovery, recovery_dir

    graph = Graph(registry, base_dir=tmp_path)
    graph.add_node("kinograph.value.number", node_id="kept")
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = {"format": "kinograph.recovery", "version": 1, "pid": int(dead.stdout), "saved_at": time.time(),
              "path": str(tmp_path / "g.json"), "base_dir": str(tmp_path), "graph": json.loads(graph.to_json())}
    (folder / "crashed.json").write_text(json.dumps(record))
    bar = offer_recovery(run_window)
    QApplication.processEvents()
    QTest.mouseClick(bar.restore_button, Qt.MouseButton.LeftButton)  # the button takes the focus as it is pressed
    QApplication.processEvents()
    assert "kept" in run_window.graph.nodes
    assert QApplication.focusWidget() is run_window.view
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert run_window.view.search.isVisible()
