"""Work around a refcount bug of PySide6 6.12 (shiboken) on Python < 3.12.

There, every call of a Qt method returning ``void`` (``painter.setPen``, ``setObjectName``, ...)
takes one reference from ``None`` without having given one. Python 3.12 made ``None`` immortal,
which hides it; on 3.11 ``None``'s count reaches zero after a few thousand calls and the process
aborts ("deallocating None"), e.g. while painting a 200-node graph. We detect the leak once and
then give ``None`` a count so large that it can never reach zero (what 3.12 does by design).
"""

from __future__ import annotations

import ctypes
import sys

_PADDING = 1 << 60


def _leaks_none() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(32):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 16


def protect_none_refcount() -> bool:
    """Make ``None`` immortal in practice when this PySide6 build leaks its references."""
    if sys.version_info >= (3, 12) or not _leaks_none():
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value < _PADDING:
        refcount.value += _PADDING
    return True


PROTECTED = protect_none_refcount()
