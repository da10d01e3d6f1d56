"""The editor survives its nodes: runs happen in a run process that may crash or hang.

The misbehaving nodes (crash_nodes.py) really segfault, exit or sleep in the run process; the
editor window, its graph and its undo stack must come out of it untouched, and the next run
must work.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from run_helpers import add_pattern_to_video, make_png, run_and_wait


def editor_state(window) -> tuple[str, int, int]:
    """The graph as saved, and the undo stack's size and position."""
    return window.graph.to_json(), window.stack.count(), window.stack.index()


@pytest.mark.parametrize(("how", "said"), [("segfault", "(signal 11)"), ("exit", "(exit code 3)")])
def test_a_node_that_crashes_its_process_fails_the_run_and_the_editor_stays_up(
        qtbot, crash_pack, run_window, tmp_path: Path, how: str, said: str) -> None:
    editor = run_window.editor
    number = editor.add_node("kinograph.value.number", (0.0, 0.0))
    crash = editor.add_node("crashtest.crash", (300.0, 0.0), {"how": how})
    assert editor.connect(f"{number}.value", f"{crash}.value") is None
    before = editor_state(run_window)
    features = run_window.run_features

    with qtbot.waitSignal(features.controller.run_finished, timeout=60000) as blocker:
        qtbot.keyClick(run_window.view, Qt.Key.Key_F5)
    result = blocker.args[0]
    first_pid = features.controller.stats["pid"]

    assert result.status == "failed"
    assert result.states[crash] == "failed" and result.states[number] == "done"
    message = next(f.message for f in result.failures if f.node_id == crash)
    assert f"the run's process crashed {said}" in message
    assert f"while running {crash} (crashtest.crash)" in message  # what was in flight
    badge = run_window.node_item(crash).badge
    assert badge.text == "failed" and said in badge.message
    assert said in run_window.statusBar().currentMessage()
    failed_lines = [line for line in features.log.texts() if line.startswith(f"{crash}: failed")]
    assert failed_lines and said in failed_lines[0]
    if how == "segfault":  # the fault handler's stack is in the details panel
        log = features.log
        row = next(i for i in range(log.lines.count()) if f"{crash}: failed" in log.lines.item(i).text())
        log.lines.setCurrentRow(row)
        assert "Segmentation fault" in log.details.toPlainText()
    # The editor is intact: same graph, same undo history, still editable and undoable.
    assert run_window.isVisible() and not features.controller.busy
    assert editor_state(run_window) == before
    run_window.stack.undo()
    assert run_window.graph.links == []
    run_window.stack.redo()
    assert editor_state(run_window) == before

    # The next run works, in a new process.
    editor.delete([crash])
    add_pattern_to_video(run_window, tmp_path / "after.mp4", frames=4, size=(32, 24))
    result = run_and_wait(qtbot, run_window)
    assert result.status == "finished", result.failures
    assert (tmp_path / "after.mp4").is_file()
    assert features.controller.stats["pid"] != first_pid


def test_esc_on_a_node_that_ignores_cancel_kills_its_process_and_cancels_the_run(
        qtbot, crash_pack, run_window, tmp_path: Path) -> None:
    editor = run_window.editor
    hang = editor.add_node("crashtest.hang", (0.0, 0.0))
    before = editor_state(run_window)
    features = run_window.run_features
    with qtbot.waitSignal(features.controller.event, timeout=30000,
                          check_params_cb=lambda e: e.kind == "node_started" and e.node_id == hang):
        run_window.actions["run"].trigger()
    pid = features.controller.process_pid
    qtbot.wait(200)  # it is asleep now

    asked = time.monotonic()
    with qtbot.waitSignal(features.controller.run_finished, timeout=10000) as blocker:
        qtbot.keyClick(run_window.view, Qt.Key.Key_Escape)
    took = time.monotonic() - asked

    result = blocker.args[0]
    assert result.status == "cancelled"
    assert took < 5.0, f"cancel took {took:.1f} s"
    assert result.states[hang] == "cancelled"
    assert features.badges.states[hang].state == "cancelled"
    assert any("did not stop" in line for line in features.log.texts())
    assert editor_state(run_window) == before
    # The next run works, in a new process.
    editor.delete([hang])
    add_pattern_to_video(run_window, tmp_path / "after.mp4", frames=4, size=(32, 24))
    assert run_and_wait(qtbot, run_window).status == "finished"
    assert features.controller.process_pid not in (None, pid)


