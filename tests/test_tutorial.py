"""docs/writing-plugins.md, executed: the tutorial cannot drift from the code.

Every fenced block with ``title="path"`` is written to that path in a fresh package folder; every
``$ command`` of the ``console`` blocks then runs in order in a new virtual environment (pip
installs the package for real, offline), and the lines shown after a command must appear in its
output (``...`` stands for any text). Only ``mkdir``/``cd`` (the test makes the folder) and
``kinograph gui`` (a window) are skipped.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from plugin_venv import OFFLINE, REPO, PluginVenv

TUTORIAL = REPO / "docs" / "writing-plugins.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
SKIPPED = ("mkdir ", "cd ", "kinograph gui")


@dataclass
class Command:
    """One ``$`` line of a console block and the output lines shown under it."""

    line: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Tutorial:
    files: dict[str, str]
    commands: list[Command]
    snippets: list[str]


def read_tutorial(text: str) -> Tutorial:
    files: dict[str, str] = {}
    commands: list[Command] = []
    snippets: list[str] = []
    for match in FENCE.finditer(text):
        info, body = match["info"].strip(), match["body"]
        language = info.split(" ")[0]
        title = TITLE.search(info)
        if title:
            assert title["title"] not in files, f"{title['title']} is written twice"
            files[title["title"]] = body
        elif language == "console":
            for line in body.splitlines():
                if line.startswith("$ "):
                    commands.append(Command(line[2:].strip()))
                elif line.strip() and commands:
                    commands[-1].expected.append(line)
        elif language == "python":
            snippets.append(body)
    return Tutorial(files, commands, snippets)


def normalise(line: str) -> str:
    return " ".join(line.split())


def shown_in(expected: str, output: str) -> bool:
    """Whether a line shown in the tutorial appears in the real output (``...`` = any text)."""
    pattern = ".*".join(re.escape(part) for part in normalise(expected).split("..."))
    return any(re.search(pattern, normalise(line)) for line in output.splitlines())


@dataclass
class Ran:
    command: Command
    returncode: int
    output: str


@pytest.fixture(scope="module")
def tutorial() -> Tutorial:
    return read_tutorial(TUTORIAL.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def walked(tutorial: Tutorial, tmp_path_factory: pytest.TempPathFactory) -> tuple[PluginVenv, Path, list[Ran]]:
    """Follow the tutorial: write its files, then run its commands in order in a new venv."""
    root = tmp_path_factory.mktemp("tutorial")
    package = root / "kinograph-posterize"
    for name, body in tutorial.files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    venv = PluginVenv(root)
    ran = []
    for command in tutorial.commands:
        if command.line.startswith(SKIPPED):
            continue
        args = shlex.split(command.line)
        if args[:2] == ["pip", "install"]:
            args += OFFLINE  # kinograph and its dependencies are already there; never the network
        done = venv.run(args, cwd=package)
        ran.append(Ran(command, done.returncode, done.stdout + done.stderr))
        if done.returncode != 0:
            break  # later steps depend on this one; the test reports it
    return venv, package, ran


def test_tutorial_has_the_files_and_steps_it_promises(tutorial: Tutorial) -> None:
    assert {
        "pyproject.toml",
        "graph.json",
        "src/kinograph_posterize/nodes.py",
        "src/kinograph_posterize/plugin.py",
        "tests/test_posterize.py",
    } <= set(tutorial.files)
    lines = [c.line for c in tutorial.commands]
    for step in ("pip install -e .", "kinograph nodes", "kinograph plugins", "pytest -q"):
        assert step in lines
    assert any(line.startswith("kinograph run graph.json") for line in lines)
    assert '[project.entry-points."kinograph.plugins"]' in tutorial.files["pyproject.toml"]


def test_every_python_block_parses(tutorial: Tutorial) -> None:
    for source in [*tutorial.snippets, *(b for n, b in tutorial.files.items() if n.endswith(".py"))]:
        ast.parse(source)


def test_every_command_succeeds_and_prints_what_the_tutorial_shows(walked: tuple[PluginVenv, Path, list[Ran]]) -> None:
    _, _, ran = walked
    assert ran, "no command ran"
    for step in ran:
        assert step.returncode == 0, f"$ {step.command.line} exited {step.returncode}:\n{step.output}"
        assert "Traceback" not in step.output, step.output
        for line in step.command.expected:
            if line.strip() == "...":
                continue
            assert shown_in(line, step.output), f"$ {step.command.line}: expected {line!r} in:\n{step.output}"


def test_the_installed_package_provides_the_nodes(walked: tuple[PluginVenv, Path, list[Ran]]) -> None:
    venv, package, _ = walked
    done = venv.kinograph("nodes", "--json", cwd=package)
    assert done.returncode == 0, done.stderr
    nodes = {record["type"]: record for record in json.loads(done.stdout)}
    for type_id in ("posterize.posterize", "posterize.save_frame"):
        assert nodes[type_id]["plugin"] == {"name": "posterize", "dist": "kinograph-posterize", "version": "0.1.0"}
    levels = nodes["posterize.posterize"]["params"]["properties"]["levels"]
    assert levels["x-kinograph"]["widget"] == "slider" and (levels["minimum"], levels["maximum"]) == (2, 64)
    # Installed with pip into the venv, not merely importable from the source folder.
    assert any(p.name.startswith("kinograph_posterize") for p in venv.site_packages.glob("*.dist-info"))


def test_the_graph_wrote_a_posterized_frame(walked: tuple[PluginVenv, Path, list[Ran]]) -> None:
    _, package, ran = walked
    assert any(step.command.line.startswith("kinograph run") and step.returncode == 0 for step in ran)
    with Image.open(package / "out" / "frame.png") as image:
        assert image.size == (96, 64)
        pixels = np.asarray(image.convert("RGB"))
    # levels=3 -> 0, 128, 255 in red (the tint keeps red); a tinted 3-level green and blue.
    assert set(np.unique(pixels[..., 0])) <= {0, 128, 255}
    for channel in (1, 2):
        assert len(np.unique(pixels[..., channel])) <= 3
    assert pixels[..., 2].max() < 255  # the tint #ffe0c0 given with --set was applied
