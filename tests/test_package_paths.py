"""``package://DIST/path`` names files of installed distributions, found from their metadata:
nothing is imported, the current folder never counts as an installation, and the path never
leaves the package folder. Checked in the dev environment (``pip install -e .``) and in a venv
where kinograph is installed from a wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_venv import OFFLINE, REPO, PluginVenv

import kinograph
from kinograph.api import KinographError, resolve_path
from kinograph.core.paths import installed_distribution

CHECKPOINT = "package://kinograph/plugins/learned/checkpoints/action_lstm_resnet18.safetensors"
ZEN = "Beautiful is better than ugly"


def graph_loading(folder: Path, path: str) -> Path:
    graph = folder / "graph.json"
    graph.write_text(
        json.dumps(
            {
                "format": "kinograph.graph",
                "version": 1,
                "nodes": {
                    "load": {"type": "kinograph.image.load", "version": 1, "params": {"path": path}},
                    "save": {"type": "kinograph.image.save", "version": 1, "params": {"path": "out.png"}},
                },
                "links": [{"from": "load.image", "to": "save.image"}],
            }
        )
    )
    return graph


def kinograph_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m kinograph`` run from ``folder``, so the current folder is on sys.path."""
    return subprocess.run(
        [sys.executable, "-m", "kinograph", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_the_default_checkpoint_resolves_in_the_editable_install() -> None:
    dist = installed_distribution("kinograph")
    assert dist is not None and json.loads(dist.read_text("direct_url.json"))["dir_info"]["editable"]
    resolved = Path(resolve_path(CHECKPOINT, None))
    assert resolved == Path(kinograph.__file__).parent / "plugins" / "learned" / "checkpoints" / resolved.name
    assert resolved.is_file()


@pytest.mark.parametrize(
    "value",
    [
        "package://kinograph/../pyproject.toml",
        "package://kinograph/plugins/../../pyproject.toml",
        "package://kinograph//etc/passwd",
        "package://kinograph/C:/Windows/win.ini",
    ],
)
def test_paths_that_leave_the_package_are_refused(value: str) -> None:
    with pytest.raises(KinographError, match="must stay inside the package"):
        resolve_path(value, None)


def test_a_module_that_is_no_distribution_is_never_imported(tmp_path: Path) -> None:
    # `this` is a module of the standard library: importing it prints the Zen of Python.
    done = kinograph_in(tmp_path, "validate", str(graph_loading(tmp_path, "package://this.x/photo.png")))
    assert done.returncode == 2
    assert ZEN not in done.stdout + done.stderr
    assert "'this.x' is not installed" in done.stderr
    done = kinograph_in(tmp_path, "validate", str(graph_loading(tmp_path, "package://this/photo.png")))
    assert done.returncode == 2 and ZEN not in done.stdout + done.stderr


def test_a_folder_beside_the_graph_never_counts_as_a_distribution(tmp_path: Path) -> None:
    # A shared graph comes with a package folder and fake metadata; the user runs it from there.
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "__init__.py").write_text("open('PWNED', 'w').write('ran')\n")
    (tmp_path / "evil" / "photo.png").write_bytes(b"")
    for meta in ("evil.egg-info", "evil-1.0.dist-info"):
        (tmp_path / meta).mkdir()
        (tmp_path / meta / ("PKG-INFO" if meta.endswith("egg-info") else "METADATA")).write_text(
            "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
        )
    (tmp_path / "evil-1.0.dist-info" / "RECORD").write_text("evil/__init__.py,,\nevil/photo.png,,\n")
    graph = graph_loading(tmp_path, "package://evil/photo.png")
    for command in (["validate", str(graph)], ["run", str(graph), "--device", "cpu"]):
        done = kinograph_in(tmp_path, *command)
        assert done.returncode == 2, done.stderr
        assert "'evil' is not installed" in done.stderr
        assert not (tmp_path / "PWNED").exists()
    # In-process too, with the current folder first on sys.path as `python -m` puts it.
    cwd = os.getcwd()
    os.chdir(tmp_path)
    sys.path.insert(0, "")
    try:
        with pytest.raises(KinographError, match="not installed"):
            resolve_path("package://evil/photo.png", None)
    finally:
        sys.path.remove("")
        os.chdir(cwd)
    assert "evil" not in sys.modules and not (tmp_path / "PWNED").exists()


WHEEL_CHECK = """
import json, sys
from pathlib import Path
import kinograph
from kinograph.core.paths import installed_distribution, resolve_path

report = {"kinograph": kinograph.__file__, "direct_url": installed_distribution("kinograph").read_text("direct_url.json")}
path = resolve_path(sys.argv[1], None)
report["checkpoint"] = path
report["checkpoint_bytes"] = Path(path).read_bytes().hex()
for value in sys.argv[2:]:
    try:
        report[value] = resolve_path(value, None)
    except Exception as exc:
        report[value] = "refused: " + str(exc)
print(json.dumps(report))
"""


@pytest.mark.slow
def test_package_paths_in_a_wheel_install(tmp_path: Path) -> None:
    venv = PluginVenv(tmp_path)
    source = tmp_path / "kinograph-src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "kinograph", source / "kinograph", ignore=shutil.ignore_patterns("__pycache__"))
    built = venv.run(["pip", "wheel", *OFFLINE, "--wheel-dir", str(tmp_path / "dist"), str(source)])
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("kinograph-*.whl")
    venv.pip_install(str(wheel))
    installed = venv.site_packages / "kinograph"
    assert (installed / "plugins" / "learned" / "checkpoints" / "action_lstm_resnet18.safetensors").is_file()
    # A link inside the installed package that leads out of it.
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (installed / "leak.txt").symlink_to(outside)
    (installed / "leak_dir").symlink_to(tmp_path, target_is_directory=True)
    script = tmp_path / "check.py"
    script.write_text(textwrap.dedent(WHEEL_CHECK))
    escapes = ["package://kinograph/leak.txt", "package://kinograph/leak_dir/outside.txt", "package://kinograph/../pip/__init__.py"]
    done = venv.run(["python", str(script), CHECKPOINT, *escapes, "package://kinograph/core/node.py"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # The wheel's files, not the source tree's: and no editable install in sight.
    assert Path(report["kinograph"]).is_relative_to(venv.site_packages)
    assert "archive_info" in json.loads(report["direct_url"])  # installed from the wheel file
    assert Path(report["checkpoint"]) == installed / "plugins" / "learned" / "checkpoints" / "action_lstm_resnet18.safetensors"
    shipped = REPO / "kinograph" / "plugins" / "learned" / "checkpoints" / "action_lstm_resnet18.safetensors"
    assert bytes.fromhex(report["checkpoint_bytes"]) == shipped.read_bytes()
    assert report["package://kinograph/core/node.py"] == str(installed / "core" / "node.py")
    for value in escapes:
        assert report[value].startswith("refused: "), (value, report[value])
    assert "through a link" in report["package://kinograph/leak.txt"]
