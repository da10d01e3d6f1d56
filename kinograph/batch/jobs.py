"""Planning a batch: which jobs run, with which values, writing to which paths.

Every mistake a plan can hold is found here, before any worker starts: an unknown node or
param, sources of different lengths, a value the param refuses, a template with an unknown
field, two jobs writing one path, a job writing over an input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from kinograph.batch.hashing import json_hash
from kinograph.batch.sources import SourceValues, read_source
from kinograph.batch.templates import check_template, render_template
from kinograph.host import Graph, GraphError, KinographError, Problem, field_ui

PATH_WIDGETS = ("input_path", "output_path")
#: how many clashing targets an error lists before "and N more"
_SHOWN = 5


@dataclass(frozen=True)
class Over:
    """``--over NODE.PARAM=SOURCE``: one value per job, from a source spec or a list of values."""

    node: str
    param: str
    source: str | Sequence[Any]

    @property
    def name(self) -> str:
        return f"{self.node}.{self.param}"


@dataclass(frozen=True)
class Out:
    """``--out NODE.PARAM=TEMPLATE``: the output path of each job."""

    node: str
    param: str
    template: str

    @property
    def name(self) -> str:
        return f"{self.node}.{self.param}"


@dataclass
class Job:
    """One run of the graph: the param values it sets and the paths it writes."""

    index: int
    #: stable identity across runs of the same batch (hash of the paths it writes)
    key: str
    #: (node, param, value) to set, in order: shared params, then inputs, then outputs
    values: list[tuple[str, str, Any]]
    #: ``node.param`` -> value for each ``--over``
    inputs: dict[str, Any]
    #: ``node.param`` -> absolute path for every file the job writes
    targets: dict[str, str]
    #: input files whose contents decide whether a finished job is still valid
    input_files: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """A short name for progress lines: the first input's file name."""
        first = next(iter(self.inputs.values()), self.index)
        return PurePath(str(first)).name or str(first)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "key": self.key, "inputs": self.inputs, "targets": self.targets}


def split_param(text: str, where: str) -> tuple[str, str]:
    """``node.param`` -> (node, param), or a clear error naming ``where``."""
    node, dot, param = text.partition(".")
    if not dot or not node or not param:
        raise GraphError(Problem(where, f"expected NODE.PARAM, got {text!r}", "e.g. load.path"))
    return node, param


class _Params:
    """Checks and converts param values through the node's own params model."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        # a private copy: checking values must not edit the caller's graph
        self.scratch = Graph.from_json(graph.to_json(), graph.registry, graph.base_dir)

    def widget(self, node: str, param: str, where: str) -> str | None:
        owner, local = self.graph.owner(node)  # ``group/inner``: a node inside a group
        entry = owner.nodes.get(local)
        if entry is None:
            known = ", ".join(owner.nodes) or "none"
            raise GraphError(Problem(where, f"there is no node {node!r}", f"nodes: {known}"))
        cls = owner.node_class(local)
        if cls is None:
            raise GraphError(Problem(where, f"node {node!r} has unknown type {entry.type!r}", "install its plugin"))
        if param not in cls.Params.model_fields:
            known = ", ".join(cls.Params.model_fields) or "none"
            raise GraphError(Problem(where, f"node {node!r} has no param {param!r}", f"params: {known}"))
        return field_ui(cls.Params, param).get("widget")

    def convert(self, node: str, param: str, value: Any, base: Path | None, where: str) -> Any:
        """The value as the node stores it: paths absolute, text parsed by the param's type."""
        widget = self.widget(node, param, where)
        if widget in PATH_WIDGETS and isinstance(value, str) and value and not value.startswith("package://"):
            expanded = os.path.expanduser(value)
            value = os.path.abspath(os.path.join(base, expanded) if base is not None else expanded)
        try:
            self.scratch.set_param(node, param, value)
        except GraphError as exc:
            parsed = _json_or_none(value) if widget not in PATH_WIDGETS else None
            if parsed is None:
                raise GraphError([Problem(where, p.message, p.hint) for p in exc.problems]) from None
            try:
                self.scratch.set_param(node, param, parsed)
            except GraphError:
                raise GraphError([Problem(where, p.message, p.hint) for p in exc.problems]) from None
        owner, local = self.scratch.owner(node)
        return owner.nodes[local].params[param]

    def output_params(self) -> list[tuple[str, str]]:
        """(node, param) of every output path that an output node will write."""
        found = []
        for node_id, entry in self.graph.nodes.items():
            cls = self.graph.registry.node(entry.type)
            if cls is None or not cls.output_node or entry.bypass:
                continue
            for name in cls.Params.model_fields:
                if field_ui(cls.Params, name).get("widget") == "output_path":
                    found.append((node_id, name))
        return found


