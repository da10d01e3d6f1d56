"""The plugin registry: loads each plugin on its own, reports problems, never dies of one.

Built-in packs register through the same hooks as third-party packages. Environment:
``KINOGRAPH_DISABLE_PLUGINS=1`` skips external plugins, ``KINOGRAPH_BLOCK_PLUGINS=a,b`` skips
some, ``KINOGRAPH_STRICT_PLUGINS=1`` makes any plugin problem an error.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from kinograph.core import hookspecs
from kinograph.core.contributions import Command, GraphReader, SubgraphSource
from kinograph.core.node import Node
from kinograph.core.ports import Converter, PortType, PortTypeRegistry
from kinograph.core.previews import Preview, render_preview

#: The distribution whose entry points are kinograph's own (built-in) packs.
OWN_DIST = "kinograph"
#: Every hook a plugin may implement, in the order the registry calls them.
HOOKS = (
    "kinograph_port_types",
    "kinograph_converters",
    "kinograph_nodes",
    "kinograph_commands",
    "kinograph_graph_readers",
    "kinograph_subgraphs",
    "kinograph_previews",
)
#: The type-id prefix that belongs to kinograph's own packs (``kinograph.image.load``).
OWN_PREFIX = "kinograph"


@dataclass
class PluginInfo:
    """One plugin as ``kinograph plugins`` shows it."""

    name: str
    dist: str = ""
    version: str = ""
    builtin: bool = False
    status: str = "ok"  # ok | problems (some nodes loaded) | failed | blocked | disabled
    errors: list[str] = field(default_factory=list)
    node_types: list[str] = field(default_factory=list)
    detail: str = ""  # traceback of the first error, for --debug
    #: port types, converters (``A -> B``) and previews (type names) this plugin added
    port_types: list[str] = field(default_factory=list)
    converters: list[str] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``'vignette' (kg-vignette 0.1.0)``: the plugin as a user finds it in ``pip list``."""
        package = f"{self.dist} {self.version}".strip()
        return f"{self.name!r} ({package})" if package else repr(self.name)

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dist": self.dist,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "nodes": len(self.node_types),
            "errors": self.errors,
        }


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def strict_mode() -> bool:
    return _flag("KINOGRAPH_STRICT_PLUGINS")


