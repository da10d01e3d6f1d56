"""Errors a user can act on: what failed, where, and what to do.

Messages echo what a graph file or command line holds (node ids, keys, paths), and those are
not to be trusted: a node id with a newline and ``error:`` would print a fake error line, an
ANSI escape would repaint the terminal, a 10 MB path would print a 10 MB line. Everything a
:class:`Problem` or a :class:`KinographError` shows goes through :func:`shown` once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: how many characters of one echoed value (a path, a key) a message shows
ECHO_LIMIT = 200
#: how many characters of one message (or hint) are shown; the middle gives way first
MESSAGE_LIMIT = 1000

# Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides
# (which reorder what a terminal shows) and lone surrogates (not text; cannot be encoded).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """``value`` as one safe line: control characters escaped (``\\x1b``, ``\\n``), at most
    ``limit`` characters, cut in the middle with an ellipsis (a path keeps its file name)."""
    text = str(value)
    if len(text) > 4 * limit:  # a 10 MB value: cut before escaping, so this stays cheap
        text = text[: 2 * limit] + "\u2026" + text[-2 * limit :]
    text = _UNSAFE.sub(_escaped, text)
    if len(text) > limit:
        head = (limit - 1) * 2 // 3
        tail = limit - 1 - head
        text = text[:head] + "\u2026" + (text[-tail:] if tail else "")
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph, named by where it is (``nodes.load.params.path``)."""

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        message = shown(self.message, MESSAGE_LIMIT)
        text = f"{shown(self.where)}: {message}" if self.where else message
        return f"{text} ({shown(self.hint, MESSAGE_LIMIT)})" if self.hint else text


class KinographError(Exception):
    """Base of the errors kinograph raises on purpose (never a bug).

    ``str()`` gives the message as one safe line (see :func:`shown`): messages often echo a
    path or a value taken from a graph file.
    """

    def __str__(self) -> str:
        return shown(super().__str__(), MESSAGE_LIMIT)


class GraphError(KinographError):
    """A graph that cannot be loaded or run; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem, source: str = "") -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.source = source
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line per problem, each prefixed with the file it is in."""
        prefix = f"{shown(self.source)}: " if self.source else ""
        return "\n".join(prefix + str(p) for p in self.problems)

    def __str__(self) -> str:
        return self.describe()


class LinkRefused(KinographError):
    """A link that the port types do not allow; the message is shown to users as is."""


class NodeFailure(KinographError):
    """Raised by a node to fail with a clean message (no traceback shown to the user)."""


class Cancelled(KinographError):
    """The run was cancelled by the user."""


class UpstreamFailed(KinographError):
    """A stream stage upstream failed; the consumer is skipped, not failed."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"upstream node {node_id!r} failed")


class PluginError(KinographError):
    """Plugins failed to load while strict mode was on."""
