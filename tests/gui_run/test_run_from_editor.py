"""Running from the editor: run, re-run from the cache, cancel, failures, and editing during a run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from run_helpers import add_pattern_to_video, run_and_wait

from kinograph.core.events import Event
from kinograph.core.graph import Graph
from kinograph.gui.run.badges import STALE_COLOR


def badge_text(window, node_id: str) -> str:
    item = window.node_item(node_id)
    assert item is not None
    return item.badge.text if item.badge else ""


def test_run_writes_the_output_and_badges_show_done(qtbot, run_window, tmp_path: Path) -> None:
    out = tmp_path / "renders" / "pattern.mp4"
    pattern, write = add_pattern_to_video(run_window, out)

    with qtbot.waitSignal(run_window.run_features.controller.run_finished, timeout=60000) as blocker:
        qtbot.keyClick(run_window.view, Qt.Key.Key_F5)  # F5, as a user runs
    result = blocker.args[0]

    assert result.status == "finished", result.failures
    assert out.is_file() and out.stat().st_size > 0
    states = run_window.run_features.badges.states
    assert states[pattern].state == "done" and states[write].state == "done"
    assert badge_text(run_window, pattern).startswith("done")
    assert badge_text(run_window, write).startswith("done")
    assert "s" in badge_text(run_window, write)  # seconds are shown
    log = run_window.run_features.log.texts()
    assert any(line.startswith("run finished") for line in log)
    # The stream that fed the writer is on disk for the scrubber: a thumbnail was made from it.
    assert pattern in run_window.run_features.badges.thumbnails
    assert run_window.actions["run"].isEnabled() and not run_window.actions["cancel_run"].isEnabled()


def test_rerun_after_an_edit_takes_upstream_from_the_cache(qtbot, run_window, tmp_path: Path) -> None:
    out = tmp_path / "pattern.mp4"
    pattern, write = add_pattern_to_video(run_window, out)
    run_and_wait(qtbot, run_window)
    first_size = out.stat().st_size

    assert run_window.editor.set_param(write, "crf", 40) is None
    qtbot.waitUntil(lambda: "edited since the last run" in run_window.node_item(write).toolTip(), timeout=2000)
    assert run_window.node_item(write).badge.color == STALE_COLOR  # greyed: out of date
    assert run_window.node_item(pattern).badge.color != STALE_COLOR  # upstream of the edit: still good
    result = run_and_wait(qtbot, run_window)

    assert result.states == {pattern: "cached", write: "done"}
    assert badge_text(run_window, pattern) == "cached"
    assert badge_text(run_window, write).startswith("done")
    assert out.stat().st_size < first_size  # the edit reached the writer
    assert any(line == f"{pattern}: from the cache" for line in run_window.run_features.log.texts())


def test_cancel_stops_a_long_stream_and_leaves_no_file(qtbot, run_window, tmp_path: Path) -> None:
    out = tmp_path / "long.mp4"
    total = 100_000
    pattern, write = add_pattern_to_video(run_window, out, frames=total, size=(64, 48), chunk=8)
    features = run_window.run_features
    progress: list[Event] = []
    features.controller.event.connect(lambda e: progress.append(e) if e.kind == "node_progress" else None)

    with qtbot.waitSignal(features.controller.event, timeout=30000,
                          check_params_cb=lambda e: e.kind == "node_progress" and e.data.get("done", 0) >= 16):
        run_window.actions["run"].trigger()
    assert features.controller.busy
    assert badge_text(run_window, pattern).startswith("running")

    # The graph stays editable during the run (the run works on a snapshot).
    assert run_window.editor.set_param(pattern, "width", 96) is None
    extra = run_window.editor.add_node("kinograph.value.number", (0.0, 300.0))
    assert extra in run_window.graph.nodes

    with qtbot.waitSignal(features.controller.run_finished, timeout=20000) as blocker:
        qtbot.keyClick(run_window.view, Qt.Key.Key_Escape)  # Esc, as a user cancels
    result = blocker.args[0]

    assert result.status == "cancelled"
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".long")], "partial file left behind"
    assert max(e.data.get("done", 0) for e in progress) < total
    assert features.badges.states[write].state == "cancelled"
    assert not features.controller.busy and run_window.actions["run"].isEnabled()
    # Still usable: edits and undo work, and the edit made during the run is there.
    assert run_window.graph.nodes[pattern].params["width"] == 96
    run_window.stack.undo()
    assert extra not in run_window.graph.nodes
    assert run_window.editor.set_param(pattern, "frames", 8) is None
    result = run_and_wait(qtbot, run_window)
    assert result.status == "finished" and out.is_file()


def test_a_failing_node_shows_its_message_and_other_nodes_keep_their_results(
        qtbot, run_window, tmp_path: Path) -> None:
    out = tmp_path / "ok.mp4"
    _pattern, write = add_pattern_to_video(run_window, out)
    editor = run_window.editor
    number = editor.add_node("kinograph.value.number", (0.0, 300.0))
    fail = editor.add_node("test.fail", (260.0, 300.0))
    record = editor.add_node("test.record", (520.0, 300.0))
    assert editor.connect(f"{number}.value", f"{fail}.a") is None
    assert editor.connect(f"{fail}.out", f"{record}.value") is None
    nodes_before = set(run_window.graph.nodes)

    result = run_and_wait(qtbot, run_window)

    assert result.status == "failed"
    item = run_window.node_item(fail)
    assert item.badge.text == "failed"
    assert "this node always fails" in item.badge.message
    assert run_window.node_item(record).badge.text == "skipped"
    assert badge_text(run_window, write).startswith("done") and out.is_file()
    assert set(run_window.graph.nodes) == nodes_before
    features = run_window.run_features
    assert features.controller.record.outputs[number]["value"] == 0.0
    # The log line of the failure carries the traceback for the details panel.
    log = features.log
    failed = [i for i in range(log.lines.count()) if f"{fail}: failed" in log.lines.item(i).text()]
    assert failed
    log.lines.setCurrentRow(failed[0])
    assert "Traceback" in log.details.toPlainText() and "ValueError" in log.details.toPlainText()
    # The viewer tells what went wrong on the failed node.
    run_window.view.select_only([fail])
    assert features.viewer.kind == "message"
    assert "this node always fails" in features.viewer.message.text()


def test_invalid_graph_is_refused_with_a_reason(qtbot, run_window) -> None:
    fail = run_window.editor.add_node("test.fail", (0.0, 0.0))
    run_window.editor.add_node("test.record", (260.0, 0.0))
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.run_refused, timeout=10000) as blocker:
        run_window.actions["run"].trigger()
    message = blocker.args[0]
    assert "record" in message  # the unconnected required input is named
    assert not features.controller.busy and run_window.actions["run"].isEnabled()
    assert fail in run_window.graph.nodes
    assert any("record" in line for line in features.log.texts())


def test_a_graph_without_output_nodes_suggests_run_selected(qtbot, run_window) -> None:
    run_window.editor.add_node("kinograph.value.number", (0.0, 0.0))
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.run_refused, timeout=10000):
        run_window.actions["run"].trigger()
    assert "Run selected" in run_window.statusBar().currentMessage()


def test_run_selected_runs_only_what_the_selection_needs(qtbot, run_window, tmp_path: Path) -> None:
    out = tmp_path / "not_written.mp4"
    add_pattern_to_video(run_window, out)
    path = run_window.editor.add_node("kinograph.motion.camera_path", (0.0, 300.0))
    run_window.view.select_only([path])
    box = run_window.run_features.device_box
    assert [box.itemText(i) for i in range(box.count())][:2] == ["auto", "cpu"]
    box.setCurrentText("cpu")
    options = []
    run_window.run_features.controller.run_started.connect(options.append)

    result = run_and_wait(qtbot, run_window, selected=True)
    assert options[0].device == "cpu" and options[0].targets == [path]

    assert result.plan == [path] and result.states == {path: "done"}
    assert not out.exists()
    viewer = run_window.run_features.viewer
    assert viewer.node_id == path and viewer.kind == "motion"
    steps = run_window.graph.nodes[path].params["steps"]
    assert set(viewer.motion_plot.curves) == {"pan_x", "pan_y", "zoom", "rotation"}
    assert all(len(values) == steps for values in viewer.motion_plot.curves.values())


def test_opening_another_graph_during_a_run_drops_the_old_run(qtbot, run_window, registry, tmp_path: Path) -> None:
    out = tmp_path / "old.mp4"
    pattern, _write = add_pattern_to_video(run_window, out, frames=100_000)
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.event, timeout=30000,
                          check_params_cb=lambda e: e.kind == "node_progress"):
        run_window.actions["run"].trigger()
    other = Graph(registry)
    other.add_node("kinograph.value.number", node_id=pattern)  # same id, another graph
    other.save(tmp_path / "other.json")
    assert run_window.open_file(tmp_path / "other.json")

    qtbot.waitUntil(lambda: not features.controller.busy, timeout=20000)
    assert not out.exists()
    assert run_window.node_item(pattern).badge is None  # nothing of the old run on the new graph
    assert features.controller.record.outputs == {}
    run_window.view.select_only([pattern])
    result = run_and_wait(qtbot, run_window, selected=True)
    assert result.states == {pattern: "done"}


def test_log_shows_warnings_and_keeps_failure_details(run_window) -> None:
    log = run_window.run_features.log
    log.add_event(Event("node_warning", "features", {"message": "ResNet weights unavailable, random init"}))
    log.add_event(Event("node_progress", "features", {"done": 1, "total": 2}))  # badges show progress, not the log
    log.add_event(Event("node_failed", "motion", {"message": "bad input", "traceback": "Traceback: here"}))
    assert log.texts() == ["features: warning: ResNet weights unavailable, random init", "motion: failed: bad input"]
    assert log.details.toPlainText() == "Traceback: here"  # the newest failure is selected
    log.lines.setCurrentRow(0)
    assert log.details.isHidden()


def test_run_keys_come_from_the_shortcut_table_and_the_help_lists_them(run_window) -> None:
    from kinograph.gui.shortcuts import HOTKEYS, ShortcutsDialog

    declared = {h.action: h.keys for h in HOTKEYS}
    for name, keys in (("run", "F5"), ("run_selected", "Shift+F5"), ("cancel_run", "Esc")):
        assert declared[name] == keys
        action = run_window.actions[name]
        assert action.shortcut().toString() == keys
        assert f"({keys})" in action.toolTip()
    dialog = ShortcutsDialog(run_window)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert "Run" in rows["F5"] and "selected" in rows["Shift+F5"] and "Cancel" in rows["Esc"]


def test_a_node_that_warned_says_so_on_the_canvas(qtbot, run_window, tmp_path: Path) -> None:
    # Odd sizes make the writer pad the frames, and warn: the node must not look like a clean success.
    pattern, write = add_pattern_to_video(run_window, tmp_path / "odd.mp4", frames=4, size=(63, 47))
    result = run_and_wait(qtbot, run_window)
    assert result.status == "finished"
    badge = run_window.node_item(write).badge
    assert badge is not None and badge.text.startswith("done") and badge.text.endswith("⚠")
    assert "padded" in badge.message and "padded" in badge.tooltip
    assert run_window.node_item(pattern).badge.message == ""  # the node that did not warn stays clean
    # The note under the node pushes nothing out of view: fit still shows it.
    run_window.view.fit()
    QApplication.processEvents()
    item = run_window.node_item(write)
    visible = run_window.view.mapToScene(run_window.view.viewport().rect()).boundingRect()
    assert visible.contains(item.sceneBoundingRect())


def test_a_refused_run_marks_the_nodes_it_names_until_the_graph_runs(qtbot, run_window, tmp_path: Path) -> None:
    pattern, write = add_pattern_to_video(run_window, tmp_path / "v.mp4", frames=4, size=(32, 24))
    record = run_window.editor.add_node("test.record", (0.0, 200.0))  # its input is not connected
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.run_refused, timeout=10000) as blocker:
        run_window.actions["run"].trigger()
    badge = run_window.node_item(record).badge
    assert badge is not None and badge.text == "cannot run", blocker.args
    assert badge.message and badge.message in blocker.args[1]  # the core's reason, on the node
    assert run_window.node_item(pattern).badge is None  # only the node named is marked
    run_window.editor.delete([record])
    assert run_and_wait(qtbot, run_window).status == "finished"
    assert run_window.node_item(write).badge.text.startswith("done")
    assert all(state.state != "invalid" for state in features.badges.states.values())


def test_the_status_bar_says_what_runs_in_plain_words(qtbot, run_window, tmp_path: Path) -> None:
    add_pattern_to_video(run_window, tmp_path / "s.mp4", frames=2, size=(16, 16))
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.run_finished, timeout=60000):
        assert features.run()
        assert run_window.statusBar().currentMessage() == "Running the graph… (Esc cancels)"
    features.device_box.setCurrentText("cpu")
    with qtbot.waitSignal(features.controller.run_finished, timeout=60000):
        assert features.run()
        assert run_window.statusBar().currentMessage() == "Running the graph on cpu… (Esc cancels)"