class Registry:
    """Node types, port types and plugins known to this process."""

    def __init__(self) -> None:
        self.ports = PortTypeRegistry()
        self.nodes: dict[str, type[Node]] = {}
        self.node_plugin: dict[str, PluginInfo] = {}
        self.plugins: list[PluginInfo] = []
        #: warnings about the plugin set that belong to no plugin (e.g. a misspelt block list)
        self.notes: list[str] = []
        #: contributed ``kinograph`` subcommands by name, with the plugin that provides each
        self.commands: dict[str, tuple[Command, PluginInfo]] = {}
        #: readers of graphs embedded in output files, in registration order
        self.graph_readers: list[tuple[GraphReader, PluginInfo]] = []
        #: reusable subgraph files plugins ship (see kinograph.core.subgraph_files)
        self.subgraph_sources: list[tuple[SubgraphSource, PluginInfo]] = []
        #: the plugin that added each port type and converter (kinograph's own: absent)
        self.port_type_plugin: dict[str, PluginInfo] = {}
        self.converter_plugin: dict[tuple[str, str], PluginInfo] = {}
        #: viewer previews by port type name, with the plugin that provides each
        self.previews: dict[str, tuple[Preview, PluginInfo]] = {}
        #: type ids nodes had before a rename (``legacy_type_ids``) -> their current type id
        self.legacy_type_ids: dict[str, str] = {}
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)

    # -- queries --

    def node(self, type_id: str) -> type[Node] | None:
        """The node class of ``type_id``, or of the node that renamed it (``legacy_type_ids``)."""
        found = self.nodes.get(type_id)
        if found is None and type_id in self.legacy_type_ids:
            found = self.nodes.get(self.legacy_type_ids[type_id])
        return found

    def current_type_id(self, type_id: str) -> str:
        """``type_id``, or the id a node that was renamed from it has now."""
        return type_id if type_id in self.nodes else self.legacy_type_ids.get(type_id, type_id)

    def plugin_named(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name), None)

    def missing_node_hint(self, type_id: str, saved_by: dict[str, Any] | None = None) -> str | None:
        """Why no plugin provides ``type_id`` when one that should is installed but failed.

        ``saved_by`` is the graph's ``plugin`` entry for the node (name, dist, version). Returns
        ``kg-vignette 0.1.0 is installed but failed: ...`` or None when no installed plugin is
        to blame (the type's plugin is simply not installed).
        """
        suspects = []
        name = (saved_by or {}).get("name")
        dist = str((saved_by or {}).get("dist") or "").lower()
        for info in self.plugins:
            named = (name and info.name == name) or (dist and info.dist.lower() == dist)
            if named or _owns_prefix(info, type_id) or any(type_id in e for e in info.errors):
                suspects.append(info)
        for info in suspects:
            package = f"{info.dist} {info.version}".strip() or f"plugin {info.name!r}"
            if info.status in ("blocked", "disabled"):
                switch = "KINOGRAPH_DISABLE_PLUGINS" if info.status == "disabled" else "KINOGRAPH_BLOCK_PLUGINS"
                return f"{package} is installed but {info.status} ({switch})"
            if info.errors:
                return f"{package} is installed but failed: {info.error}"
        return None

    def provider_note(self, type_id: str, saved_by: dict[str, Any] | None) -> str | None:
        """When a graph node was saved with another plugin than the one providing its type now."""
        info = self.node_plugin.get(self.current_type_id(type_id))
        name = (saved_by or {}).get("name")
        if info is None or not name or name == info.name:
            return None
        return f"it was saved with plugin {name!r}, but {info.label} provides {type_id!r} here"

    def preview(self, type_name: str, value: Any) -> dict[str, Any] | None:
        """What the viewer draws for a value of ``type_name`` (see :func:`render_preview`)."""
        return render_preview(self.ports, {t: p for t, (p, _) in self.previews.items()}, type_name, value)

    def type_plugin(self, type_name: str) -> PluginInfo | None:
        """The plugin that added a port type (None: one of kinograph's own)."""
        return self.port_type_plugin.get(type_name)

    def problems(self) -> list[tuple[str, str]]:
        """(plugin name, message) for every plugin problem."""
        return [(p.name, e) for p in self.plugins for e in p.errors]

    def failed_plugins(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.errors]

    def plugin_object(self, name: str) -> Any:
        """The object registered as plugin ``name`` (a module, class or instance), or None.

        The editor names it to its run process, which registers the same plugins.
        """
        return self._pm.get_plugin(name)

    def graph_reader_for(self, path: str | Path) -> GraphReader | None:
        """The reader of graphs embedded in files with ``path``'s suffix, if a plugin offers one."""
        suffix = Path(path).suffix.lower()
        return next((r for r, _ in self.graph_readers if suffix in (s.lower() for s in r.suffixes)), None)

    def embedded_graph_suffixes(self) -> set[str]:
        """Suffixes of output files whose embedded graph some plugin can read."""
        return {s.lower() for r, _ in self.graph_readers for s in r.suffixes}

    # -- loading --

    def register_plugin(
        self,
        plugin: Any,
        name: str,
        *,
        dist: str = "",
        version: str = "",
        builtin: bool = False,
    ) -> PluginInfo:
        """Register one plugin object (a module or instance with ``@hookimpl`` functions).

        Problems are recorded on the returned :class:`PluginInfo`; nothing is raised.
        """
        info = PluginInfo(name=name, dist=dist, version=version, builtin=builtin)
        self.register_plugins([(plugin, info)])
        return info

    def register_plugins(self, batch: list[tuple[Any, PluginInfo]]) -> None:
        """Register several plugins in passes: all port types, then converters, then nodes.

        So a node may use a port type that another plugin of the batch declares, whatever the
        order the plugins were found in.
        """
        hooks: list[tuple[Any, PluginInfo, dict[str, Any]]] = []
        for plugin, info in batch:
            self.plugins.append(info)
            if any(p.name == info.name for p in self.plugins[:-1]):
                info.status = "failed"
                info.errors.append(f"another plugin is already named {info.name!r}; rename its entry point")
                continue
            try:
                self._pm.register(plugin, name=info.name)
                self._pm.check_pending()
            except (Exception, SystemExit) as exc:  # a plugin's mistake must not stop the others
                self._fail(info, f"invalid hooks: {_hook_problem(exc)}")
                if self._pm.is_registered(plugin):
                    self._pm.unregister(plugin)
                continue
            impls = self._impls_of(plugin)
            info.errors.extend(_unmarked_hooks(plugin, impls))
            hooks.append((plugin, info, impls))
        for _, info, impls in hooks:
            for port_type in self._call(info, impls, "kinograph_port_types", PortType):
                self._add_port_type(info, port_type)
        for _, info, impls in hooks:
            for converter in self._call(info, impls, "kinograph_converters", Converter):
                self._add_converter(info, converter)
        for _, info, impls in hooks:
            for node_class in self._call(info, impls, "kinograph_nodes", type):
                self._add_node(info, node_class)
            for command in self._call(info, impls, "kinograph_commands", Command):
                self._add_command(info, command)
            for source in self._call(info, impls, "kinograph_subgraphs", SubgraphSource):
                self._add_record(info, source, self.subgraph_sources)
            for reader in self._call(info, impls, "kinograph_graph_readers", GraphReader):
                self._add_record(info, reader, self.graph_readers)
            for preview in self._call(info, impls, "kinograph_previews", Preview):
                self._add_preview(info, preview)
        for plugin, info, _ in hooks:
            if not info.errors and not self._contributes(info):
                info.errors.append(
                    "registers nothing: no hook returned a node, port type, converter, command, graph "
                    "reader, preview or subgraph (is @hookimpl from kinograph.api on your hook functions?)"
                )
            self._settle(info)
            if info.status == "failed" and self._pm.is_registered(plugin):
                self._pm.unregister(plugin)

    def _settle(self, info: PluginInfo) -> None:
        """The status a plugin's problems and contributions give it."""
        if info.status in ("blocked", "disabled"):
            return
        if not info.errors:
            info.status = "ok"
        else:
            info.status = "problems" if self._contributes(info) else "failed"

    @staticmethod
    def _add_record(info: PluginInfo, record: Any, into: list[tuple[Any, PluginInfo]]) -> None:
        """Keep a contributed record the host can use; its problems are the plugin's problems."""
        problems = record.problems()
        if problems:
            info.errors.extend(problems)
        else:
            into.append((record, info))

    def _contributes(self, info: PluginInfo) -> bool:
        return bool(
            info.node_types
            or info.port_types
            or info.converters
            or info.previews
            or any(owner is info for _, owner in self.commands.values())
            or any(owner is info for _, owner in self.graph_readers)
            or any(owner is info for _, owner in self.subgraph_sources)
        )

    def _add_port_type(self, info: PluginInfo, port_type: PortType) -> None:
        known = self.ports.get(port_type.name)
        try:
            self.ports.add_type(port_type)
        except ValueError as exc:
            owner = self.port_type_plugin.get(port_type.name)
            by = f" by plugin {owner.name!r}" if owner is not None else (" by kinograph" if known else "")
            info.errors.append(f"{exc}{by}")
            return
        if known is None:  # the same definition again is fine, and stays its first plugin's
            self.port_type_plugin[port_type.name] = info
            info.port_types.append(port_type.name)

    def _add_converter(self, info: PluginInfo, converter: Converter) -> None:
        try:
            self.ports.add_converter(converter)
        except ValueError as exc:
            info.errors.append(str(exc))
            return
        self.converter_plugin[(converter.source, converter.target)] = info
        info.converters.append(f"{converter.source} -> {converter.target}")

    def _add_preview(self, info: PluginInfo, preview: Preview) -> None:
        problems = preview.problems()
        if not problems and self.ports.get(preview.type) is None:
            problems.append(f"preview names unknown port type {preview.type!r}" + self.ports.did_you_mean(preview.type))
        if problems:
            info.errors.extend(problems)
            return
        owner = self.previews.get(preview.type)
        if owner is not None:
            info.errors.append(
                f"port type {preview.type!r} already has a preview from plugin {owner[1].name!r} (kept it)"
            )
            return
        self.previews[preview.type] = (preview, info)
        info.previews.append(preview.type)

    def _add_command(self, info: PluginInfo, command: Command) -> None:
        problems = command.problems()
        if problems:
            info.errors.extend(problems)
            return
        owner = self.commands.get(command.name)
        if owner is not None:
            info.errors.append(
                f"command {command.name!r} is already provided by plugin {owner[1].name!r};"
                f" plugin {info.name!r} also claims it (kept {owner[1].name!r}'s)"
            )
            return
        self.commands[command.name] = (command, info)

    def _call(self, info: PluginInfo, impls: dict[str, Any], hook_name: str, kind: type) -> list[Any]:
        if info.status == "failed":
            return []
        try:
            return self._collect(impls, hook_name, kind)
        except (Exception, SystemExit) as exc:
            self._fail(info, f"{hook_name}() raised {type(exc).__name__}: {exc}")
            return []

    def _impls_of(self, plugin: Any) -> dict[str, Any]:
        found = {}
        for hook_name in HOOKS:
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    found[hook_name] = impl.function
        return found

    @staticmethod
    def _collect(impls: dict[str, Any], hook_name: str, kind: type) -> list[Any]:
        function = impls.get(hook_name)
        if function is None:
            return []
        result = function()
        if result is None:
            return []
        items = list(result)
        for item in items:
            if not isinstance(item, kind):
                raise TypeError(f"{hook_name}() returned {item!r}, expected {kind.__name__}")
        return items

    def _add_node(self, info: PluginInfo, node_class: Any) -> None:
        if not (isinstance(node_class, type) and issubclass(node_class, Node)):
            info.errors.append(f"{node_class!r} is not a kinograph Node subclass")
            return
        try:
            problems = node_class.declaration_problems()
        except Exception as exc:  # e.g. a Params whose schema cannot be built
            problems = [f"cannot be checked: {type(exc).__name__}: {exc}"]
        for port in list(node_class.inputs) + list(node_class.outputs):
            if self.ports.get(port.type) is None:
                problems.append(f"port {port.name!r} has unknown type {port.type!r}" + self.ports.did_you_mean(port.type))
        if problems:
            info.errors.append(f"node {_where(node_class)}: " + "; ".join(problems))
            return
        type_id = node_class.type_id
        holder = self.nodes.get(type_id)
        if holder is not None and not self._take_over(info, node_class, holder):
            return
        self.nodes[type_id] = node_class
        self.node_plugin[type_id] = info
        info.node_types.append(type_id)
        for legacy in node_class.legacy_type_ids:
            taken = self.legacy_type_ids.get(legacy)
            if legacy in self.nodes or (taken is not None and taken != type_id):
                info.errors.append(
                    f"node {_where(node_class)}: legacy type id {legacy!r} is already"
                    f" {'a node type' if legacy in self.nodes else 'the old name of ' + repr(taken)}; left out"
                )
                continue
            self.legacy_type_ids[legacy] = type_id

    def _take_over(self, info: PluginInfo, node_class: type[Node], holder: type[Node]) -> bool:
        """Settle two node classes claiming one type id; True when ``node_class`` takes it.

        The owner of the id's prefix keeps it (``vignette.*`` belongs to the plugin named
        ``vignette``, ``kinograph.*`` to kinograph's own packs); the other side is reported with
        both classes named. When neither side owns the prefix, the first plugin keeps it.
        """
        type_id = node_class.type_id
        owner = self.node_plugin[type_id]
        both = f"{_where(holder)} and {_where(node_class)}"
        if owner is info:
            info.errors.append(f"node type {type_id!r} is declared twice in plugin {info.name!r}: {both}; kept {holder.__name__}")
            return False
        if _owns_prefix(info, type_id) and not _owns_prefix(owner, type_id):
            owner.errors.append(
                f"node type {type_id!r} belongs to plugin {info.name!r} (prefix {_prefix(type_id)!r});"
                f" plugin {owner.name!r} also declares it in {_where(holder)}: kept {info.name!r}'s {_where(node_class)}"
            )
            owner.node_types.remove(type_id)
            for legacy in holder.legacy_type_ids:
                if self.legacy_type_ids.get(legacy) == type_id:
                    del self.legacy_type_ids[legacy]
            self._settle(owner)
            return True
        if _owns_prefix(owner, type_id):
            info.errors.append(
                f"node type {type_id!r} belongs to plugin {owner.name!r} (prefix {_prefix(type_id)!r});"
                f" plugin {info.name!r} also declares it in {_where(node_class)}: kept {owner.name!r}'s {_where(holder)}"
            )
            return False
        info.errors.append(
            f"node type {type_id!r} is already provided by plugin {owner.name!r} ({_where(holder)});"
            f" plugin {info.name!r} also declares it ({_where(node_class)}). No plugin is named"
            f" {_prefix(type_id)!r}, so the first in name order keeps it: kept {owner.name!r}'s"
        )
        return False

    def _fail(self, info: PluginInfo, message: str) -> None:
        info.status = "failed"
        info.errors.append(message)
        info.detail = traceback.format_exc()

    def load_builtins(self, modules: Iterable[tuple[str, str]] | None = None) -> None:
        """Register kinograph's own packs: (plugin name, module path), by default :func:`builtin_plugins`."""
        from kinograph import __version__

        batch = []
        for name, module_path in builtin_plugins() if modules is None else modules:
            info = PluginInfo(name=name, dist=OWN_DIST, version=__version__, builtin=True)
            try:
                module = importlib.import_module(module_path.partition(":")[0])
            except (Exception, SystemExit) as exc:
                self.plugins.append(info)
                self._fail(info, f"import failed: {type(exc).__name__}: {exc}")
                continue
            batch.append((module, info))
        self.register_plugins(batch)

    def load_entry_points(self) -> None:
        """Load every external plugin from the ``kinograph.plugins`` entry points, each on its own.

        kinograph's own entry points are left to :meth:`load_builtins`, so the environment
        switches that skip external plugins never skip them.
        """
        from importlib.metadata import entry_points

        disabled = _flag("KINOGRAPH_DISABLE_PLUGINS")
        blocked = {
            n.strip() for n in os.environ.get("KINOGRAPH_BLOCK_PLUGINS", "").split(",") if n.strip()
        }
        found = sorted(
            (ep for ep in entry_points(group=hookspecs.ENTRY_POINT_GROUP) if _dist_name(ep) != OWN_DIST),
            key=lambda e: e.name,
        )
        batch = []
        for ep in found:
            dist = getattr(ep, "dist", None)
            info = PluginInfo(name=ep.name, dist=dist.name if dist else "", version=dist.version if dist else "")
            if disabled or ep.name in blocked:
                info.status = "disabled" if disabled else "blocked"
                self.plugins.append(info)
                continue
            try:
                plugin = ep.load()
            except (Exception, SystemExit) as exc:
                self.plugins.append(info)
                self._fail(info, f"import failed: {type(exc).__name__}: {exc}")
                continue
            batch.append((plugin, info))
        self.register_plugins(batch)
        unknown = blocked - {ep.name for ep in found}
        if unknown:
            self.notes.append(
                "KINOGRAPH_BLOCK_PLUGINS names no installed plugin: " + ", ".join(sorted(unknown))
            )


