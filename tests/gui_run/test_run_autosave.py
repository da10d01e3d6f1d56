"""Autosave and crash recovery, in-process and with a real ``kinograph gui`` process killed by SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kinograph.core.graph import Graph
from kinograph.gui.autosave import Autosaver, crashed_recoveries, offer_recovery, recovery_dir


def test_autosave_writes_only_unsaved_work_and_a_clean_close_removes_it(qtbot, run_window, tmp_path: Path) -> None:
    saver: Autosaver = run_window.run_features.autosaver
    assert not saver.save_now() and not saver.file.exists()  # nothing unsaved yet
    node = run_window.editor.add_node("kinograph.value.number", (0.0, 0.0))
    assert run_window.editor.set_param(node, "value", 4.5) is None
    assert saver.save_now()
    data = json.loads(saver.file.read_text())
    assert data["graph"]["nodes"][node]["params"]["value"] == 4.5
    assert saver.file.parent == recovery_dir()
    assert not crashed_recoveries()  # this process is alive: not offered to others

    assert run_window.save_as(tmp_path / "g.json")
    assert not saver.save_now() and not saver.file.exists()  # saved: nothing to recover
    assert run_window.editor.set_param(node, "value", 5.0) is None
    assert saver.save_now() and saver.file.exists()
    run_window.close()
    qtbot.waitUntil(lambda: not saver.file.exists(), timeout=3000)


def test_recovery_bar_restores_a_dead_process_file(qtbot, run_window, registry, tmp_path: Path) -> None:
    graph = Graph(registry, base_dir=tmp_path)
    graph.add_node("kinograph.value.number", node_id="kept")
    graph.set_param("kept", "value", 7.0)
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = {"format": "kinograph.recovery", "version": 1, "pid": int(dead.stdout), "saved_at": time.time(),
              "path": str(tmp_path / "g.json"), "base_dir": str(tmp_path), "graph": json.loads(graph.to_json())}
    (folder / "crashed.json").write_text(json.dumps(record))

    bar = offer_recovery(run_window)
    assert bar is not None and "g.json" in bar.recovery.describe()
    assert bar.restore()
    assert run_window.graph.nodes["kept"].params["value"] == 7.0
    assert run_window.path == tmp_path / "g.json"
    assert not run_window.stack.isClean()  # restored work still needs saving
    assert not (folder / "crashed.json").exists()
    assert offer_recovery(run_window) is None


HOOK_EDIT = """
from PySide6.QtCore import QTimer
window.editor.set_param("pattern", "frames", 77)
window.editor.add_node("kinograph.value.number", (400.0, 200.0))
print("edited", flush=True)
"""

HOOK_RESTORE = """
import json, os
from kinograph.gui.autosave import RecoveryBar
bars = window.findChildren(RecoveryBar)
report = {"bars": len(bars)}
if bars:
    report["restored"] = bars[0].restore()
report["graph"] = json.loads(window.graph.to_json())
report["path"] = str(window.path)
report["modified"] = window.isWindowModified()
with open(os.environ["HOOK_REPORT"], "w") as f:
    json.dump(report, f)
window.stack.setClean()
window.close()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_edits_survive_sigkill_of_a_real_editor_process(tmp_path: Path, kinograph_home: Path) -> None:
    graph = Graph(base_dir=tmp_path)
    graph.add_node("kinograph.frames.test_pattern", node_id="pattern")
    graph.add_node("kinograph.video.write", node_id="write")
    graph.connect("pattern.frames", "write.frames")
    graph_file = tmp_path / "edit_me.json"
    graph.save(graph_file)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KINOGRAPH_HOME=str(kinograph_home),
               KINOGRAPH_AUTOSAVE_SECONDS="1", HOOK_REPORT=str(tmp_path / "report.json"))
    (tmp_path / "edit.py").write_text(HOOK_EDIT)
    (tmp_path / "restore.py").write_text(HOOK_RESTORE)
    command = [sys.executable, "-m", "kinograph", "gui", str(graph_file)]

    first = subprocess.Popen(command, env=dict(env, KINOGRAPH_GUI_STARTUP=str(tmp_path / "edit.py")),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        folder = kinograph_home / "settings" / "recovery"
        deadline = time.monotonic() + 60
        saved = []
        while time.monotonic() < deadline and not saved:
            assert first.poll() is None, first.stdout.read() if first.stdout else ""
            saved = [f for f in folder.glob("*.json") if '"frames": 77' in f.read_text(errors="replace")] if folder.is_dir() else []
            time.sleep(0.2)
        assert saved, "no autosave within 60 s"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert graph_file.read_text() == graph.to_json()  # the file itself was never touched

    second = subprocess.run(command, env=dict(env, KINOGRAPH_GUI_STARTUP=str(tmp_path / "restore.py")),
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["bars"] == 1 and report["restored"] is True
    nodes = report["graph"]["nodes"]
    assert nodes["pattern"]["params"]["frames"] == 77
    assert any(n["type"] == "kinograph.value.number" for n in nodes.values())
    assert report["path"] == str(graph_file) and report["modified"] is True
    assert not list(folder.glob("*.json"))  # restored, then closed cleanly: nothing left to offer
