"""Where files live: the user's folders, ``package://`` names, relative paths and ``if_exists``."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from kinograph.core.errors import KinographError

PACKAGE_SCHEME = "package://"
IfExists = Literal["overwrite", "increment", "error"]


def home() -> Path:
    """The root of settings, autosave and caches: ``KINOGRAPH_HOME`` or the platform's folders."""
    override = os.environ.get("KINOGRAPH_HOME")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("kinograph", appauthor=False))


def settings_dir() -> Path:
    if os.environ.get("KINOGRAPH_HOME"):
        return home() / "settings"
    import platformdirs

    return Path(platformdirs.user_config_dir("kinograph", appauthor=False))


def cache_dir() -> Path:
    if os.environ.get("KINOGRAPH_HOME"):
        return home() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("kinograph", appauthor=False))


def models_dir() -> Path:
    return home() / "models"


def resolve_package_path(value: str) -> Path:
    """``package://<dist>/<relative path>`` -> the file inside that installed distribution."""
    rest = value[len(PACKAGE_SCHEME) :]
    dist, _, relative = rest.partition("/")
    if not dist or not relative:
        raise KinographError(f"{value!r} should look like package://<distribution>/<path>")
    import importlib.util

    # The distribution's import package usually shares its name (kinograph -> kinograph).
    module = dist.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise KinographError(f"{value!r}: package {dist!r} is not installed (pip install {dist})")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / relative


def resolve_path(value: str, base: Path | None) -> str:
    """Resolve a param path: ``package://`` names, ``~``, and relative paths against ``base``."""
    if not value:
        return value
    if value.startswith(PACKAGE_SCHEME):
        return str(resolve_package_path(value))
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return os.path.normpath(path)


def next_free_name(path: Path) -> Path:
    """``out.mp4`` -> the first of ``out_0001.mp4``, ``out_0002.mp4``... that does not exist."""
    stem = re.sub(r"_\d{4}$", "", path.stem)
    for n in range(1, 100000):
        candidate = path.with_name(f"{stem}_{n:04d}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise KinographError(f"no free name left next to {path}")


def output_target(path: str | Path, if_exists: IfExists = "overwrite") -> Path:
    """The path an output node should write, after creating missing folders and applying ``if_exists``."""
    target = Path(path)
    if not str(path):
        raise KinographError("no output path given: set the node's path param")
    for parent in reversed(target.parents):
        if parent.exists() and not parent.is_dir():
            raise KinographError(f"cannot write {target}: {parent} is a file, not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KinographError(f"cannot create the folder {target.parent}: {exc.strerror}") from None
    if target.exists():
        if if_exists == "error":
            raise KinographError(
                f"{target} already exists (set if_exists to 'overwrite' or 'increment')"
            )
        if if_exists == "increment":
            return next_free_name(target)
    return target


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it replaces ``target`` only if the block succeeds.

    A failed or cancelled write leaves nothing at the target path (and no temporary file).
    """
    temp = target.with_name(f".{target.stem}.partial-{os.getpid()}{target.suffix}")
    try:
        yield temp
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def atomic_write_text(target: Path, text: str) -> None:
    """Write text to ``target`` atomically (temporary file + rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target) as temp:
        temp.write_text(text, encoding="utf-8")