def _prefix(type_id: str) -> str:
    return type_id.split(".", 1)[0]


def _plain_name(name: str) -> str:
    return name.lower().replace("-", "_")


def _owns_prefix(info: PluginInfo, type_id: str) -> bool:
    """Whether ``type_id``'s namespace belongs to this plugin (its entry-point name).

    ``kinograph.*`` belongs to kinograph's own packs, whatever their entry points are named.
    """
    prefix = _prefix(type_id)
    if prefix == OWN_PREFIX:
        return info.builtin and info.dist == OWN_DIST
    return _plain_name(prefix) == _plain_name(info.name)


def _where(cls: type) -> str:
    """``Blur (acme_plugin.nodes)``: a class as its author finds it."""
    return f"{cls.__qualname__} ({cls.__module__})"


def _unmarked_hooks(plugin: Any, impls: dict[str, Any]) -> list[str]:
    """Functions named like hooks but not marked ``@hookimpl``: kinograph never calls them."""
    import difflib

    problems = []
    for attr in sorted(dir(plugin)):
        if not attr.startswith("kinograph_") or attr in impls:
            continue
        function = getattr(plugin, attr, None)
        if not callable(function) or hasattr(function, hookspecs.PROJECT + "_impl"):
            continue
        if attr in HOOKS:
            problems.append(f"function {attr} is not marked @hookimpl, so kinograph never calls it"
                            " (add `@hookimpl`, imported from kinograph.api)")
        else:
            close = difflib.get_close_matches(attr, HOOKS, n=1)
            if close:
                problems.append(f"function {attr} is no hook (did you mean {close[0]!r}, marked @hookimpl?)")
    return problems


