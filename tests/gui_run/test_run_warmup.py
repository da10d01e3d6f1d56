"""A real ``kinograph gui``: opens without torch & co., starts its run process while idle, and the
editor process itself never imports torch, OpenCV or PyAV to run a graph (the run process does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HOOK = """
import json, os, sys, time
HEAVY = ("torch", "cv2", "av", "networkx")
first_look = {name: name in sys.modules for name in HEAVY}
features = window.run_features
warmup = features.warmup
deadline = time.monotonic() + 90
while not warmup.finished.is_set() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.02)
warmed = {"finished": warmup.finished.is_set(), "imported": warmup.imported,
          "run_process": dict(warmup.process_modules), "pid": features.controller.process_pid,
          "frozen": features.controller.stats.get("frozen")}
# Run a small graph: a test pattern written to a video (OpenCV-free, but PyAV and numpy run).
window.graph.replace_with(type(window.graph)(window.registry))
pattern = window.editor.add_node("kinograph.frames.test_pattern", (0.0, 0.0),
                                 {"width": 32, "height": 24, "frames": 4})
write = window.editor.add_node("kinograph.video.write", (300.0, 0.0),
                               {"path": os.environ["HOOK_VIDEO"], "preset": "ultrafast"})
window.editor.connect(pattern + ".frames", write + ".frames")
done = []
features.controller.run_finished.connect(done.append)
features.run()
while not done and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.02)
report = {"first_look": first_look, "warmed": warmed, "status": done[0].status if done else None,
          "pid_after_run": features.controller.process_pid,
          "editor_after_run": {name: name in sys.modules for name in HEAVY}}
with open(os.environ["HOOK_REPORT"], "w") as f:
    json.dump(report, f)
window.stack.setClean()
window.close()
"""


def test_the_editor_runs_graphs_without_importing_heavy_libraries(tmp_path: Path, kinograph_home: Path) -> None:
    (tmp_path / "hook.py").write_text(HOOK)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KINOGRAPH_HOME=str(kinograph_home),
               KINOGRAPH_GUI_WARMUP="1", KINOGRAPH_GUI_STARTUP=str(tmp_path / "hook.py"),
               HOOK_REPORT=str(tmp_path / "report.json"), HOOK_VIDEO=str(tmp_path / "out.mp4"))
    graph = Path(__file__).resolve().parents[2] / "graphs" / "image_to_video.json"
    done = subprocess.run([sys.executable, "-m", "kinograph", "gui", str(graph)], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    # The window came up (file open, first paint) before any heavy library was imported ...
    assert not any(report["first_look"].values()), report["first_look"]
    # ... then the run process started while the editor was idle and imported them itself ...
    warmed = report["warmed"]
    assert warmed["finished"] and warmed["pid"], warmed
    assert "torch" in warmed["imported"] and warmed["run_process"]["cv2"], warmed
    assert not warmed["run_process"]["PySide6"]  # the run process has no Qt
    # What it imported is frozen: the collector's full passes no longer walk torch & co.
    assert warmed["frozen"] > 100_000, warmed["frozen"]
    # ... and ran the graph there, in the same process: the editor never imported them.
    assert report["status"] == "finished" and (tmp_path / "out.mp4").is_file()
    assert report["pid_after_run"] == warmed["pid"]
    assert not any(report["editor_after_run"].values()), report["editor_after_run"]
