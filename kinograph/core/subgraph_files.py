"""Reusable subgraph files: where they live, how a graph refers to them, versions and hashes.

A group may keep its graph inline, or name a reusable subgraph file by its *source*:

- ``user:NAME.json`` (subfolders allowed): a file in the user's subgraphs folder,
  ``$KINOGRAPH_HOME/subgraphs`` (else the platform's data folder + ``subgraphs``);
- ``package://DIST/PATH``: a file inside an installed package. Plugins list theirs through the
  ``kinograph_subgraphs`` hook so they show in the palette.

Resolving a source never leaves its folder (no ``..``, no absolute path, no link out; the
``package://`` rules of :mod:`kinograph.core.paths`), reads with the graph file's strict reader
(regular files only, size limit, strict JSON) and runs no code: a subgraph file holds nodes,
links and an interface, nothing else. A subgraph that contains itself, directly or through
others, is a load error.

A graph records each referenced file's ``subgraph_version`` and content hash. When the file
changed since, loading follows the node rules: an older recorded version (or the same version
with other content) is updated to the file, the group's param values migrate (kept by name,
renamed as the file declares, dropped when gone, new ones at their defaults), and the graph says
so in :attr:`Graph.load_warnings`; a newer recorded version than the file's is a validation
problem, as for a node saved by a newer plugin.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kinograph.core.errors import GraphError, KinographError, Problem
from kinograph.core.graph_file import (
    FORMAT_VERSION,
    SUBGRAPH_FORMAT,
    SUBGRAPH_TYPE,
    NodeEntry,
    ParamRename,
    SubgraphEntry,
    SubgraphFile,
    dump_subgraph_file,
    parse_json,
    read_graph_bytes,
    validation_problems,
)
from kinograph.core.paths import PACKAGE_SCHEME, atomic_write_text, home, resolve_package_path
from kinograph.core.subgraphs import Interface, Subgraph, SubgraphRef

if TYPE_CHECKING:
    from kinograph.core.graph import Graph, GraphNode
    from kinograph.core.registry import Registry

USER_SCHEME = "user:"
#: the most subgraph files listed from one folder (a library, not a disk scan)
LIBRARY_LIMIT = 1000


def subgraphs_dir() -> Path:
    """The user's folder of reusable subgraph files."""
    return home() / "subgraphs"


# -- sources ------------------------------------------------------------------------------------


def resolve_source(source: str) -> Path:
    """The file a subgraph source names; KinographError (in a user's words) when it cannot be."""
    if source.startswith(USER_SCHEME):
        relative = source[len(USER_SCHEME):]
        if (
            not relative
            or PurePosixPath(relative).is_absolute()
            or PureWindowsPath(relative).anchor
            or ".." in PurePosixPath(relative).parts
            or ".." in PureWindowsPath(relative).parts
            or "\\" in relative
        ):
            raise KinographError(
                f"{source!r}: a user subgraph is named by its path inside the subgraphs folder "
                "(no '..', no absolute path), e.g. user:looks/film.json"
            )
        root = subgraphs_dir()
        target = root.joinpath(*PurePosixPath(relative).parts)
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(target)]) != real_root:
            raise KinographError(f"{source!r} leads outside the subgraphs folder {root} (through a link)")
        return target
    if source.startswith(PACKAGE_SCHEME):
        return resolve_package_path(source)
    raise KinographError(
        f"{source!r} is not a subgraph source: write user:NAME.json (a file in {subgraphs_dir()}) "
        "or package://DIST/PATH (a file a package ships)"
    )


def user_source(path: Path) -> str | None:
    """``user:REL`` for a file inside the user's subgraphs folder, else None."""
    root = os.path.realpath(subgraphs_dir())
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root or real == root:
        return None
    return USER_SCHEME + PurePosixPath(*Path(os.path.relpath(real, root)).parts).as_posix()


