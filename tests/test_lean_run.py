"""The default run stays lean: ``--device auto`` does not import torch for a graph without
torch nodes (importing the CUDA build costs about 0.9 GB of memory)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from plugin_venv import REPO


def run_and_list_modules(tmp_path: Path, graph: str, *extra: str) -> tuple[str, list[str]]:
    out = tmp_path / "out.mp4"
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['kinograph', 'run', {graph!r}, '--set', 'write.path={out}', *{list(extra)!r}]\n"
        "try:\n    runpy.run_module('kinograph', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "loaded = [m for m in ('torch', 'torchvision') if m in sys.modules]\n"
        "sys.stderr.write(f'EXIT={code} LOADED=' + ','.join(loaded))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert "LOADED=" in proc.stderr, proc.stderr
    status, loaded = proc.stderr.rsplit("EXIT=", 1)[1].split(" LOADED=")
    assert out.is_file() and out.stat().st_size > 0, proc.stderr
    return status, [m for m in loaded.strip().split(",") if m]


def test_camera_move_with_the_cli_defaults_never_imports_torch(tmp_path: Path) -> None:
    status, loaded = run_and_list_modules(tmp_path, "graphs/camera_move.json")
    assert status == "0"
    assert loaded == [], "a graph without torch nodes imported torch under --device auto"


def test_the_device_list_needs_no_torch_without_a_gpu_driver() -> None:
    from kinograph.core.devices import gpu_may_exist

    if gpu_may_exist():
        pytest.skip("this machine has a GPU driver: the list comes from torch, as it should")
    code = "import sys\nfrom kinograph.host import available_devices\nprint(available_devices(), 'torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "['auto', 'cpu'] False", proc.stderr
