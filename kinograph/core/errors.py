"""Errors a user can act on: what failed, where, and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph, named by where it is (``nodes.load.params.path``)."""

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class KinographError(Exception):
    """Base of the errors kinograph raises on purpose (never a bug)."""


class GraphError(KinographError):
    """A graph that cannot be loaded or run; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem, source: str = "") -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.source = source
        super().__init__(self.describe())

    def describe(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(prefix + str(p) for p in self.problems)


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
