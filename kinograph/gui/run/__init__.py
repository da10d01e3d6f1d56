"""Running from the editor: Run / Run selected / Cancel, device choice, badges, viewer, log, autosave.

:func:`attach_run_features` (in :mod:`kinograph.gui.run.features`) adds all of it to a
:class:`MainWindow`. Graphs run in a separate run process (``controller.py``, ``worker_main.py``),
so a node that crashes or hangs fails its run, never the editor. This package's ``__init__``
imports nothing itself, so the Qt-free modules here (previews, plugin list) load without Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinograph.gui.run.features import RunFeatures, attach_run_features

__all__ = ["RunFeatures", "attach_run_features"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kinograph.gui.run import features

        return getattr(features, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
