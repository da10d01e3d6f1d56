"""Stopping a headless run: SIGINT, SIGTERM and SIGHUP (and ``timeout``) all cancel cleanly.

The signal is sent once the run reports progress (not after a fixed sleep, which can land during
imports on a slow machine). Exit codes are 128 + the signal; nothing is left at the target path
and no temporary file stays beside it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def long_render(tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "out" / "long.mp4"
    graph = {
        "format": "kinograph.graph",
        "version": 1,
        "nodes": {
            "tp": {"type": "kinograph.frames.test_pattern", "params": {"frames": 100000, "width": 320, "height": 240}},
            "write": {"type": "kinograph.video.write", "params": {"path": str(target)}},
        },
        "links": [{"from": "tp.frames", "to": "write.frames"}],
    }
    path = tmp_path / "long.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    return path, target


def start_and_wait_for_progress(graph: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kinograph", "run", str(graph), "--device", "cpu", "--no-cache", "--events", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if json.loads(line).get("event") == "node_progress":
            return proc
    raise AssertionError(f"the run ended before any progress: {proc.communicate()[1]}")


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_stop_signal_cancels_cleanly_with_128_plus_its_number(tmp_path: Path, signum: int, code: int) -> None:
    graph, target = long_render(tmp_path)
    proc = start_and_wait_for_progress(graph)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "cancel" in err and "Traceback" not in err
    assert not target.exists()
    assert list(target.parent.iterdir()) == [], "temporary files were left beside the target"


def test_a_second_signal_stops_at_once_and_still_cleans_up(tmp_path: Path) -> None:
    graph, target = long_render(tmp_path)
    proc = start_and_wait_for_progress(graph)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert not target.exists() and list(target.parent.iterdir()) == []