def content_hash(data: Any) -> str:
    """The hash of a subgraph file's content (parsed JSON, so spacing and key order do not count)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_subgraph_file(path: Path, source: str) -> tuple[SubgraphFile, str]:
    """Read and check a subgraph file: its model and content hash (GraphError when invalid)."""
    from kinograph.core.migrations import migrate_file

    data = parse_json(read_graph_bytes(path), source)
    if not isinstance(data, dict) or data.get("format") != SUBGRAPH_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise GraphError(
            Problem("format", f"not a kinograph subgraph file (format is {found!r}, expected {SUBGRAPH_FORMAT!r})"),
            source,
        )
    digest = content_hash(data)
    data = migrate_file(data, source)
    try:
        return SubgraphFile.model_validate(data), digest
    except ValidationError as exc:
        raise GraphError(validation_problems(exc), source) from None


class SubgraphMissing(KinographError):
    """A subgraph source that names no readable file (kept like an unknown node type)."""


class SubgraphRecursion(GraphError):
    """A subgraph that contains itself, directly or through others: a load error."""


def missing_problem(where: str, source: str) -> Problem:
    """What a group whose subgraph file is missing says in validation: what, and why."""
    try:
        path = resolve_source(source)
        if path.exists():
            read_subgraph_file(path, source)
            reason = "it could not be read"
        else:
            reason = f"no such file: {path}"
    except GraphError as exc:
        reason = exc.problems[0].message if exc.problems else str(exc)
    except KinographError as exc:
        reason = str(exc)
    hint = ("put the file back in the subgraphs folder" if source.startswith(USER_SCHEME)
            else "install the package that ships it")
    return Problem(where, f"unknown subgraph {source!r}: {reason}", hint)


# -- loading ------------------------------------------------------------------------------------


@dataclass
class LoadedSubgraph:
    """A subgraph file as read: its content, version, hash and declared param renames."""

    source: str
    version: int
    hash: str
    subgraph: Subgraph
    renamed_params: list[ParamRename] = field(default_factory=list)

    @property
    def ref(self) -> SubgraphRef:
        return SubgraphRef(self.source, self.version, self.hash)


class SubgraphLoader:
    """Builds group nodes while a graph loads: each file is read once per load, every use gets
    its own copy, and a file that contains itself is refused."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.warnings: list[Problem] = []
        self._files: dict[str, LoadedSubgraph] = {}
        self._reading: list[str] = []
        self._path: list[str] = []

    def load(self, source: str) -> LoadedSubgraph:
        """The subgraph file ``source``; GraphError when it is invalid or contains itself,
        :class:`SubgraphMissing` when there is no such file."""
        if source in self._reading:
            chain = " -> ".join([*self._reading[self._reading.index(source):], source])
            raise SubgraphRecursion(Problem(
                self._where(), f"subgraph {source!r} contains itself ({chain})",
                "a subgraph cannot use itself, directly or through other subgraphs: remove that group from its file",
            ))
        if source not in self._files:
            try:
                path = resolve_source(source)
            except KinographError as exc:
                raise SubgraphMissing(str(exc)) from None
            if not path.is_file():
                raise SubgraphMissing(f"no such file: {path}")
            entry, digest = read_subgraph_file(path, source)
            self._reading.append(source)
            try:
                subgraph = self.build(entry)
            finally:
                self._reading.pop()
            self._files[source] = LoadedSubgraph(source, entry.subgraph_version, digest, subgraph, list(entry.renamed_params))
        return copy.deepcopy(self._files[source])

    def build(self, entry: SubgraphEntry) -> Subgraph:
        """A subgraph from its file entry (nested groups included)."""
        from kinograph.core.graph import Link, node_from_entry

        nodes = {}
        for node_id, node_entry in entry.nodes.items():
            if node_entry.type == SUBGRAPH_TYPE:
                nodes[node_id] = self.group_node(node_id, node_entry)
            else:
                nodes[node_id] = node_from_entry(self.registry, node_id, node_entry)
        links = [Link.parse(link.source, link.target) for link in entry.links]
        interface = Interface.from_entry(entry.interface.model_dump(mode="json"))
        return Subgraph(nodes, links, interface, entry.meta.model_dump(mode="json"))

    def group_node(self, node_id: str, entry: NodeEntry) -> GraphNode:
        """A group node from its entry: its inline subgraph, or the file its ref names."""
        from kinograph.core.graph import GraphNode

        plugin = entry.plugin.model_dump() if entry.plugin else None
        node = GraphNode(node_id, SUBGRAPH_TYPE, entry.version, copy.deepcopy(entry.params),
                         copy.deepcopy(entry.ui), entry.bypass, plugin, list(entry.exposed))
        self._path.append(node_id)
        try:
            if entry.subgraph is not None:
                node.subgraph = self.build(entry.subgraph)
            elif entry.ref is not None:
                self._referenced(node, SubgraphRef(entry.ref.source, entry.ref.version, entry.ref.hash))
            node.params = {**self.defaults(node), **node.params}
        finally:
            self._path.pop()
        return node

    def _referenced(self, node: GraphNode, ref: SubgraphRef) -> None:
        node.ref = ref
        try:
            loaded = self.load(ref.source)
        except SubgraphRecursion:
            raise
        except (SubgraphMissing, GraphError):
            return  # kept as saved, like a node of a missing plugin; validation names why
        node.subgraph = loaded.subgraph
        node.version = loaded.version
        where = self._where()
        if ref.version > loaded.version:
            return  # the flattening reports a file older than the graph (as for nodes)
        if (ref.version, ref.hash) == (loaded.version, loaded.hash):
            return
        if not ref.hash:
            # Kinograph always records the hash: a ref without one was written by hand (from
            # `kinograph subgraphs`) and means the file as it is now. Nothing to migrate or warn.
            node.ref = loaded.ref
            return
        before = dict(node.params)
        node.params = migrate_group_params(node, loaded, ref.version)
        dropped = sorted(set(before) - set(node.params) - {r.old for r in loaded.renamed_params})
        change = (f"version {ref.version} -> {loaded.version}" if loaded.version != ref.version
                  else f"the same version {ref.version} with other content")
        note = f"subgraph {ref.source!r} changed since this graph was saved ({change}); it uses the file as it is now"
        if dropped:
            note += f"; params it no longer shows were dropped: {', '.join(dropped)}"
        self.warnings.append(Problem(where, note, "save the graph to record the update"))
        node.ref = loaded.ref

    def defaults(self, node: GraphNode) -> dict[str, Any]:
        """The values a group's params take when none are saved (the inner nodes' own)."""
        from kinograph.core.graph import param_defaults
        from kinograph.core.inner_graph import SubgraphReading
        from kinograph.core.subgraphs import group_class

        if node.subgraph is None:
            return {}
        cls = group_class(node, SubgraphReading(node.subgraph, self.registry, None).node_class)
        return param_defaults(cls) if cls is not None else {}

    def _where(self) -> str:
        return f"nodes.{'/'.join(self._path)}" if self._path else ""


