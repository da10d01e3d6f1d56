"""A node that hangs where cancellation never reaches it (a stuck native call), for the editor
benchmark's cancel-to-stopped figure. Registered in-process by ``editor_responsiveness.py``; the
editor names this module to its run process, which imports it."""

from __future__ import annotations

import time
from typing import Any

from kinograph.api import Node, RunContext, hookimpl


class Hang(Node):
    """Sleeps ten minutes without looking at cancellation."""

    type_id = "benchhang.hang"
    category = "Test"
    output_node = True
    outputs = []

    def run(self, ctx: RunContext) -> dict[str, Any]:
        time.sleep(600)
        return {}


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [Hang]
