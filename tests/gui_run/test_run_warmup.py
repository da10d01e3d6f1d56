"""A real ``kinograph gui`` opens without torch & co., then imports them while the user is idle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HOOK = """
import json, os, sys, time
first_look = {name: name in sys.modules for name in ("torch", "cv2", "av", "networkx")}
warmup = window.run_features.warmup
deadline = time.monotonic() + 60
while not warmup.finished.is_set() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.02)
report = {"first_look": first_look, "finished": warmup.finished.is_set(), "imported": warmup.imported,
          "loaded": {name: name in sys.modules for name in ("torch", "cv2", "av", "networkx", "numpy")}}
with open(os.environ["HOOK_REPORT"], "w") as f:
    json.dump(report, f)
window.stack.setClean()
window.close()
"""


def test_the_editor_opens_without_heavy_libraries_and_warms_them_when_idle(tmp_path: Path,
                                                                            kinograph_home: Path) -> None:
    (tmp_path / "hook.py").write_text(HOOK)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KINOGRAPH_HOME=str(kinograph_home),
               KINOGRAPH_GUI_WARMUP="1", KINOGRAPH_GUI_STARTUP=str(tmp_path / "hook.py"),
               HOOK_REPORT=str(tmp_path / "report.json"))
    graph = Path(__file__).resolve().parents[2] / "graphs" / "image_to_video.json"
    done = subprocess.run([sys.executable, "-m", "kinograph", "gui", str(graph)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    # The window came up (file open, first paint) before any heavy library was imported ...
    assert not any(report["first_look"].values()), report["first_look"]
    # ... and the libraries a run needs were imported afterwards, while idle (on the GUI thread:
    # OpenCV loading on another thread while Qt paints could crash the process).
    assert report["finished"]
    assert all(report["loaded"].values()), report["loaded"]
    assert "torch" in report["imported"]
