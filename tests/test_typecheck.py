"""A type checker sees a node's params: ``self.params.widht`` is an error, typed access is not.

mypy runs on fixture files with the project's own configuration (``[tool.mypy]`` in
pyproject.toml), the same one ``scripts/test.sh`` runs on the built-in packs and the example.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_venv import REPO

pytest.importorskip("mypy")

NODE = '''
from typing import Any

from kinograph.api import FRAME_STREAM, FrameStream, Input, Node, NodeParams, Output, RunContext, Slider


class Resize(Node["Resize.Params"]):
    type_id = "fixture.resize"
    inputs = [Input("frames", FRAME_STREAM)]
    outputs = [Output("frames", FRAME_STREAM)]

    class Params(NodeParams):
        width: int = Slider(640, ge=16, le=8192)

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        width: int = self.params.{field}
        return {{"frames": frames.map(lambda frame, _index: frame[:, :width], width=width)}}


def nodes() -> list[type[Node]]:
    return [Resize]  # a typed node is still a Node for the hooks
'''


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "fixture_node.py"
    path.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"), "--no-error-summary", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_misspelt_param_fails_the_type_check(tmp_path: Path) -> None:
    done = mypy(tmp_path, NODE.format(field="widht"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"Params" has no attribute "widht"; maybe "width"?' in done.stdout


def test_typed_params_and_a_run_with_named_inputs_pass_the_type_check(tmp_path: Path) -> None:
    done = mypy(tmp_path, NODE.format(field="width"))
    assert done.returncode == 0, done.stdout + done.stderr
