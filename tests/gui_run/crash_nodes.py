"""Nodes that misbehave the way third-party native code does: crash the process, or hang.

Registered by the run-process tests as an *instance* of :class:`CrashPack` (not as a module), so
they also check that the editor names such a plugin to its run process ("module:qualname").
Never run them in the test process itself.
"""

from __future__ import annotations

import ctypes
import os
import time
from typing import Any, Literal

from kinograph.api import NUMBER, Input, Node, NodeParams, RunContext, hookimpl


class Crash(Node):
    """Dereferences a null pointer (segfault), or ends its process without a word."""

    type_id = "crashtest.crash"
    category = "Test"
    output_node = True
    inputs = [Input("value", NUMBER, optional=True)]
    outputs = []

    class Params(NodeParams):
        how: Literal["segfault", "exit"] = "segfault"

    def run(self, ctx: RunContext, value: float = 0.0) -> dict[str, Any]:
        if self.params.how == "exit":
            os._exit(3)
        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return {}


class Hang(Node):
    """Sleeps for ten minutes and never looks at cancellation (like a stuck native call)."""

    type_id = "crashtest.hang"
    category = "Test"
    output_node = True
    inputs = [Input("value", NUMBER, optional=True)]
    outputs = []

    def run(self, ctx: RunContext, value: float = 0.0) -> dict[str, Any]:
        time.sleep(600)
        return {}


class CrashPack:
    """The plugin object: an instance of a class at the top of a module, as a test registers it."""

    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [Crash, Hang]
