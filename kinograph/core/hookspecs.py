"""The hooks a kinograph plugin implements. Every plugin, built-in or third-party, uses these.

A plugin is a module (or object) with functions marked ``@hookimpl``; it is found through the
entry-point group ``kinograph.plugins`` (the entry point's name is the plugin's name)::

    [project.entry-points."kinograph.plugins"]
    grain = "kinograph_grain.plugin"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from kinograph.core.contributions import Command, GraphReader, SubgraphSource
    from kinograph.core.node import Node
    from kinograph.core.ports import Converter, PortType
    from kinograph.core.previews import Preview

PROJECT = "kinograph"
ENTRY_POINT_GROUP = "kinograph.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def kinograph_port_types() -> list[PortType]:
    """Return new port types this plugin's nodes use (registered before any node)."""


@hookspec
def kinograph_converters() -> list[Converter]:
    """Return converters between port types (yours or built-in ones)."""


@hookspec
def kinograph_nodes() -> list[type[Node]]:
    """Return the node classes this plugin provides."""


@hookspec
def kinograph_commands() -> list[Command]:
    """Return ``kinograph`` subcommands this plugin adds (e.g. ``train``, ``evaluate``).

    Each name may be claimed once; a name that a built-in command or another plugin already has
    is reported as a plugin problem and the command is left out.
    """


@hookspec
def kinograph_graph_readers() -> list[GraphReader]:
    """Return readers of graphs embedded in the output files this plugin's nodes write."""


@hookspec
def kinograph_previews() -> list[Preview]:
    """Return how the editor's viewer shows values of your port types.

    ``Preview(type, render)``: ``render(value)`` runs in the run's process (import no Qt) and
    returns an RGB image (uint8 ``[H, W, 3]``) or named curves (``{name: [numbers]}``).
    """


@hookspec
def kinograph_subgraphs() -> list[SubgraphSource]:
    """Return the reusable subgraph files this plugin ships (``SubgraphSource("package://DIST/PATH")``,
    a file or a folder of them); they show in the editor's palette and search like nodes."""