def _json_or_none(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def plan_jobs(
    graph: Graph,
    over: Sequence[Over],
    out: Sequence[Out] = (),
    params: Mapping[tuple[str, str], Any] | None = None,
) -> list[Job]:
    """Every job of the batch, checked: values converted, targets unique, inputs untouched."""
    if not over:
        raise KinographError("nothing to go over: give at least one --over NODE.PARAM=SOURCE")
    checker = _Params(graph)
    _refuse_repeats(over, out, params or {})
    shared = [
        (node, param, checker.convert(node, param, value, None, f"--set {node}.{param}"))
        for (node, param), value in (params or {}).items()
    ]
    sources = [_values_of(item) for item in over]
    _check_lengths(over, sources)
    for item in out:
        if checker.widget(item.node, item.param, f"--out {item.name}") != "output_path":
            raise GraphError(Problem(f"--out {item.name}", f"{item.name} is not an output path",
                                     "--out names the path an output node writes, e.g. write.path"))
        try:
            check_template(item.template)
        except KinographError as exc:
            raise GraphError(Problem(f"--out {item.name}", str(exc))) from None
    fixed_outputs = _fixed_outputs(checker, over, out, params or {})
    widgets = {item.name: checker.widget(item.node, item.param, f"--over {item.name}") for item in over}

    jobs = []
    for index in range(len(sources[0].values)):
        values = list(shared)
        inputs: dict[str, Any] = {}
        input_files: list[str] = []
        targets: dict[str, str] = dict(fixed_outputs)
        for item, source in zip(over, sources, strict=True):
            raw = source.values[index]
            where = f"--over {item.name}={source.spec} (value {index + 1}: {raw!r})"
            value = checker.convert(item.node, item.param, raw, source.base_dir, where)
            values.append((item.node, item.param, value))
            inputs[item.name] = value
            if widgets[item.name] == "input_path" and isinstance(value, str):
                input_files.append(value)
            elif widgets[item.name] == "output_path" and isinstance(value, str):
                targets[item.name] = value
        first_value = inputs[over[0].name]
        for item in out:
            path = render_template(item.template, first_value, index)
            value = checker.convert(item.node, item.param, path, None, f"--out {item.name}={item.template}")
            values.append((item.node, item.param, value))
            targets[item.name] = value
        key = json_hash(sorted(targets.values()))[:20]
        jobs.append(Job(index, key, values, inputs, targets, input_files))
    _refuse_clashes(jobs)
    return jobs


def _values_of(item: Over) -> SourceValues:
    if isinstance(item.source, str):
        try:
            return read_source(item.source)
        except KinographError as exc:
            raise GraphError(Problem(f"--over {item.name}", str(exc))) from None
    values = list(item.source)
    if not values:
        raise GraphError(Problem(f"--over {item.name}", "the list of values is empty"))
    return SourceValues("<list>", values, None)


def _refuse_repeats(over: Sequence[Over], out: Sequence[Out], params: Mapping[tuple[str, str], Any]) -> None:
    seen: dict[str, str] = {}
    named = [(f"{n}.{p}", "--set") for n, p in params] + [(o.name, "--over") for o in over]
    named += [(o.name, "--out") for o in out]
    for name, option in named:
        if name in seen:
            raise GraphError(Problem(option, f"{name} is given twice ({seen[name]} and {option})", "give each param once"))
        seen[name] = option


def _check_lengths(over: Sequence[Over], sources: list[SourceValues]) -> None:
    lengths = {len(s.values) for s in sources}
    if len(lengths) > 1:
        counts = ", ".join(f"{o.name}={s.spec}: {len(s.values)}" for o, s in zip(over, sources, strict=True))
        raise GraphError(
            Problem("--over", f"the sources zip together and need the same number of values ({counts})",
                    "trim the lists or use one --over per batch")
        )


def _fixed_outputs(
    checker: _Params, over: Sequence[Over], out: Sequence[Out], params: Mapping[tuple[str, str], Any]
) -> dict[str, str]:
    """Output paths no option varies: every job would write the same file."""
    given = {o.name for o in over} | {o.name for o in out}
    fixed = {}
    for node, param in checker.output_params():
        name = f"{node}.{param}"
        if name in given:
            continue
        value = params.get((node, param), checker.graph.nodes[node].params.get(param))
        if isinstance(value, str) and value:
            base = checker.graph.base_dir if (node, param) not in params else None
            fixed[name] = os.path.abspath(os.path.join(base, value)) if base else os.path.abspath(value)
    return fixed


def _refuse_clashes(jobs: list[Job]) -> None:
    """Two jobs writing one path, or a job writing over any job's input, is refused."""
    writers: dict[str, Job] = {}
    problems: list[Problem] = []
    for job in jobs:
        for name, path in job.targets.items():
            other = writers.setdefault(os.path.normcase(path), job)
            if other is not job:
                problems.append(Problem(
                    f"--out {name}",
                    f"jobs {other.index} ({other.label}) and {job.index} ({job.label}) would both write {path}",
                    "make the template unique, e.g. add {index:05d} or {parent}; "
                    "an output path that no --out or --over sets is the same for every job",
                ))
    inputs = {os.path.normcase(p): job for job in jobs for p in job.input_files}
    for path, job in writers.items():
        if path in inputs:
            problems.append(Problem(
                "--out", f"job {job.index} would write over the input {path} of job {inputs[path].index}",
                "write the outputs to another folder",
            ))
    if problems:
        extra = len(problems) - _SHOWN
        shown = problems[:_SHOWN]
        if extra > 0:
            shown.append(Problem("--out", f"and {extra} more clashes like these"))
        raise GraphError(shown)
