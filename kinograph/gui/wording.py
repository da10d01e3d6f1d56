"""Errors in the editor's words: the node and the field by the names the canvas and inspector show.

The core words its problems for the command line (``nodes.photo.params.path: file does not
exist: … (fix the path or use --set)``). In the editor the user sees a node called ``photo`` with
a field labelled "Path" and no ``--set``: this module says the same thing that way. Pydantic's
messages become sentences too ("a colour like #1a2b3c", not a regular expression).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kinograph.host import NAME_PATTERN, SEPARATOR, XKEY, Graph, Problem

#: "nodes.ID", "nodes.ID.params.NAME", "nodes.ID.inputs.NAME", "nodes.ID.outputs.NAME"
_WHERE = re.compile(r"^nodes\.([A-Za-z_][A-Za-z0-9_/-]*)(?:\.(params|inputs|outputs)\.([A-Za-z0-9_-]+))?(?:\..*)?$")
#: Hints that tell the command line's user what to type: in the editor the field is right there.
_CLI_HINT = re.compile(r"\s*(?:,|;)?\s*\bor use --set\b[^;)]*", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"
#: Between a node and what is wrong with it, as the breadcrumbs separate levels.
NODE_MARK = " \u203a "
#: Tokens longer than this (paths, ids) get places to break, so a message wraps at the dock's edge.
LONG_TOKEN = 24


def param_label(name: str, title: str | None = None) -> str:
    """A param's label as the inspector shows it ("crf" -> "CRF", "if_exists" -> "If Exists")."""
    from kinograph.gui.inspector import param_label as label  # one rule, where the form is built

    return label(name, title)


def node_words(node_id: str) -> str:
    """A node as the canvas names it; inside a group: ``blur in group grade``."""
    if SEPARATOR in node_id:
        *groups, inner = node_id.split(SEPARATOR)
        return f"{inner} in group {SEPARATOR.join(groups)}"
    return node_id


def field_words(graph: Graph | None, node_id: str, part: str, name: str) -> str:
    """A param by its inspector label ("Path"), a port as "input frames"."""
    if part == "inputs":
        return f"input “{name}”"
    if part == "outputs":
        return f"output “{name}”"
    title = None
    cls = _node_class(graph, node_id)
    if cls is not None:
        prop = cls.Params.model_json_schema().get("properties", {}).get(name, {})
        title = prop.get("title")
    return param_label(name, title)


def _node_class(graph: Graph | None, node_id: str) -> Any:
    if graph is None:
        return None
    try:
        if SEPARATOR in node_id:
            owner, local = graph.owner(node_id)
            return owner.node_class(local)
        return graph.node_class(node_id) if node_id in graph.nodes else None
    except Exception:  # a group that is gone, a missing plugin: the param's plain name will do
        return None


def hint_words(hint: str) -> str:
    """A hint without the command line's advice ("fix the path or use --set" -> "fix the path")."""
    hint = _CLI_HINT.sub("", hint).strip()
    if "--set" in hint or "kinograph run" in hint:
        return ""
    return hint


def plain(text: str) -> str:
    """Free text from the core with its command-line advice taken out."""
    text = text.replace("(fix the path or use --set)", "(fix the path)")
    text = re.sub(r"\s*\(use --set[^)]*\)", "", text)
    return _CLI_HINT.sub("", text)


def problem_place(problem: Problem) -> tuple[str | None, str, str]:
    """(node id or None, "params"/"inputs"/"outputs" or "", name) of a problem's ``where``."""
    match = _WHERE.match(problem.where)
    if match is None:
        return None, "", ""
    return match.group(1), match.group(2) or "", match.group(3) or ""


def problem_parts(problem: Problem, graph: Graph | None) -> tuple[str | None, str]:
    """(node id, the problem said on that node): ``("photo", "Path: file does not exist: … (fix the path)")``."""
    node_id, part, name = problem_place(problem)
    message = plain(problem.message)
    hint = hint_words(problem.hint)
    text = f"{message} ({hint})" if hint else message
    if node_id is None:
        where = "" if problem.where in ("", "graph") else problem.where
        return None, f"{where}: {text}" if where else text
    if part:
        text = f"{field_words(graph, node_id, part, name)}: {text}"
    return node_id, text


def problem_text(problem: Problem, graph: Graph | None) -> str:
    """One problem as a line the user can act on: ``photo: Path: file does not exist: …``."""
    node_id, text = problem_parts(problem, graph)
    return f"{node_words(node_id)}{NODE_MARK}{text}" if node_id is not None else text


def problems_text(problems: Iterable[Problem], graph: Graph | None) -> str:
    return "\n".join(problem_text(p, graph) for p in problems)


# -- pydantic's messages on one param ------------------------------------------------------------


def param_error_words(error: dict[str, Any], prop: dict[str, Any] | None = None) -> str:
    """One pydantic error on a param as a sentence; ``prop`` is the param's JSON schema."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    widget = (prop or {}).get(XKEY, {}).get("widget")
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if widget == "color" or pattern.startswith("^#[0-9a-fA-F]{6}"):
            return f"{_shown_input(error)} is not a colour: write one as # and six hex digits, like #1a2b3c"
        if pattern == NAME_PATTERN:
            return "use a letter or _ first, then letters, digits, _ and -"
        return f"{_shown_input(error)} is not in the form this field takes"
    words = {
        "greater_than_equal": "must be at least {ge}",
        "greater_than": "must be more than {gt}",
        "less_than_equal": "must be at most {le}",
        "less_than": "must be less than {lt}",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be yes or no",
        "bool_type": "must be yes or no",
        "string_type": "must be text",
        "string_too_short": "must have at least {min_length} characters",
        "string_too_long": "must have at most {max_length} characters",
        "literal_error": "must be one of {expected}",
        "enum": "must be one of {expected}",
        "missing": "is required",
        "multiple_of": "must be a multiple of {multiple_of}",
    }
    if kind in words:
        try:
            return words[kind].format(**{k: _number(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            pass
    message = str(error.get("msg", "not a valid value"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message[:1].lower() + message[1:]


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _shown_input(error: dict[str, Any]) -> str:
    value = error.get("input")
    text = str(value)
    return f"“{text if len(text) <= 30 else text[:29] + '…'}”" if value not in (None, "") else "An empty value"


def wrappable(text: str) -> str:
    """``text`` with places to break inside long paths and ids, so a label can wrap it."""
    def breakable(match: re.Match[str]) -> str:
        return re.sub(r"([/\\_.\-])", "\\1" + ZERO_WIDTH_SPACE, match.group(0))

    return re.sub(r"\S{" + str(LONG_TOKEN) + ",}", breakable, text)
