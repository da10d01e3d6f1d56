"""Every test gets the plugin registered in-process (kinograph.testing's ``register_plugin``)."""

from __future__ import annotations

from pathlib import Path

import kinograph_grain.plugin
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
GRAPHS = Path(__file__).parent.parent / "graphs"


@pytest.fixture(autouse=True)
def grain_plugin(register_plugin):
    """The plugin as kinograph would load it from the entry point, without installing it."""
    return register_plugin(kinograph_grain.plugin, "grain")
