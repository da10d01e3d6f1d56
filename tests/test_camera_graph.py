"""graphs/camera_move.json runs headless through the CLI and writes a playable MP4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GRAPH = ROOT / "graphs" / "camera_move.json"
KINOGRAPH = Path(sys.executable).with_name("kinograph")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([str(KINOGRAPH), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def test_camera_move_graph_writes_a_playable_mp4(tmp_path: Path) -> None:
    out = tmp_path / "renders" / "move.mp4"
    done = run_cli("run", str(GRAPH), "--set", f"write.path={out}", "--set", "path.steps=24", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out)
    assert "Traceback" not in done.stderr
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video)]
        comment = container.metadata.get("comment")
    settings = json.loads(GRAPH.read_text())["nodes"]["animate"]["params"]
    assert len(frames) == 24
    assert frames[0].shape == (settings["height"], settings["width"], 3)
    assert np.abs(frames[-1].astype(int) - frames[0]).mean() > 3  # the camera moved
    assert frames[len(frames) // 2].min(axis=2).max() > 0
    embedded = json.loads(comment)
    assert embedded["nodes"]["write"]["params"]["path"] == str(out)
    assert set(embedded["nodes"]) == {"load", "path", "animate", "write"}


def test_camera_move_graph_validates_and_names_bad_paths(tmp_path: Path) -> None:
    assert run_cli("validate", str(GRAPH), cwd=tmp_path).returncode == 0
    bad = run_cli("run", str(GRAPH), "--set", "load.path=missing.png", cwd=tmp_path)
    assert bad.returncode == 2
    assert "missing.png" in bad.stderr and "Traceback" not in bad.stderr


def test_listing_nodes_imports_no_heavy_library() -> None:
    code = (
        "import sys, kinograph.plugins.media, kinograph.plugins.camera\n"
        "heavy = [m for m in ('numpy', 'cv2', 'av', 'torch', 'PIL') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
