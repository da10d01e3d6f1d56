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
from kinograph.core.contributions import Command, GraphReader
from kinograph.core.node import Node
from kinograph.core.ports import Converter, PortType, PortTypeRegistry

#: The distribution whose entry points are kinograph's own (built-in) packs.
OWN_DIST = "kinograph"
#: Every hook a plugin may implement, in the order the registry calls them.
HOOKS = (
    "kinograph_port_types",
    "kinograph_converters",
    "kinograph_nodes",
    "kinograph_commands",
    "kinograph_graph_readers",
)


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
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)

    # -- queries --

    def node(self, type_id: str) -> type[Node] | None:
        return self.nodes.get(type_id)

    def problems(self) -> list[tuple[str, str]]:
        """(plugin name, message) for every plugin problem."""
        return [(p.name, e) for p in self.plugins for e in p.errors]

    def failed_plugins(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.errors]

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
            hooks.append((plugin, info, self._impls_of(plugin)))
        for hook_name, kind, add in (
            ("kinograph_port_types", PortType, self.ports.add_type),
            ("kinograph_converters", Converter, self.ports.add_converter),
        ):
            for _, info, impls in hooks:
                for item in self._call(info, impls, hook_name, kind):
                    try:
                        add(item)
                    except ValueError as exc:
                        info.errors.append(str(exc))
        for _, info, impls in hooks:
            for node_class in self._call(info, impls, "kinograph_nodes", type):
                self._add_node(info, node_class)
            for command in self._call(info, impls, "kinograph_commands", Command):
                self._add_command(info, command)
            for reader in self._call(info, impls, "kinograph_graph_readers", GraphReader):
                problems = reader.problems()
                if problems:
                    info.errors.extend(problems)
                else:
                    self.graph_readers.append((reader, info))
        for plugin, info, _ in hooks:
            if info.errors:
                contributed = info.node_types or self._contributes(info)
                info.status = "problems" if contributed else "failed"
                if not contributed and self._pm.is_registered(plugin):
                    self._pm.unregister(plugin)

    def _contributes(self, info: PluginInfo) -> bool:
        return any(owner is info for _, owner in self.commands.values()) or any(
            owner is info for _, owner in self.graph_readers
        )

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
        problems = node_class.declaration_problems()
        for port in list(node_class.inputs) + list(node_class.outputs):
            if self.ports.get(port.type) is None:
                problems.append(f"port {port.name!r} has unknown type {port.type!r}")
        if problems:
            info.errors.append(f"node {node_class.__name__}: " + "; ".join(problems))
            return
        owner = self.node_plugin.get(node_class.type_id)
        if owner is not None:
            info.errors.append(
                f"node type {node_class.type_id!r} is already provided by plugin {owner.name!r};"
                f" plugin {info.name!r} also claims it (kept {owner.name!r}'s)"
            )
            return
        self.nodes[node_class.type_id] = node_class
        self.node_plugin[node_class.type_id] = info
        info.node_types.append(node_class.type_id)

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
