"""Shared fixtures: an isolated KINOGRAPH_HOME, a registry with the test nodes, offscreen Qt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

import nodes_for_tests

from kinograph.core.registry import Registry, reset_registry
from kinograph.core.scheduler import Session


@pytest.fixture(autouse=True)
def kinograph_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("kinograph-home")
    monkeypatch.setenv("KINOGRAPH_HOME", str(home))
    for name in ("KINOGRAPH_DISABLE_PLUGINS", "KINOGRAPH_BLOCK_PLUGINS", "KINOGRAPH_STRICT_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    reset_registry(None)
    yield home
    reset_registry(None)


@pytest.fixture
def registry() -> Registry:
    """Built-in packs plus the test nodes, installed as the process-wide registry."""
    reg = Registry()
    reg.load_builtins()
    info = reg.register_plugin(nodes_for_tests, "tests")
    assert not info.errors, info.errors
    reset_registry(reg)
    nodes_for_tests.CALLS.clear()
    nodes_for_tests.Record.received.clear()
    nodes_for_tests.Collect.seen.clear()
    return reg


@pytest.fixture
def session(registry: Registry, kinograph_home: Path) -> Session:
    return Session(registry)
