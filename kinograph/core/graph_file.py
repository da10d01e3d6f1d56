"""The graph file: pydantic models of the JSON format, a strict loader, and a stable writer.

Loading never executes code. Duplicate keys, NaN, infinities, absurd nesting, numbers with
absurdly many digits and text that is not valid Unicode are errors; only regular files up to
:data:`MAX_FILE_BYTES` are read; files from older format versions pass through
:mod:`kinograph.core.migrations`.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from kinograph.core.errors import GraphError, Problem, shown

FORMAT = "kinograph.graph"
FORMAT_VERSION = 3
#: reusable subgraph files (see :mod:`kinograph.core.subgraph_files`)
SUBGRAPH_FORMAT = "kinograph.subgraph"
#: the type of a group node: a node that holds a graph
SUBGRAPH_TYPE = "kinograph.subgraph"
MAX_DEPTH = 64
#: the largest graph file read: real graphs are kilobytes; this bounds what a mistaken big
#: file can cost (16 MB of dense JSON took 3 s and 350 MB to validate; 58 MB, 21 s and 1.2 GB)
MAX_FILE_BYTES = 16 * 1024 * 1024
#: the most digits an integer in a graph file may have (64-bit seeds have 20)
MAX_INT_DIGITS = 32
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
    """One node in the file: type, version, params, editor state, bypass flag, plugin.

    A group node (type ``kinograph.subgraph``, version 3) holds its graph inline (``subgraph``)
    or names a reusable subgraph file (``ref``); its ``params`` are the values of the params
    its subgraph shows.
    """

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1)
    version: int = Field(1, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)
    ui: dict[str, Any] = Field(default_factory=dict)
    bypass: bool = False
    plugin: PluginRef | None = None
    #: params shown as input ports: a link into one gives its value at run time (version 2)
    exposed: list[NodeId] = Field(default_factory=list)
    #: the graph a group node holds (version 3)
    subgraph: SubgraphEntry | None = None
    #: the reusable subgraph file a group node uses instead (version 3)
    ref: SubgraphRefEntry | None = None

    @model_validator(mode="after")
    def _group_content(self) -> NodeEntry:
        if self.type == SUBGRAPH_TYPE:
            if (self.subgraph is None) == (self.ref is None):
                raise ValueError("a group node holds either a subgraph or a ref to a subgraph file (one of them)")
        elif self.subgraph is not None or self.ref is not None:
            raise ValueError(f"only nodes of type {SUBGRAPH_TYPE!r} hold a subgraph or a ref")
        return self


class GroupPortEntry(BaseModel):
    """One port of a group: its name and port type."""

    model_config = ConfigDict(extra="forbid")
    name: NodeId
    type: str = Field(min_length=1)


class GroupParamEntry(BaseModel):
    """A param of an inner node that the group shows as its own, under ``name``."""

    model_config = ConfigDict(extra="forbid")
    name: NodeId
    node: NodeId
    param: NodeId


class InterfaceEntry(BaseModel):
    """What a subgraph shows outside: input and output ports, and params."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[GroupPortEntry] = Field(default_factory=list)
    outputs: list[GroupPortEntry] = Field(default_factory=list)
    params: list[GroupParamEntry] = Field(default_factory=list)


class SubgraphEntry(BaseModel):
    """A graph inside a group node. Its nodes of type ``kinograph.subgraph.inputs`` and
    ``kinograph.subgraph.outputs`` stand for the group's ports; links to and from them cross
    the boundary."""

    model_config = ConfigDict(extra="forbid")
    meta: Meta = Field(default_factory=lambda: Meta())
    interface: InterfaceEntry = Field(default_factory=lambda: InterfaceEntry())
    nodes: dict[NodeId, NodeEntry] = Field(default_factory=dict)
    links: list[LinkEntry] = Field(default_factory=list)


class SubgraphRefEntry(BaseModel):
    """A reusable subgraph file: where (``user:NAME.json`` in the user's subgraphs folder, or
    ``package://DIST/PATH``), and the version and content hash it had when the graph was saved."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1)
    version: int = Field(1, ge=1)
    hash: str = ""


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
    version: Literal[3]
    meta: Meta = Field(default_factory=Meta)
    nodes: dict[NodeId, NodeEntry] = Field(default_factory=dict)
    links: list[LinkEntry] = Field(default_factory=list)


class ParamRename(BaseModel):
    """Version ``version`` of a subgraph file calls the group param ``from`` now ``to``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    version: int = Field(ge=2)
    old: NodeId = Field(alias="from")
    new: NodeId = Field(alias="to")


