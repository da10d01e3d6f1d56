"""Small typed records that plugins contribute through hooks besides nodes: commands, readers
of graphs embedded in output files, and reusable subgraph files. The host validates them when
it collects them."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: A command name a user can type: lower-case words joined by hyphens.
COMMAND_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: ``package://DIST/PATH``: a file or folder inside an installed distribution.
PACKAGE_NAME = re.compile(r"^package://[A-Za-z0-9][A-Za-z0-9._-]*/[^\\]+$")


@dataclass(frozen=True)
class Command:
    """A ``kinograph`` subcommand contributed by a plugin (e.g. ``train`` from the learned pack).

    ``configure`` adds the command's arguments to its argparse sub-parser; ``run`` gets the
    parsed arguments and returns the exit code (0 ok, 1 failed, 2 bad input, 130 cancelled).
    Raise :class:`kinograph.api.KinographError` for a user's mistake: the CLI prints it as one
    ``error:`` line, without a traceback unless ``--debug``. Keep heavy imports inside ``run``,
    so ``kinograph --help`` stays fast.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""

    def problems(self) -> list[str]:
        """What is wrong with this record, in a plugin author's words."""
        found = []
        if not isinstance(self.name, str) or not COMMAND_NAME.match(self.name):
            found.append(f"command name {self.name!r} must be lower-case words joined by '-'")
        if not callable(self.configure) or not callable(self.run):
            found.append(f"command {self.name!r}: configure and run must be callables")
        return found


@dataclass(frozen=True)
class GraphReader:
    """Reads the graph that a kinograph output file embeds (MP4 metadata, PNG text chunk, ...).

    ``read(path)`` returns the graph JSON text, or None when the file holds none. It is offered
    by the plugin whose nodes write such files; the editor and ``kinograph gui FILE`` ask the
    registry for a reader by suffix, never a module by name.
    """

    name: str
    suffixes: Sequence[str]
    read: Callable[[str], str | None]
    formats: Sequence[str] = field(default_factory=tuple)

    def problems(self) -> list[str]:
        found = []
        if not self.suffixes or not all(isinstance(s, str) and s.startswith(".") for s in self.suffixes):
            found.append(f"graph reader {self.name!r}: suffixes must look like '.mp4'")
        if not callable(self.read):
            found.append(f"graph reader {self.name!r}: read must be a callable")
        return found


@dataclass(frozen=True)
class SubgraphSource:
    """Reusable subgraph files a plugin ships: ``package://DIST/PATH`` names one ``.json`` file,
    or a folder whose ``.json`` files (subfolders too) are all offered. They show in the editor's
    palette and search like nodes, with their version; graphs that use one record its source.

    Subgraph files hold no code (nodes, links, an interface): write one with the editor's
    "Save as reusable", then copy it into your package.
    """

    source: str

    def problems(self) -> list[str]:
        if not isinstance(self.source, str) or not PACKAGE_NAME.match(self.source) or ".." in self.source.split("/"):
            return [f"subgraph source {self.source!r} must look like package://DIST/PATH (inside your package)"]
        return []
