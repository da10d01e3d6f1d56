"""The hooks kinograph calls: this module is the ``grain`` entry point in pyproject.toml.

It imports only the node modules (which import only kinograph.api), so listing nodes is fast.
"""

from __future__ import annotations

from kinograph.api import Converter, Node, PortType, Preview, hookimpl
from kinograph_grain.contact_sheet import ContactSheet
from kinograph_grain.grain import FilmGrain
from kinograph_grain.palette import CONVERTERS, PALETTE, PREVIEWS, PaletteMap, PaletteNode
from kinograph_grain.sharpen import Sharpen


@hookimpl
def kinograph_port_types() -> list[PortType]:
    return [PALETTE]


@hookimpl
def kinograph_converters() -> list[Converter]:
    return CONVERTERS


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [FilmGrain, PaletteNode, PaletteMap, Sharpen, ContactSheet]


@hookimpl
def kinograph_previews() -> list[Preview]:
    return PREVIEWS