class SubgraphFile(SubgraphEntry):
    """A reusable subgraph file (no code: nodes, links and an interface). ``subgraph_version``
    is the subgraph's own version, as a node type has one; ``renamed_params`` migrate the values
    graphs saved for older versions."""

    model_config = ConfigDict(extra="forbid", title="kinograph subgraph", populate_by_name=True)
    format: Literal["kinograph.subgraph"]
    version: Literal[3]
    subgraph_version: int = Field(1, ge=1)
    renamed_params: list[ParamRename] = Field(default_factory=list)


def graph_schema() -> dict[str, Any]:
    """The JSON Schema of graph files; ``$defs.SubgraphFile`` describes reusable subgraph files."""
    schema = GraphFile.model_json_schema(by_alias=True)
    subgraph_file = SubgraphFile.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    schema["$defs"].update(subgraph_file.pop("$defs", {}))
    schema["$defs"]["SubgraphFile"] = subgraph_file
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# -- strict JSON --


class _JsonProblem(ValueError):
    """A strictness rule broken while parsing; ``token`` (if any) is the text at fault."""

    def __init__(self, message: str, token: str = "") -> None:
        super().__init__(message)
        self.token = token


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
        raise _JsonProblem(f"number {shown(text, 40)} is too large (numbers must be finite)")
    return value


def _bounded_int(text: str) -> int:
    # Python refuses to convert more than 4300 digits (a ValueError deep inside json), and no
    # param needs more than a few dozen.
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _JsonProblem(
            f"the number {shown(text, 40)} has {digits} digits (numbers in a graph file have at most "
            f"{MAX_INT_DIGITS})",
            token=text,
        )
    return int(text)


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogates(value: Any) -> list[Problem]:
    """Name each string holding half of a UTF-16 pair (JSON ``"\\ud800"``): not text, so it could
    not be written to an output's metadata, or shown, or saved as UTF-8."""
    problems: list[Problem] = []
    pending: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while pending and len(problems) < 10:
        item, loc = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if _has_surrogate(key):
                    problems.append(_surrogate_problem(loc, f"the key {shown(key)}"))
                pending.append((child, (*loc, key)))
        elif isinstance(item, list):
            pending.extend((child, (*loc, index)) for index, child in enumerate(item))
        elif isinstance(item, str) and _has_surrogate(item):
            problems.append(_surrogate_problem(loc, "the text"))
    return problems


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _surrogate_problem(loc: tuple[Any, ...], what: str) -> Problem:
    return Problem(
        _where(loc) or "(top level)",
        f"{what} holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), which is not a character",
        "remove that \\u escape, or write the character itself",
    )


# A JSON string (skipped whole, in C: a big file's text costs little) or one bracket. An
# unterminated string runs to the end; json.loads names it afterwards.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def _nesting_depth_problem(text: str) -> str | None:
    """Find nesting deeper than MAX_DEPTH before json recurses into it."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                return f"line {line}: nesting deeper than {MAX_DEPTH} levels"
        elif char in "]}":
            depth -= 1
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
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except _JsonProblem as exc:
        found = text.find(exc.token) if exc.token else -1
        where = f"line {text.count(chr(10), 0, found) + 1}" if found >= 0 else ""
        raise GraphError(Problem(where, f"invalid JSON: {exc}"), source) from None
    except json.JSONDecodeError as exc:
        raise GraphError(
            Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"), source
        ) from None
    except RecursionError:
        raise GraphError(Problem("", "nesting too deep"), source) from None
    # Walking every string is slow on a big file; only a \\uD8xx-\\uDFxx escape (or, in text
    # handed over as str, a surrogate itself) can make a lone surrogate.
    if _SURROGATE_ESCAPE.search(text) or _SURROGATE.search(text):
        problems = _lone_surrogates(data)
        if problems:
            raise GraphError(problems, source)
    return data


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
        kind = error["type"]
        if kind == "string_pattern_mismatch" and len(loc) == 3 and loc[0] == "nodes" and loc[2] == "[key]":
            # a bad node id: name the node, not pydantic's "[key]" and a regular expression
            problems.append(Problem(
                f"nodes.{loc[1]}", "not a valid node id",
                "ids start with a letter or _ and hold only letters, digits, _ and -",
            ))
            continue
        where = _where(loc)
        if prefix:
            where = f"{prefix}.{where}" if where else prefix
        message = error["msg"]
        if kind == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif kind == "missing":
            message = "required but missing"
        elif kind == "literal_error" and loc and loc[-1] == "format":
            message = f"not a kinograph graph (format must be {FORMAT!r})"
        elif kind == "dict_type":
            message = f"expected an object {{...}}, found {json_kind(error.get('input'))}"
        elif kind == "list_type":
            message = f"expected a list [...], found {json_kind(error.get('input'))}"
        elif kind == "string_pattern_mismatch" and loc and loc[-1] in ("from", "to"):
            message = f"expected NODE.PORT (e.g. \"load.image\"), found '{shown(error.get('input'))}'"
        problems.append(Problem(where, message))
    return problems


def json_kind(value: Any) -> str:
    """What a JSON value is, in the file's words (not Python's)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "an object"


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
    data = read_graph_bytes(path)
    return graph_file_from_data(parse_json(data, str(path)), str(path))


