"""Contributes ``kinograph batch`` through the ``kinograph_commands`` hook.

Batch is an application layer beside the CLI, not a node pack: registering its command like any
plugin's keeps the CLI free of imports of it (the import contract), and ``kinograph --help``
names it with the plugin that provides it.
"""

from __future__ import annotations

from kinograph.api import Command, hookimpl
from kinograph.batch import command


@hookimpl
def kinograph_commands() -> list[Command]:
    return [
        Command(
            "batch",
            "run one graph over many inputs (resumable; local or Ray)",
            command.configure,
            command.run,
            description="Run one graph over many inputs, on this machine or on a Ray cluster. Resumable.",
        )
    ]