def test_the_run_process_stays_and_keeps_its_models_between_runs(qtbot, run_window, tmp_path: Path) -> None:
    make_png(tmp_path / "photo.png", 64, 48)
    editor = run_window.editor
    load = editor.add_node("kinograph.image.load", (0.0, 0.0), {"path": str(tmp_path / "photo.png")})
    features_node = editor.add_node("kinograph.features.resnet", (300.0, 0.0),
                                    {"weights": "none", "input_size": 64})
    assert editor.connect(f"{load}.image", f"{features_node}.image") is None
    run_window.view.select_only([features_node])
    controller = run_window.run_features.controller

    kinds: list[tuple[str, str | None]] = []
    controller.event.connect(lambda e: kinds.append((e.kind, e.node_id)))
    first = run_and_wait(qtbot, run_window, selected=True)
    # Events arrive in the order the run emitted them.
    assert kinds[0][0] == "run_started" and kinds[-1][0] == "run_finished"
    for node in (load, features_node):
        assert kinds.index(("node_started", node)) < kinds.index(("node_finished", node))
    assert kinds.index(("node_finished", load)) < kinds.index(("node_started", features_node))
    assert first.states[features_node] == "done", first.failures
    stats = dict(controller.stats)
    assert stats["model_loads"] >= 1
    assert stats["modules"]["torch"] and not stats["modules"]["PySide6"]  # the run process has no Qt
    viewer = run_window.run_features.viewer
    assert viewer.kind == "features" and "shape (1, 512)" in viewer.features_stats.text()

    # An edit that makes the node run again, with the same model.
    assert editor.set_param(features_node, "batch_size", 8) is None
    kinds.clear()
    second = run_and_wait(qtbot, run_window, selected=True)
    # Only the edited node runs again (the run process re-runs its copy of the graph, which
    # keeps the loader's result); the loader keeps its state and says nothing.
    assert second.states[features_node] == "done" and second.states[load] in ("done", "cached")
    assert ("node_started", features_node) in kinds and ("node_started", load) not in kinds
    assert controller.stats["pid"] == stats["pid"]  # the same process ...
    assert controller.stats["model_loads"] == stats["model_loads"]  # ... did not load the ResNet again
    assert controller.stats["runs"] == stats["runs"] + 1
    # Not warmed up (tests start it cold): what the first run imported was frozen after it, so the
    # collector's full passes no longer walk torch & co.
    assert controller.stats["frozen"] > 100_000, controller.stats["frozen"]


def test_closing_the_window_ends_its_run_process(qtbot, run_window, tmp_path: Path) -> None:
    add_pattern_to_video(run_window, tmp_path / "v.mp4", frames=4, size=(32, 24))
    assert run_and_wait(qtbot, run_window).status == "finished"
    assert run_window.run_features.controller.process_pid is not None
    assert multiprocessing.active_children()
    run_window.close()  # as the user closes it (nothing unsaved is asked about: "discard")
    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=5000)
    assert run_window.run_features.controller.process_pid is None


def test_a_plugin_the_run_process_cannot_import_is_named_in_the_log(qtbot, registry, run_window,
                                                                     tmp_path: Path) -> None:
    from kinograph.api import NUMBER, Node, Output, hookimpl

    class Seven(Node):
        type_id = "localpack.seven"
        outputs = [Output("value", NUMBER)]

        def run(self, ctx, **inputs):
            return {"value": 7}

    class Local:  # defined inside a function: the run process cannot import it by name
        @hookimpl
        def kinograph_nodes(self) -> list:
            return [Seven]

    assert not registry.register_plugin(Local(), "local-pack").errors
    add_pattern_to_video(run_window, tmp_path / "v.mp4", frames=2, size=(16, 16))
    assert run_and_wait(qtbot, run_window).status == "finished"  # the other plugins still run
    assert any("local-pack" in line and "cannot be loaded by the run process" in line
               for line in run_window.run_features.log.texts())


def test_the_device_box_asks_the_run_process_for_devices(qtbot, run_window) -> None:
    features = run_window.run_features
    assert features.controller.process_pid is None  # warm-up is off in the tests: nothing started yet
    with qtbot.waitSignal(features.controller.devices_found, timeout=30000) as blocker:
        features.device_box.look_up()  # what opening the box does
    assert blocker.args[0][:2] == ["auto", "cpu"]
    assert features.controller.process_pid is not None  # found there (torch loads there, if at all)
    box = features.device_box
    assert [box.itemText(i) for i in range(box.count())] == blocker.args[0]
    assert box.currentText() == "auto"


def test_a_plugin_registered_after_the_process_started_reaches_a_fresh_one(qtbot, registry, run_window) -> None:
    import curve_nodes

    number = run_window.editor.add_node("kinograph.value.number", (0.0, 0.0))
    run_window.view.select_only([number])
    assert run_and_wait(qtbot, run_window, selected=True).states[number] == "done"
    controller = run_window.run_features.controller
    first = controller.process_pid
    assert not registry.register_plugin(curve_nodes, "curvetest").errors
    tone = run_window.editor.add_node("curvetest.tone", (0.0, 200.0))
    run_window.view.select_only([tone])
    assert run_and_wait(qtbot, run_window, selected=True).states[tone] == "done"
    assert controller.process_pid != first
