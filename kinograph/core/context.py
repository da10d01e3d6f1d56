"""What a running node can ask of the engine: device, progress, warnings, cancellation, models."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kinograph.core.errors import Cancelled
from kinograph.core.paths import owned_by_me, process_alive

#: A run's temporary folder in the system temp folder: ``kinograph-run-<pid>-<random>``.
RUN_FOLDER_PREFIX = "kinograph-run-"
RUN_FOLDER_RE = re.compile(rf"^{RUN_FOLDER_PREFIX}(?P<pid>\d+)-")


class ModelStore:
    """Per-process store of loaded models, so weights load once however many runs use them."""

    def __init__(self) -> None:
        self._models: dict[Any, Any] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        """Return the model stored under ``key``, calling ``load()`` the first time only."""
        with self._lock:
            if key in self._models:
                return self._models[key]
        model = load()
        with self._lock:
            self.loads += 1
            return self._models.setdefault(key, model)

    def __contains__(self, key: Any) -> bool:
        return key in self._models

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MODELS = ModelStore()


class CancelToken:
    """Set once by whoever cancels (Ctrl+C, the editor's Esc); checked by nodes and streams."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class RunServices(Protocol):
    """What every node of one run shares, and where each node's reports go.

    The executor is one (for a whole run); :class:`RunContext`'s constructor wraps the plain
    values and callbacks it is given in another (what plugin tests build).
    """

    @property
    def models(self) -> ModelStore: ...
    @property
    def cancel(self) -> CancelToken: ...
    def device(self, node_id: str) -> str: ...
    def progress(self, node_id: str, done: int, total: int | None) -> None: ...
    def warn(self, node_id: str, message: str) -> None: ...
    def temp_root(self) -> Path | None: ...
    def graph_json(self) -> str | None: ...


class _Given:
    """:class:`RunServices` from the values and callbacks given to :class:`RunContext`."""

    def __init__(
        self,
        device: str | Callable[[], str],
        models: ModelStore | None,
        cancel: CancelToken | None,
        on_progress: Callable[[int, int | None], None] | None,
        on_warning: Callable[[str], None] | None,
        temp_root: Path | Callable[[], Path] | None,
        graph_json: str | Callable[[], str] | None,
    ) -> None:
        self._device = device
        self.models = models if models is not None else MODELS
        self.cancel = cancel or CancelToken()
        self._on_progress = on_progress
        self._on_warning = on_warning
        self._temp_root = temp_root
        self._graph_json = graph_json

    def device(self, node_id: str) -> str:
        return self._device() if callable(self._device) else self._device

    def progress(self, node_id: str, done: int, total: int | None) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

    def warn(self, node_id: str, message: str) -> None:
        if self._on_warning is not None:
            self._on_warning(message)

    def temp_root(self) -> Path | None:
        if callable(self._temp_root):  # e.g. the run's folder, made when a node first needs one
            self._temp_root = self._temp_root()
        return self._temp_root

    def graph_json(self) -> str | None:
        if callable(self._graph_json):
            self._graph_json = self._graph_json()
        return self._graph_json


class RunContext:
    """Given to :meth:`Node.run`; everything a node needs from the engine."""

    def __init__(
        self,
        node_id: str = "node",
        *,
        device: str | Callable[[], str] = "cpu",
        models: ModelStore | None = None,
        cancel: CancelToken | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        temp_root: Path | Callable[[], Path] | None = None,
        graph_json: str | Callable[[], str] | None = None,
        wanted_outputs: set[str] | None = None,
    ) -> None:
        services = _Given(device, models, cancel, on_progress, on_warning, temp_root, graph_json)
        self._bind(node_id, services, wanted_outputs)

    @classmethod
    def in_run(cls, services: RunServices, node_id: str, wanted_outputs: set[str] | None = None) -> RunContext:
        """A node's context in a run whose shared part is ``services`` (the executor): nothing
        is made per node but the context itself, which shows on graphs of thousands of nodes."""
        ctx = cls.__new__(cls)
        ctx._bind(node_id, services, wanted_outputs)
        return ctx

    def _bind(self, node_id: str, services: RunServices, wanted_outputs: set[str] | None) -> None:
        self.node_id = node_id
        self._services = services
        self.models = services.models
        #: the outputs something downstream uses (None: unknown, compute all)
        self.wanted_outputs = wanted_outputs
        self._device: str | None = None
        self._temp_dir: Path | None = None
        self.warnings: list[str] = []

    @property
    def graph_json(self) -> str | None:
        """The graph being run, as file text, for writers to embed in what they write."""
        return self._services.graph_json()

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the node (``kinograph.node.<id>``)."""
        return logging.getLogger(f"kinograph.node.{self.node_id}")

    @property
    def device(self) -> str:
        """The device to compute on: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
        if self._device is None:
            self._device = self._services.device(self.node_id)
        return self._device

    @property
    def torch_device(self) -> Any:
        """``ctx.device`` as a ``torch.device`` (imports torch)."""
        import torch

        return torch.device(self.device)

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def wants(self, output: str) -> bool:
        """Whether anything uses ``output`` in this run, so a node can skip work nobody needs."""
        return self.wanted_outputs is None or output in self.wanted_outputs

    def progress(self, done: int, total: int | None = None) -> None:
        """Report progress: ``done`` of ``total`` steps (total may be unknown)."""
        self._services.progress(self.node_id, done, total)

    def warn(self, message: str) -> None:
        """Record a warning the CLI prints and the run result keeps."""
        self.warnings.append(message)
        self.logger.warning(message)
        self._services.warn(self.node_id, message)

    @property
    def cancelled(self) -> bool:
        return self._services.cancel.cancelled

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` when the user cancelled the run; call it between steps."""
        if self._services.cancel.cancelled:
            raise Cancelled("run cancelled")

    @property
    def temp_dir(self) -> Path:
        """A private temporary folder for this node, removed when the run ends."""
        if self._temp_dir is None:
            root = self._services.temp_root() or Path(tempfile.gettempdir())
            root.mkdir(parents=True, exist_ok=True)
            self._temp_dir = Path(tempfile.mkdtemp(prefix=f"{self.node_id}-", dir=root))
        return self._temp_dir


def new_run_folder(root: Path | None = None) -> Path:
    """A fresh temporary folder for one run, named with this process's id.

    Folders of runs whose process is gone (killed with ``kill -9``) are swept first.
    """
    root = root or Path(tempfile.gettempdir())
    sweep_stale_run_folders(root)
    return Path(tempfile.mkdtemp(prefix=f"{RUN_FOLDER_PREFIX}{os.getpid()}-", dir=root))


_SWEPT_ROOTS: set[str] = set()


def sweep_stale_run_folders_once(root: Path | None = None) -> None:
    """Sweep dead runs' folders the first time this process runs a graph (once is enough: a
    folder left by a run of this process would belong to a live process)."""
    root = root or Path(tempfile.gettempdir())
    if str(root) not in _SWEPT_ROOTS:
        _SWEPT_ROOTS.add(str(root))
        sweep_stale_run_folders(root)


def sweep_stale_run_folders(root: Path) -> list[Path]:
    """Remove this user's ``kinograph-run-<pid>-*`` folders in ``root`` whose process is gone.

    Never one of a live process (pids are checked), never another user's, never through a link.
    """
    swept: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return swept
    for entry in entries:
        match = RUN_FOLDER_RE.match(entry.name)
        if match is None or process_alive(int(match["pid"])):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or not owned_by_me(entry.stat(follow_symlinks=False)):
                continue
            shutil.rmtree(entry.path)
        except OSError:
            continue
        swept.append(Path(entry.path))
    return swept
