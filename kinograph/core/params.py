"""Params: the pydantic model every node declares, and field helpers for the editor and CLI.

Helpers add an ``x-kinograph`` object to a field's JSON Schema. Keys (documented in README):

- ``widget``: ``input_path`` | ``output_path`` | ``color`` | ``slider`` | ``multiline``
- ``filters``: file-dialog filters, e.g. ``["Images (*.png *.jpg)"]`` (paths)
- ``must_exist``: an input path that validation checks (paths; globs must match something)
- ``folder``: the path names a folder (paths)
- ``step``: slider step (sliders)

The editor builds its inspector from these keys; ``--set`` uses the field type to parse values
and the path widgets to resolve relative paths against the current folder.
"""

from __future__ import annotations

import functools
import types
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

XKEY = "x-kinograph"
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"


class NodeParams(BaseModel):
    """Base class of every node's ``Params``: unknown params are errors, values are checked.

    Defaults are checked too (``validate_default``): a default of the wrong type or outside its
    bounds is the plugin's mistake, found when the plugin registers (:func:`default_problems`),
    never handed to ``run()``.
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, validate_default=True, frozen=False, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_true_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads true as 1 and 1 as true; in a graph file that is a mistake
        # (``"fps": true``), so say so instead of running with a number nobody wrote.
        if not isinstance(value, (int, float)):  # only numbers and booleans can be mixed up
            return value
        refuses = _refused_scalar(cls, info.field_name or "")
        if refuses is bool and isinstance(value, bool):
            raise PydanticCustomError("number_not_bool", "takes a number, not {value}", {"value": str(value).lower()})
        if refuses is float and not isinstance(value, bool):
            raise PydanticCustomError("bool_not_number", "takes true or false, not the number {value}", {"value": value})
        return value


@functools.cache
def _refused_scalar(model: type[BaseModel], name: str) -> type | None:
    """What a field must not take although pydantic's lax mode would: ``bool`` for a number
    field, ``float`` (any number) for a true/false field, else None. Cached per model and
    field: this runs for every number of every params model validated."""
    field = model.model_fields.get(name)
    kinds = scalar_kinds(field.annotation) if field is not None else set()
    if kinds & {int, float} and bool not in kinds:
        return bool
    if kinds == {bool}:
        return float
    return None


def scalar_kinds(annotation: Any) -> set[type]:
    """The plain scalar types (bool, int, float, str) a field annotation admits."""
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return scalar_kinds(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return {type(v) for v in typing.get_args(annotation)}
    if origin in (typing.Union, types.UnionType):
        return set().union(*(scalar_kinds(a) for a in typing.get_args(annotation)))
    return {annotation} if annotation in (bool, int, float, str) else set()


def default_problems(model: type[BaseModel]) -> list[str]:
    """What is wrong with a params model's defaults, one sentence per field (empty when fine).

    Each default is validated as if a graph had written it, so a ``Slider("half", ...)``, a
    ``Literal`` default outside its choices, a default outside ``ge``/``le`` or ``int = 2.5``
    is named here with its field, instead of failing later in a graph that omits the param.
    """
    from pydantic import ValidationError

    try:
        model()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "(model)"
            if error["type"] == "missing":
                problems.append(f"param {name!r} has no default: give it one (a node joins a graph with its defaults)")
                continue
            field = model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
            default = field.get_default(call_default_factory=True) if field is not None else error.get("input")
            problems.append(f"param {name!r}: default {default!r} is invalid: {error['msg']}")
        return problems
    except Exception as exc:  # a validator that raises something else: still the default's fault
        return [f"the defaults do not validate: {type(exc).__name__}: {exc}"]
    return []


def _extra(**keys: Any) -> dict[str, Any]:
    return {XKEY: {k: v for k, v in keys.items() if v is not None}}


def InputPath(
    default: Any = "",
    *,
    description: str = "",
    filters: list[str] | None = None,
    must_exist: bool = True,
    folder: bool = False,
    title: str | None = None,
) -> Any:
    """A file (or folder, or glob) the node reads. Relative values resolve against the graph's folder."""
    return Field(
        default,
        description=description,
        title=title,
        json_schema_extra=_extra(
            widget="input_path", filters=filters or [], must_exist=must_exist, folder=folder
        ),
    )


def OutputPath(
    default: Any = "",
    *,
    description: str = "",
    filters: list[str] | None = None,
    folder: bool = False,
    title: str | None = None,
) -> Any:
    """A file the node writes. Relative values resolve against the graph's folder."""
    return Field(
        default,
        description=description,
        title=title,
        json_schema_extra=_extra(widget="output_path", filters=filters or [], folder=folder),
    )


def Color(default: str = "#000000", *, description: str = "", title: str | None = None) -> Any:
    """An RGB colour written as ``#rrggbb``."""
    return Field(
        default,
        description=description,
        title=title,
        pattern=COLOR_PATTERN,
        json_schema_extra=_extra(widget="color"),
    )


def Slider(
    default: float,
    *,
    ge: float,
    le: float,
    step: float | None = None,
    description: str = "",
    title: str | None = None,
) -> Any:
    """A bounded number the editor shows as a slider next to a spin box."""
    return Field(
        default,
        ge=ge,
        le=le,
        description=description,
        title=title,
        json_schema_extra=_extra(widget="slider", step=step),
    )


def parse_color(value: str) -> tuple[int, int, int]:
    """``#rrggbb`` -> (r, g, b)."""
    text = value.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


@functools.cache
def field_ui(model: type[BaseModel], name: str) -> dict[str, Any]:
    """The ``x-kinograph`` keys of one field (empty when it has none)."""
    info = model.model_fields[name]
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        value = extra.get(XKEY)
        if isinstance(value, dict):
            return value
    return {}


@functools.cache
def path_fields(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> ``input_path`` / ``output_path`` for every path param."""
    found = {}
    for name in model.model_fields:
        widget = field_ui(model, name).get("widget")
        if widget in ("input_path", "output_path"):
            found[name] = widget
    return found


def resolve_param_paths(params: NodeParams, base_dir: Any) -> dict[str, str]:
    """Resolve a validated Params' path fields in place (``package://``, ``~``, relative to
    ``base_dir``); returns the resolved values by field name.

    Raises KinographError for an input that is a FIFO or a device: reading one would hang or
    never end, so no node is handed one.
    """
    from kinograph.core.errors import KinographError
    from kinograph.core.paths import resolve_path, special_file_kind

    resolved = {}
    for name, widget in path_fields(type(params)).items():
        value = getattr(params, name)
        if isinstance(value, str) and value:
            resolved[name] = resolve_path(value, base_dir)
            kind = widget == "input_path" and special_file_kind(resolved[name])
            if kind:
                raise KinographError(f"param {name}: {resolved[name]} is {kind}, not a file (kinograph reads only regular files)")
            setattr(params, name, resolved[name])
    return resolved
