"""``--set NODE.PARAM=VALUE``: parsed by the param's declared type, paths against the current folder.

``NODE`` may be a group (``--set grade.strength=0.5`` sets a param the group shows) or a node
inside one (``--set grade/blur.radius=3``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from kinograph.core.errors import GraphError, Problem
from kinograph.core.graph import Graph
from kinograph.core.params import field_ui


def _is_text_field(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "string":
        return True
    options = schema.get("anyOf") or []
    return any(o.get("type") == "string" for o in options) and not any(
        o.get("type") in ("integer", "number", "boolean", "array", "object") for o in options
    )


def _json_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a param's schema allows (``integer``, ``number``, ``boolean``...)."""
    options = [schema, *(schema.get("anyOf") or [])]
    return {o["type"] for o in options if isinstance(o.get("type"), str)}


def _type_problem(name: str, raw: str, value: Any, schema: dict[str, Any]) -> str | None:
    """Refuse true/false for a number and a number for true/false.

    pydantic's lax mode would take ``fps=true`` as 1.0 and ``copy_audio=1`` as true: on the
    command line those are typos, not intents.
    """
    types = _json_types(schema)
    numeric = types & {"integer", "number"}
    if isinstance(value, bool) and numeric and "boolean" not in types:
        kind = "a whole number" if numeric == {"integer"} else "a number"
        return f"param {name!r} takes {kind}, not a true/false value ({raw!r})"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "boolean" in types and not numeric:
        return f"param {name!r} takes true or false, not a number ({raw!r})"
    return None


def parse_override(graph: Graph, text: str) -> tuple[str, str, Any]:
    """Turn ``node.param=value`` into (node id, param, typed value) or raise GraphError."""
    where = f"--set {text}"
    if any("\ud800" <= char <= "\udfff" for char in text):
        # Bytes that are not UTF-8 reach Python as lone surrogates; the graph could not be
        # saved or embedded in an output with them.
        raise GraphError(Problem(where, "not valid UTF-8 text", "use UTF-8 names and values; rename a file whose name is not UTF-8"))
    target, sep, raw = text.partition("=")
    node_id, dot, name = target.partition(".")
    if not sep or not dot or not node_id or not name:
        raise GraphError(Problem(where, "expected NODE.PARAM=VALUE, e.g. --set write.path=out.mp4"))
    owner, local_id = graph.owner(node_id)  # ``group/inner``: a node inside a group
    node = owner.nodes.get(local_id)
    if node is None:
        known = ", ".join(owner.nodes) or "none"
        raise GraphError(Problem(where, f"there is no node {node_id!r}", f"nodes: {known}"))
    cls = owner.node_class(local_id)  # a group's class shows the params it exposes
    if cls is None:
        raise GraphError(Problem(where, f"node {node_id!r} has unknown type {node.type!r}"))
    fields = cls.Params.model_fields
    if name not in fields:
        known = ", ".join(fields) or "none"
        raise GraphError(Problem(where, f"node {node_id!r} has no param {name!r}", f"params: {known}"))
    shown = owner.interface.param_of(local_id, name) if owner.interface is not None else None
    if shown is not None:  # the group's value is the one a run uses
        group = node_id.rsplit("/", 1)[0]
        raise GraphError(Problem(where, f"{node_id}.{name} is set by its group's param {shown.name!r}",
                                 f"use --set {group}.{shown.name}=VALUE"))
    schema = cls.Params.model_json_schema().get("properties", {}).get(name, {})
    widget = field_ui(cls.Params, name).get("widget")
    if widget in ("input_path", "output_path"):
        value: Any = raw
        if raw and not raw.startswith("package://"):
            value = os.path.abspath(os.path.expanduser(raw))
    elif _is_text_field(schema) or "enum" in schema:
        value = raw
    else:
        try:
            value = json.loads(raw)
        except ValueError:
            lowered = raw.strip().lower()
            value = {"yes": True, "no": False, "on": True, "off": False}.get(lowered, raw)
        problem = _type_problem(name, raw, value, schema)
        if problem:
            raise GraphError(Problem(where, problem))
    return node_id, name, value


def apply_overrides(graph: Graph, overrides: list[str]) -> None:
    """Apply every ``--set``; all problems are reported together."""
    problems: list[Problem] = []
    for text in overrides:
        try:
            node_id, name, value = parse_override(graph, text)
            graph.set_param(node_id, name, value)
        except GraphError as exc:
            problems.extend(
                Problem(f"--set {text}", p.message, p.hint) if not p.where.startswith("--set") else p
                for p in exc.problems
            )
    if problems:
        raise GraphError(problems)