def subgraph_node(graph: Graph, source: str, node_id: str | None = None, pos: tuple[float, float] | None = None) -> GraphNode:
    """A new group node using the reusable subgraph file ``source`` (not yet in ``graph``): its
    id from the subgraph's name unless given, its params at the file's defaults."""
    from kinograph.core.graph import GraphNode
    from kinograph.core.grouping import check_new_id

    loaded = SubgraphLoader(graph.registry).load(source)
    node_id = node_id or graph.new_id(re.sub(r"\W+", "_", loaded.subgraph.title.lower()).strip("_") or "group")
    check_new_id(graph, node_id)
    node = GraphNode(node_id, SUBGRAPH_TYPE, loaded.version, {}, {}, subgraph=loaded.subgraph, ref=loaded.ref)
    node.params = SubgraphLoader(graph.registry).defaults(node)
    if pos is not None:
        node.ui["pos"] = [float(pos[0]), float(pos[1])]
    return node


def migrate_group_params(node: GraphNode, loaded: LoadedSubgraph, saved_version: int) -> dict[str, Any]:
    """A group's param values for a newer subgraph file: renamed as the file declares for the
    versions in between, kept when the file still shows them (the rest dropped)."""
    values = dict(node.params)
    for version in sorted({r.version for r in loaded.renamed_params}):
        if saved_version < version <= loaded.version:  # one version's renames happen together (a swap)
            step = {r.old: r.new for r in loaded.renamed_params if r.version == version}
            values = {step.get(name, name): value for name, value in values.items()}
    shown = {p.name for p in loaded.subgraph.interface.params}
    return {name: value for name, value in values.items() if name in shown}


# -- the library (palette and search) -----------------------------------------------------------


