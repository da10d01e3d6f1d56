"""Where files live: the user's folders, ``package://`` names, relative paths and ``if_exists``.

Outputs are written under a temporary name beside the target and published only when complete.
Publishing with ``error`` or ``increment`` claims the name with ``os.link`` (or ``mkdir`` for a
folder), which fails when the name is taken: two runs started together never both get
``out_0001.mp4``, and never silently overwrite each other. Temporary names carry the writer's
process id, so leftovers of a killed process are recognised and swept by the next run.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import json
import logging
import os
import re
import secrets
import shutil
import stat
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import TracebackType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.metadata import Distribution

from kinograph.core.errors import KinographError

PACKAGE_SCHEME = "package://"
IfExists = Literal["overwrite", "increment", "error"]
#: The file kinograph puts in every folder it writes as one output (an image sequence): it
#: lists the files written, so only such a folder (or an empty one) is ever replaced.
SEQUENCE_MARKER = ".kinograph-sequence"
#: Temporary names beside a target: ``.video.partial-PID-TOKEN.mp4``, ``.seq.old-PID-TOKEN``.
LEFTOVER_RE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)(?P<token>-[0-9a-f]{6})?(?P<suffix>\.[^.]*)?$")
#: Earlier versions named temporary files ``.video.partial-PID.mp4`` (no token): swept only
#: when the suffix is one kinograph writes, so a user's ``.notes.partial-2.txt`` is left alone.
LEGACY_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".json"}
#: PEP 508 distribution names.
DIST_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
MAX_INCREMENT = 100000

log = logging.getLogger("kinograph.paths")


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


# -- package:// names ---------------------------------------------------------------------------


def resolve_package_path(value: str) -> Path:
    """``package://<dist>/<relative path>`` -> the file inside that installed distribution.

    Found from the distribution's metadata, never by importing anything; the current folder
    never counts as an installation, and the path may not leave the package's folder.
    """
    rest = value[len(PACKAGE_SCHEME) :]
    dist_name, _, relative = rest.partition("/")
    if not dist_name or not relative:
        raise KinographError(f"{value!r} should look like package://<distribution>/<path>")
    if not DIST_NAME_RE.match(dist_name):
        raise KinographError(f"{value!r}: {dist_name!r} is not a distribution name")
    if (
        PurePosixPath(relative).is_absolute()
        or PureWindowsPath(relative).anchor
        or ".." in PurePosixPath(relative).parts
        or ".." in PureWindowsPath(relative).parts
    ):
        raise KinographError(f"{value!r}: the path must stay inside the package (no '..', no absolute path)")
    dist = installed_distribution(dist_name)
    if dist is None:
        raise KinographError(f"{value!r}: package {dist_name!r} is not installed (pip install {dist_name})")
    parts = PurePosixPath(relative).parts
    root = package_folder(dist, dist_name)
    if root is None:
        # A distribution of several packages (opencv: cv2, ...): the path names one of them.
        root = package_folder(dist, dist_name, parts[0])
        parts = parts[1:]
    if root is None or not parts:
        raise KinographError(
            f"{value!r}: the distribution {dist_name!r} has no package folder by that name; "
            "write package://<distribution>/<path inside its package>"
        )
    target = root.joinpath(*parts)
    # A symbolic link inside the package may point anywhere: judge where it really leads.
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(target)]) != real_root:
        raise KinographError(f"{value!r} leads outside the package {dist_name!r} (through a link)")
    return target


def installed_distribution(name: str) -> Distribution | None:
    """The installed distribution called ``name``, read from metadata only (nothing imported).

    The current folder is left out of the search: a ``*.egg-info`` or ``*.dist-info`` folder
    next to a graph is not an installation.
    """
    from importlib.metadata import Distribution

    here = os.path.realpath(os.getcwd())
    search = [p for p in sys.path if p and os.path.realpath(p) != here]
    return next(iter(Distribution.discover(name=name, path=search)), None)


def package_folder(dist: Distribution, dist_name: str, wanted: str | None = None) -> Path | None:
    """The folder of the import package a distribution installs: ``wanted``, else the one named
    after the distribution (``kinograph`` for ``kinograph``), else its only one."""
    wanted = wanted or re.sub(r"[-_.]+", "_", dist_name).lower()
    editable_root = _editable_root(dist)
    if editable_root is not None:
        return _editable_package(dist, wanted, editable_root)
    tops: set[str] = set()
    for file in dist.files or []:
        parts = file.parts
        if len(parts) > 1 and parts[0] not in ("..", "__pycache__") and not parts[0].endswith((".dist-info", ".data", ".egg-info")):
            tops.add(parts[0])
    name = _pick(tops, wanted)
    if name is None:
        return None
    folder = Path(dist.locate_file(name))
    return folder if folder.is_dir() else None


def _editable_root(dist: Distribution) -> Path | None:
    """The project folder of an editable install (``pip install -e``), from ``direct_url.json``."""
    try:
        data = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        return None
    if not isinstance(data, dict) or not (data.get("dir_info") or {}).get("editable"):
        return None
    url = data.get("url", "")
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(url).path))


def _editable_package(dist: Distribution, wanted: str, root: Path) -> Path | None:
    """Where an editable install's package lives: the mapping its setuptools finder holds (read
    as text, not imported), a folder its ``.pth`` file names, or ``root[/src]/<package>``."""
    candidates: list[Path] = []
    for file in dist.files or []:
        name = file.name
        located = Path(dist.locate_file(file))
        if name.startswith("__editable__") and name.endswith("_finder.py"):
            mapping = _finder_mapping(located)
            choice = _pick(set(mapping), wanted)
            if choice is not None:
                candidates.append(Path(mapping[choice]))
        elif name.endswith(".pth"):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                for line in located.read_text(encoding="utf-8").splitlines():
                    line = line.strip()
                    if line and not line.startswith(("#", "import ")):
                        candidates.append(Path(line) / wanted)
    candidates += [root / wanted, root / "src" / wanted]
    return next((c for c in candidates if c.is_dir()), None)


def _finder_mapping(finder: Path) -> dict[str, str]:
    """The ``MAPPING = {...}`` literal of a setuptools editable finder, parsed, never run."""
    try:
        tree = ast.parse(finder.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    for statement in tree.body:
        target = getattr(statement, "target", None) or (getattr(statement, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "MAPPING" and statement.value is not None:  # type: ignore[attr-defined]
            try:
                value = ast.literal_eval(statement.value)  # type: ignore[attr-defined]
            except ValueError:
                return {}
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    return {}


def _pick(names: set[str], wanted: str) -> str | None:
    """The package named after the distribution, else the only one it has."""
    if wanted in names:
        return wanted
    return next(iter(names)) if len(names) == 1 else None


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


def special_file_kind(path: str | Path) -> str | None:
    """``"a FIFO"``, ``"a device"``... when ``path`` is neither a regular file nor a folder.

    Reading one could hang (a FIFO) or never end (``/dev/zero``): inputs must be files.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# -- outputs ------------------------------------------------------------------------------------