def _dist_name(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return (dist.name if dist else "").lower()


def builtin_plugins() -> list[tuple[str, str]]:
    """(plugin name, module) of kinograph's own packs, from its ``kinograph.plugins`` entry points.

    An installed kinograph (wheel or ``pip install -e``) has them in its metadata; a source
    tree run without metadata reads the same table from ``pyproject.toml``, so there is one list
    and the registry never names a plugin module itself.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        found = [
            (ep.name, ep.value)
            for ep in distribution(OWN_DIST).entry_points
            if ep.group == hookspecs.ENTRY_POINT_GROUP
        ]
    except PackageNotFoundError:
        found = []
    if found:
        return found
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = table.get("project", {}).get("entry-points", {}).get(hookspecs.ENTRY_POINT_GROUP, {})
    return [(name, value) for name, value in entries.items() if isinstance(value, str)]


def _hook_problem(exc: BaseException) -> str:
    """Pluggy's message, plus the closest real hook name for a misspelt one."""
    import difflib
    import re

    text = str(exc)
    match = re.search(r"unknown hook '([^']+)'", text)
    if match:
        close = difflib.get_close_matches(match.group(1), HOOKS, n=1)
        text = f"unknown hook {match.group(1)!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    return text


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry: built-in packs, then installed plugins (loaded on first use)."""
    global _REGISTRY
    if _REGISTRY is None:
        registry = Registry()
        registry.load_builtins()
        registry.load_entry_points()
        _REGISTRY = registry
    return _REGISTRY


def reset_registry(registry: Registry | None = None) -> None:
    """Replace (or forget) the process-wide registry; tests use it."""
    global _REGISTRY
    _REGISTRY = registry