def read_graph_bytes(path: str | Path) -> bytes:
    """The bytes of a graph file: a regular file of at most :data:`MAX_FILE_BYTES`.

    Devices (``/dev/zero`` never ends), FIFOs (reading one waits for a writer forever) and
    sockets are refused before they are opened; the file is opened without blocking and
    checked again, in case it was swapped for one of those in between.
    """
    name = shown(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise GraphError(Problem("", f"no such file: {name}")) from None
    except ValueError:  # a NUL character: no file can have that name
        raise GraphError(Problem("", f"no such file: {name}", "the path holds a NUL character")) from None
    except OSError as exc:  # e.g. "File name too long", "Permission denied"
        raise GraphError(Problem("", f"cannot read {name}: {exc.strerror or exc}")) from None
    _check_readable_kind(info, name)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise GraphError(Problem("", f"{name} is a folder, not a graph file")) from None
    except OSError as exc:
        raise GraphError(Problem("", f"cannot read {name}: {exc.strerror or exc}")) from None
    with os.fdopen(fd, "rb") as file:
        _check_readable_kind(os.fstat(file.fileno()), name)
        try:
            data = file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise GraphError(Problem("", f"cannot read {name}: {exc.strerror or exc}")) from None
    if len(data) > MAX_FILE_BYTES:
        raise GraphError(_too_large(name))
    return data


def _check_readable_kind(info: os.stat_result, name: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise GraphError(Problem("", f"{name} is a folder, not a graph file"))
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode)
            else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket" if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise GraphError(Problem("", f"{name} is {kind}, not a graph file", "graph files are regular .json files"))
    if info.st_size > MAX_FILE_BYTES:
        raise GraphError(_too_large(name))


def _too_large(name: str) -> Problem:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return Problem(
        "", f"{name} is larger than {limit} MB, the limit for a graph file", "is it really a kinograph graph?"
    )


def dump_graph_file(graph: GraphFile) -> str:
    """Serialise in a stable key order (format, version, meta, nodes, links) for clean diffs."""
    data = graph.model_dump(mode="json", by_alias=True, exclude_none=True)
    ordered = {
        "format": data["format"],
        "version": data["version"],
        "meta": data["meta"],
        "nodes": _ordered_nodes(data["nodes"]),
        "links": _ordered_links(data["links"]),
    }
    return json.dumps(ordered, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def dump_subgraph_file(subgraph: SubgraphFile) -> str:
    """A reusable subgraph file's text, keys in a stable order."""
    data = subgraph.model_dump(mode="json", by_alias=True, exclude_none=True)
    ordered = {key: data[key] for key in ("format", "version", "subgraph_version") }
    if data["renamed_params"]:
        ordered["renamed_params"] = data["renamed_params"]
    ordered.update(_ordered_subgraph(data))
    return json.dumps(ordered, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _ordered_nodes(nodes: dict[str, Any]) -> dict[str, Any]:
    ordered = {}
    for node_id, entry in nodes.items():
        node = {
            key: entry[key]
            for key in ("type", "version", "params", "ui", "bypass", "plugin", "exposed", "ref")
            if key in entry and (key != "exposed" or entry[key])  # most nodes show no param as a port
        }
        if "subgraph" in entry:
            node["subgraph"] = _ordered_subgraph(entry["subgraph"])
        ordered[node_id] = node
    return ordered


def _ordered_subgraph(subgraph: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": subgraph["meta"],
        "interface": subgraph["interface"],
        "nodes": _ordered_nodes(subgraph["nodes"]),
        "links": _ordered_links(subgraph["links"]),
    }


def _ordered_links(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"from": link["from"], "to": link["to"]} for link in links]


NodeEntry.model_rebuild()