@dataclass(frozen=True)
class LibraryEntry:
    """A reusable subgraph the palette offers: source, name, category, version, who ships it."""

    source: str
    name: str
    category: str = "Subgraphs"
    description: str = ""
    version: int = 1
    #: the plugin that ships it ("" for the user's own)
    plugin: str = ""
    #: why it cannot be used (an invalid file), else ""
    problem: str = ""
    #: the group's ports as (name, port type), and the params it shows, by name
    inputs: tuple[tuple[str, str], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    params: tuple[str, ...] = ()
    #: the file's content hash (what a graph's ``ref.hash`` records)
    hash: str = ""


def subgraph_library(registry: Registry) -> list[LibraryEntry]:
    """Every reusable subgraph file: the user's folder, then what plugins ship."""
    found: list[tuple[str, Path, str]] = []
    entries = []
    root = subgraphs_dir()
    if root.is_dir():
        for path in _json_files(root):
            source = user_source(path)
            if source is not None:
                found.append((source, path, ""))
    for record, info in getattr(registry, "subgraph_sources", []):
        try:
            target = resolve_package_path(record.source)
        except KinographError as exc:
            entries.append(LibraryEntry(record.source, record.source, plugin=info.name, problem=str(exc)))
            continue
        if target.is_dir():
            for path in _json_files(target):
                relative = PurePosixPath(*path.relative_to(target).parts).as_posix()
                found.append((f"{record.source.rstrip('/')}/{relative}", path, info.name))
        else:
            found.append((record.source, target, info.name))
    for source, path, plugin in found:
        try:
            entry, digest = read_subgraph_file(path, source)
        except KinographError as exc:
            entries.append(LibraryEntry(source, Path(source).stem, plugin=plugin, problem=str(exc).splitlines()[0]))
            continue
        meta = entry.meta.model_dump(mode="json")
        face = entry.interface
        entries.append(LibraryEntry(
            source, str(meta.get("name") or Path(source).stem), str(meta.get("category") or "Subgraphs"),
            str(meta.get("description") or ""), entry.subgraph_version, plugin,
            inputs=tuple((p.name, p.type) for p in face.inputs), outputs=tuple((p.name, p.type) for p in face.outputs),
            params=tuple(p.name for p in face.params), hash=digest,
        ))
    return entries


def _json_files(root: Path) -> list[Path]:
    """The ``.json`` files under ``root``, hidden ones and links out left out, in a stable order."""
    files = []
    real_root = os.path.realpath(root)
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or not name.endswith(".json"):
                continue
            path = Path(folder) / name
            if os.path.commonpath([real_root, os.path.realpath(path)]) == real_root and path.is_file():
                files.append(path)
            if len(files) >= LIBRARY_LIMIT:
                return files
    return files


# -- saving -------------------------------------------------------------------------------------


def save_subgraph(graph: Graph, group_id: str, source: str, *, name: str = "") -> SubgraphRef:
    """Write the group's subgraph as a reusable file (``user:NAME.json``) and return the ref a
    group using it records. The group's current param values become the file's defaults; the
    version goes up by one when a file with other content was there."""
    node = graph.nodes.get(group_id)
    if node is None or node.subgraph is None:
        raise GraphError(Problem(f"nodes.{group_id}", "is not a group with a subgraph"))
    if not source.startswith(USER_SCHEME):
        raise KinographError("reusable subgraphs are saved in the user's subgraphs folder (user:NAME.json)")
    path = resolve_source(source)
    if _uses(node.subgraph, source):
        raise GraphError(Problem(f"nodes.{group_id}", f"the group uses {source!r} itself, so it cannot be saved as that file",
                                 "choose another name"))
    subgraph = copy.deepcopy(node.subgraph)
    for shown in subgraph.interface.params:
        inner = subgraph.nodes.get(shown.node)
        if inner is not None and shown.name in node.params:
            inner.params[shown.param] = copy.deepcopy(node.params[shown.name])
    subgraph.meta = {**subgraph.meta, "name": subgraph.meta.get("name") or name or Path(source).stem}
    version, renames = 1, []
    if path.is_file():
        try:
            old, _ = read_subgraph_file(path, source)
            version, renames = old.subgraph_version, list(old.renamed_params)
        except GraphError:
            old = None
        if old is not None and _normal(_file_data(subgraph, version, renames)) != _normal(old):
            version += 1
            renames += _renamed_since(old, subgraph, version)
    data = _file_data(subgraph, version, renames)
    text = dump_subgraph_file(SubgraphFile.model_validate(data))
    atomic_write_text(path, text)
    return SubgraphRef(source, version, content_hash(json.loads(text)))


def _renamed_since(old: SubgraphFile, subgraph: Subgraph, version: int) -> list[ParamRename]:
    """The group params that show the same inner param under another name than in ``old``: a
    rename graphs using the file follow when they load this ``version``."""
    before = {(p.node, p.param): p.name for p in old.interface.params}
    return [
        ParamRename(version=version, old=before[(p.node, p.param)], new=p.name)
        for p in subgraph.interface.params
        if before.get((p.node, p.param), p.name) != p.name
    ]


def _file_data(subgraph: Subgraph, version: int, renames: list[ParamRename]) -> dict[str, Any]:
    return {
        "format": SUBGRAPH_FORMAT,
        "version": FORMAT_VERSION,
        "subgraph_version": version,
        "renamed_params": [r.model_dump(mode="json", by_alias=True) for r in renames],
        **subgraph.to_entry(),
    }


def _normal(data: dict[str, Any] | SubgraphFile) -> Any:
    """A subgraph file's content as written (defaults filled, keys ordered), to compare two."""
    entry = data if isinstance(data, SubgraphFile) else SubgraphFile.model_validate(data)
    return json.loads(dump_subgraph_file(entry))


def _uses(subgraph: Subgraph, source: str) -> bool:
    """Whether ``subgraph`` contains a group using ``source`` (at any depth)."""
    for node in subgraph.nodes.values():
        if node.ref is not None and node.ref.source == source:
            return True
        if node.subgraph is not None and _uses(node.subgraph, source):
            return True
    return False
