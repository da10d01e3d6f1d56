"""The graph file: pydantic models of the JSON format, a strict loader, and a stable writer.

Loading never executes code. Duplicate keys, NaN, infinities and absurd nesting are errors;
files from older format versions pass through :mod:`kinograph.core.migrations`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kinograph.core.errors import GraphError, Problem

FORMAT = "kinograph.graph"
FORMAT_VERSION = 1
MAX_DEPTH = 64
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
PORT_REF_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*$"

NodeId = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
PortRef = Annotated[str, StringConstraints(pattern=PORT_REF_PATTERN)]


class PluginRef(BaseModel):
    """Which plugin provided a node, so a user missing it knows what to install."""

    model_config = ConfigDict(extra="forbid")
    name: str
    dist: str = ""
    version: str = ""


class NodeEntry(BaseModel):
    """One node in the file: type, version, params, editor state, bypass flag, plugin."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1)
    version: int = Field(1, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)
    ui: dict[str, Any] = Field(default_factory=dict)
    bypass: bool = False
    plugin: PluginRef | None = None


class LinkEntry(BaseModel):
    """A link from an output port to an input port, both written ``node.port``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    source: PortRef = Field(alias="from")
    target: PortRef = Field(alias="to")


class Meta(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = ""
    description: str = ""


class GraphFile(BaseModel):
    """The whole file. ``kinograph schema`` prints this model's JSON Schema."""

    model_config = ConfigDict(extra="forbid", title="kinograph graph")
    format: Literal["kinograph.graph"]
    version: Literal[1]
    meta: Meta = Field(default_factory=Meta)
    nodes: dict[NodeId, NodeEntry] = Field(default_factory=dict)
    links: list[LinkEntry] = Field(default_factory=list)


def graph_schema() -> dict[str, Any]:
    schema = GraphFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# -- strict JSON --


class _JsonProblem(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonProblem(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not allowed (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _JsonProblem(f"number {text} is too large (numbers must be finite)")
    return value


def _nesting_depth_problem(text: str) -> str | None:
    """Find nesting deeper than MAX_DEPTH before json recurses into it."""
    depth = 0
    in_string = False
    escaped = False
    line = 1
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"line {line}: nesting deeper than {MAX_DEPTH} levels"
        elif char in "]}":
            depth -= 1
        elif char == "\n":
            line += 1
    return None


def parse_json(data: bytes | str, source: str = "") -> Any:
    """Parse strict JSON: UTF-8, no duplicate keys, finite numbers, bounded nesting."""
    if isinstance(data, bytes):
        kind = _media_kind(data)
        if kind:
            raise GraphError(
                Problem("", f"this is {kind}, not a graph file", "if kinograph made it, open it with: kinograph gui FILE"),
                source,
            )
        if not data.strip():
            raise GraphError(Problem("", "the file is empty", "a graph file is a JSON object"), source)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GraphError(
                Problem("", f"not UTF-8 text (bad byte at offset {exc.start})", "save the file as UTF-8"),
                source,
            ) from None
    else:
        text = data
    if not text.strip():
        raise GraphError(Problem("", "the file is empty", "a graph file is a JSON object"), source)
    depth_problem = _nesting_depth_problem(text)
    if depth_problem:
        raise GraphError(Problem("", depth_problem), source)
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except _JsonProblem as exc:
        raise GraphError(Problem("", f"invalid JSON: {exc}"), source) from None
    except json.JSONDecodeError as exc:
        raise GraphError(
            Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"), source
        ) from None
    except RecursionError:
        raise GraphError(Problem("", "nesting too deep"), source) from None


MEDIA_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
)


def _media_kind(data: bytes) -> str | None:
    """Name common image and video formats, so `kinograph run photo.jpg` says what it got."""
    for signature, kind in MEDIA_SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[4:8] == b"ftyp":
        return "an MP4/QuickTime video"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    return None


def _where(loc: tuple[Any, ...]) -> str:
    parts = []
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else str(item))
    return ".".join(parts).replace(".[", "[")


def validation_problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn pydantic errors into problems named by their place in the file."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where = _where(loc)
        if prefix:
            where = f"{prefix}.{where}" if where else prefix
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif error["type"] == "missing":
            message = "required but missing"
        elif error["type"] == "literal_error" and loc and loc[-1] == "format":
            message = f"not a kinograph graph (format must be {FORMAT!r})"
        problems.append(Problem(where, message))
    return problems


def graph_file_from_data(data: Any, source: str = "") -> GraphFile:
    """Check the shape of parsed JSON, run format migrations, and build a :class:`GraphFile`."""
    from kinograph.core.migrations import migrate_file

    if not isinstance(data, dict):
        raise GraphError(
            Problem("", f"expected a JSON object at the top level, found {type(data).__name__}"), source
        )
    if data.get("format") != FORMAT:
        raise GraphError(
            Problem("format", f"not a kinograph graph (format is {data.get('format')!r}, expected {FORMAT!r})"),
            source,
        )
    data = migrate_file(data, source)
    try:
        return GraphFile.model_validate(data)
    except ValidationError as exc:
        raise GraphError(validation_problems(exc), source) from None


def load_graph_file(path: str | Path) -> GraphFile:
    """Read and check a graph file from disk."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GraphError(Problem("", f"no such file: {path}"), "") from None
    except IsADirectoryError:
        raise GraphError(Problem("", f"{path} is a folder, not a graph file"), "") from None
    except OSError as exc:
        raise GraphError(Problem("", f"cannot read {path}: {exc.strerror}"), "") from None
    return graph_file_from_data(parse_json(data, str(path)), str(path))


def dump_graph_file(graph: GraphFile) -> str:
    """Serialise in a stable key order (format, version, meta, nodes, links) for clean diffs."""
    data = graph.model_dump(mode="json", by_alias=True, exclude_none=True)
    ordered = {
        "format": data["format"],
        "version": data["version"],
        "meta": data["meta"],
        "nodes": {
            node_id: {key: entry[key] for key in ("type", "version", "params", "ui", "bypass", "plugin") if key in entry}
            for node_id, entry in data["nodes"].items()
        },
        "links": [{"from": link["from"], "to": link["to"]} for link in data["links"]],
    }
    return json.dumps(ordered, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