def next_free_name(path: Path) -> Path:
    """``out.mp4`` -> the first of ``out_0001.mp4``, ``out_0002.mp4``... that does not exist."""
    stem = re.sub(r"_\d{4}$", "", path.stem)
    for n in range(1, MAX_INCREMENT):
        candidate = path.with_name(f"{stem}_{n:04d}{path.suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise KinographError(f"no free name left next to {path}")


def folder_state(folder: Path) -> Literal["missing", "empty", "own", "foreign"]:
    """Whether a folder may be replaced by a folder output: only an empty one, or one holding
    nothing but the files its :data:`SEQUENCE_MARKER` lists (an earlier output of its own)."""
    try:
        entries = os.listdir(folder)
        if not entries:
            return "empty"
        marker = folder / SEQUENCE_MARKER
        if SEQUENCE_MARKER not in entries or not stat.S_ISREG(os.lstat(marker).st_mode):
            return "foreign"
        listed = set(json.loads(marker.read_text(encoding="utf-8"))["files"])
        for name in entries:
            if name != SEQUENCE_MARKER and (name not in listed or not stat.S_ISREG(os.lstat(folder / name).st_mode)):
                return "foreign"
    except FileNotFoundError:
        return "missing" if not os.path.lexists(folder) else "foreign"
    except (OSError, ValueError, KeyError, TypeError):
        return "foreign"
    return "own"


def output_problem(target: Path, if_exists: IfExists = "overwrite", *, folder: bool = False) -> str | None:
    """Why writing ``target`` would harm something already there, or None when it is safe.

    Static (reads, never writes), so validation and the writers share one rule: a file output
    never replaces a folder or a device; a folder output never writes through a link and only
    replaces an empty folder or one it wrote itself; ``increment`` never touches what exists.
    """
    target = Path(target)
    for parent in reversed(target.parents):
        if parent.exists() and not parent.is_dir():
            return f"cannot write {target}: {parent} is a file, not a folder"
    if if_exists == "increment":
        return None
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot write {target}: {exc.strerror or exc}"
    if folder:
        if stat.S_ISLNK(mode):
            return f"{target} is a symbolic link; kinograph never writes through links: choose another folder"
        if not stat.S_ISDIR(mode):
            return f"{target} is a file, not a folder; an image sequence needs a folder: choose another path"
        if if_exists == "overwrite" and folder_state(target) == "foreign":
            return (
                f"the folder {target} holds files kinograph did not write; an image sequence only "
                f"replaces an empty folder or one it wrote itself (marked by {SEQUENCE_MARKER}): "
                "choose a new folder, or set if_exists to increment"
            )
        return None
    if if_exists == "overwrite":
        if stat.S_ISDIR(mode):
            return f"{target} is a folder, not a file: give the path of a file to write"
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            return f"{target} is {special_file_kind(target) or 'not a regular file'}: choose another path"
    return None


def output_target(path: str | Path, if_exists: IfExists = "overwrite", *, folder: bool = False) -> Path:
    """The path an output node should write, after creating missing folders and applying ``if_exists``.

    ``folder=True`` is for outputs that are folders (image sequences). Leftovers of killed
    runs beside the target are swept first. Pass the result and the same ``if_exists`` to
    :func:`atomic_output`, which claims the name for good when the output is complete.
    """
    target = Path(path)
    if not str(path):
        raise KinographError("no output path given: set the node's path param")
    problem = output_problem(target, if_exists, folder=folder)
    if problem:
        raise KinographError(problem)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KinographError(f"cannot create the folder {target.parent}: {exc.strerror}") from None
    sweep_stale_leftovers(target.parent)
    if os.path.lexists(target):
        if if_exists == "error":
            raise KinographError(f"{target} already exists (set if_exists to 'overwrite' or 'increment')")
        if if_exists == "increment":
            return next_free_name(target)
    return target


class AtomicOutput:
    """A temporary file (or folder) beside the target, published only when the block succeeds.

    Use through :func:`atomic_output`. After the block, :attr:`target` is the path actually
    written: with ``increment`` another run may have taken the planned name meanwhile.
    """

    def __init__(self, target: Path, if_exists: IfExists = "overwrite", *, folder: bool = False) -> None:
        self.target = Path(target)
        self.if_exists = if_exists
        self.folder = folder
        self.temp = leftover_name(self.target, "partial")

    def __enter__(self) -> Path:
        if self.folder:
            try:
                self.temp.mkdir()
            except OSError as exc:
                raise KinographError(
                    f"cannot write {self.target}: the folder {self.target.parent} does not accept new "
                    f"files ({exc.strerror or exc}); choose another path"
                ) from exc
        return self.temp

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self.target = self._publish_folder() if self.folder else self._publish_file()
        finally:
            if self.folder:
                shutil.rmtree(self.temp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    self.temp.unlink()

    def _publish_file(self) -> Path:
        if self.if_exists == "overwrite":
            try:
                os.replace(self.temp, self.target)
            except OSError as exc:
                raise KinographError(f"cannot write {self.target}: {exc.strerror or exc}") from exc
            return self.target
        return self._claim(lambda candidate: _link_new(self.temp, candidate))

    def _publish_folder(self) -> Path:
        files = sorted(e.name for e in os.scandir(self.temp) if e.is_file(follow_symlinks=False))
        marker = {"format": "kinograph.sequence", "files": files}
        (self.temp / SEQUENCE_MARKER).write_text(json.dumps(marker), encoding="utf-8")
        if self.if_exists != "overwrite":
            return self._claim(self._move_into_new_folder)
        # Check again: the folder may have changed while the frames were made.
        problem = output_problem(self.target, "overwrite", folder=True)
        if problem:
            raise KinographError(problem)
        aside = None
        state = folder_state(self.target)
        if state == "empty":
            os.rmdir(self.target)  # fails, rather than deletes, if something arrived since
        elif state == "own":
            aside = leftover_name(self.target, "old")
            os.rename(self.target, aside)
        try:
            os.rename(self.temp, self.target)
        except OSError as exc:
            if aside is not None:
                with contextlib.suppress(OSError):
                    os.rename(aside, self.target)
            raise KinographError(f"cannot write {self.target}: {exc.strerror or exc}") from exc
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        return self.target

    def _move_into_new_folder(self, candidate: Path) -> None:
        os.mkdir(candidate)  # claims the name: FileExistsError when anything is there
        try:
            if os.name == "nt":  # Windows cannot rename over a folder, even an empty one
                os.rmdir(candidate)
            os.rename(self.temp, candidate)
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(candidate)
            raise

    def _claim(self, publish: Callable[[Path], None]) -> Path:
        """Publish under the planned name, or (``increment``) the next free one when it is taken."""
        candidate = self.target
        for _ in range(MAX_INCREMENT):
            try:
                publish(candidate)
                return candidate
            except FileExistsError:
                if self.if_exists == "error":
                    raise KinographError(
                        f"{candidate} already exists (another run wrote it first); set if_exists to "
                        "'overwrite' or 'increment'"
                    ) from None
                candidate = next_free_name(self.target)
            except OSError as exc:
                raise KinographError(f"cannot write {candidate}: {exc.strerror or exc}") from exc
        raise KinographError(f"no free name left next to {self.target}")


def atomic_output(target: Path, if_exists: IfExists = "overwrite", *, folder: bool = False) -> AtomicOutput:
    """Yield a temporary path beside ``target``; it becomes ``target`` only if the block succeeds.

    ``overwrite`` replaces the target atomically; ``error`` fails and ``increment`` takes the
    next free name when another writer got there first. A failed or cancelled write leaves
    nothing at the target path (and no temporary file). ``folder=True`` yields a folder, marked
    with :data:`SEQUENCE_MARKER` when published.
    """
    return AtomicOutput(target, if_exists, folder=folder)


def _link_new(temp: Path, target: Path) -> None:
    """Make ``temp`` appear at ``target``; FileExistsError when the name is taken."""
    try:
        os.link(temp, target)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
    # A file system without hard links: claim the name with an empty file, then replace it.
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    os.replace(temp, target)


def atomic_write_text(target: Path, text: str) -> None:
    """Write text to ``target`` atomically (temporary file + rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target) as temp:
        temp.write_text(text, encoding="utf-8")


# -- leftovers of killed processes ---------------------------------------------------------------


def leftover_name(target: Path, kind: Literal["partial", "old"]) -> Path:
    """``out/video.mp4`` -> ``out/.video.partial-PID-TOKEN.mp4``: hidden, per writer, sweepable."""
    token = secrets.token_hex(3)
    if kind == "old" or not target.suffix:
        return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{token}")
    return target.with_name(f".{target.stem}.{kind}-{os.getpid()}-{token}{target.suffix}")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (when unsure: yes)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill there would end the process, not probe it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # another user's process (EPERM), or a pid we cannot ask about
    return True


def owned_by_me(st: os.stat_result) -> bool:
    """Whether a file belongs to this user (shared folders like /tmp hold other users' files)."""
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def sweep_stale_leftovers(folder: Path) -> list[Path]:
    """Remove this user's temporary outputs in ``folder`` whose writing process is gone.

    A folder moved aside while being replaced (``.seq.old-PID-...``) whose replacement never
    arrived is put back instead: it is the last good output. Returns what was removed.
    """
    swept: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return swept
    for entry in entries:
        match = LEFTOVER_RE.match(entry.name)
        if match is None:
            continue
        legacy = match["token"] is None
        if legacy and (match["kind"] != "partial" or (match["suffix"] or "").lower() not in LEGACY_SUFFIXES):
            continue
        if process_alive(int(match["pid"])):
            continue
        try:
            if entry.is_symlink() or not owned_by_me(entry.stat(follow_symlinks=False)):
                continue
            if legacy and not entry.is_file(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if match["kind"] == "old":
                # Only ever an earlier sequence of ours, moved aside: check it still is one.
                if not entry.is_dir(follow_symlinks=False) or folder_state(path) != "own":
                    continue
                original = path.with_name(match["name"])
                if not os.path.lexists(original):
                    os.rename(path, original)
                    log.info("restored %s, left aside by a process that is gone", original)
                    continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            swept.append(path)
            log.info("removed %s, left by a process that is gone", path)
        except OSError:
            continue
    return swept
