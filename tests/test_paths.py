"""Paths and places: package:// names, relative paths, KINOGRAPH_HOME, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

import kinograph
from kinograph.api import KinographError, atomic_output, output_target, resolve_path
from kinograph.core import paths


def test_package_paths_name_files_inside_installed_packages() -> None:
    resolved = Path(resolve_path("package://kinograph/core/node.py", None))
    assert resolved == Path(kinograph.__file__).parent / "core" / "node.py"
    assert resolved.is_file()
    with pytest.raises(KinographError, match="not installed"):
        resolve_path("package://no-such-dist-xyz/a.bin", None)


def test_relative_paths_resolve_against_the_base(tmp_path: Path) -> None:
    assert resolve_path("a/b.png", tmp_path) == str(tmp_path / "a" / "b.png")
    assert resolve_path("/abs/c.png", tmp_path) == "/abs/c.png"


def test_kinograph_home_overrides_every_folder(kinograph_home: Path) -> None:
    assert paths.home() == kinograph_home
    assert paths.settings_dir() == kinograph_home / "settings"
    assert paths.cache_dir() == kinograph_home / "cache"
    assert paths.models_dir() == kinograph_home / "models"


def test_atomic_output_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as temp:
        temp.write_text("half")
        raise RuntimeError("encoder died")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_output_target_creates_folders_and_follows_if_exists(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deep" / "out.png"
    assert output_target(target) == target and target.parent.is_dir()
    target.write_text("x")
    assert output_target(target, "increment").name == "out_0001.png"
    with pytest.raises(KinographError, match="already exists"):
        output_target(target, "error")
