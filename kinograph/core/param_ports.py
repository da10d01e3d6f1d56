"""Params shown as input ports ("linked params").

Any param whose type maps to a port type can be exposed as an input port of its node; a link
into it gives the param its value at run time, checked by the node's own params model. Nothing in
a node's code changes: the executor hands ``run()`` params with the linked values in.

Port types follow the param's type: Number for int and float, Bool for bool, Text for str and
enums, Path for file params.
"""

from __future__ import annotations

from kinograph.core.node import Input, Node
from kinograph.core.params import path_fields, scalar_kinds
from kinograph.core.ports import BOOL, NUMBER, PATH, TEXT


def param_port_type(cls: type[Node], name: str) -> str | None:
    """The port type a param shows as, or None when it cannot be linked (lists, objects...)."""
    field = cls.Params.model_fields.get(name)
    if field is None:
        return None
    if name in path_fields(cls.Params):
        return PATH.name
    kinds = scalar_kinds(field.annotation)
    if kinds == {bool}:
        return BOOL.name
    if kinds and kinds <= {int, float}:
        return NUMBER.name
    if kinds == {str}:
        return TEXT.name
    return None


def exposable_params(cls: type[Node]) -> list[str]:
    """Params of ``cls`` that can be shown as input ports (not named like one of its inputs)."""
    taken = {port.name for port in cls.inputs}
    return [name for name in cls.Params.model_fields if name not in taken and param_port_type(cls, name)]


def param_input(cls: type[Node], name: str) -> Input | None:
    """The input port a param shows as (optional: its own value is used while unlinked)."""
    port_type = param_port_type(cls, name)
    if port_type is None or cls.input(name) is not None:
        return None
    field = cls.Params.model_fields[name]
    return Input(name, port_type, f"param {name}: {field.description or 'its value comes from the link'}", optional=True)


def node_inputs(cls: type[Node], exposed: list[str]) -> list[Input]:
    """A node's input ports: its declared inputs, then its exposed params."""
    params = [port for port in (param_input(cls, name) for name in exposed) if port is not None]
    return list(cls.inputs) + params


def exposure_problem(cls: type[Node], name: str) -> str | None:
    """Why ``name`` cannot be shown as an input port of ``cls``, or None."""
    if name not in cls.Params.model_fields:
        return f"{cls.type_id} has no param {name!r}"
    if cls.input(name) is not None:
        return f"{cls.type_id} already has an input named {name!r}"
    if param_port_type(cls, name) is None:
        return f"param {name!r} holds a list or an object, which a link cannot give"
    return None
