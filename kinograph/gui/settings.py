"""The editor's remembered choices (minimap shown, live updates...) in ``<settings>/editor.json``.

The same file holds ``autosave_seconds`` (see :mod:`kinograph.gui.autosave`); keys this module
does not know are kept. A missing, unreadable or damaged file means the defaults, and a
settings folder that cannot be written never stops the user from working.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kinograph.host import atomic_write_text, settings_dir


def settings_file() -> Path:
    return settings_dir() / "editor.json"


def read_settings() -> dict[str, Any]:
    try:
        data = json.loads(settings_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def setting(key: str, default: Any) -> Any:
    """The remembered value of ``key`` (``default`` when unset, or not of the default's type)."""
    value = read_settings().get(key, default)
    return value if isinstance(value, type(default)) else default


def remember(key: str, value: Any) -> None:
    """Store ``value`` under ``key`` (atomically; silently skipped when the folder is read-only)."""
    data = read_settings()
    if data.get(key) == value:
        return
    data[key] = value
    try:
        settings_file().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(settings_file(), json.dumps(data, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass
