"""The editor's plugins, named so that the run process can register the very same ones.

The run process starts fresh (``spawn``): it has none of the editor's imported modules, so it
cannot be handed plugin objects. Each plugin is sent as an address it can import instead:

- a module (built-in packs, most entry points, ``registry.register_plugin(module, ...)``) by its
  module name;
- a class, function or module-level object by ``"module:qualname"``;
- an instance of a class defined at the top of a module (a test's ``Plugin()``) by its class's
  ``"module:qualname"``; the run process makes a new one with no arguments.

An object that cannot be named that way (defined inside a function, a lambda, an instance whose
class needs arguments or carries state set after construction) is left out, and the editor says
so: its nodes then fail the run as unknown types. Plugins whose loading failed in the editor are
left out too (their problems are already shown there).
"""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import asdict, dataclass
from typing import Any

from kinograph.host import PluginInfo, Registry

#: Plugin states whose plugin is not registered (nothing to send).
NOT_LOADED = ("failed", "blocked", "disabled")


@dataclass(frozen=True)
class PluginAddress:
    """How the run process finds one plugin: ``kind`` is module, attr or instance."""

    name: str
    kind: str
    target: str
    dist: str = ""
    version: str = ""
    builtin: bool = False

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)


def describe_plugins(registry: Registry) -> tuple[list[PluginAddress], list[str]]:
    """Addresses of the registry's loaded plugins, in registration order, and the names left out."""
    addresses: list[PluginAddress] = []
    unnamed: list[str] = []
    for info in registry.plugins:
        if info.status in NOT_LOADED:
            continue
        plugin = registry.plugin_object(info.name)
        if plugin is None:
            continue
        found = address_of(plugin)
        if found is None:
            unnamed.append(info.name)
            continue
        kind, target = found
        addresses.append(PluginAddress(info.name, kind, target, info.dist, info.version, info.builtin))
    return addresses, unnamed


def address_of(plugin: Any) -> tuple[str, str] | None:
    """(kind, target) that :func:`resolve` turns back into ``plugin`` (or an equal new one)."""
    if isinstance(plugin, types.ModuleType):
        return ("module", plugin.__name__)
    if isinstance(plugin, type | types.FunctionType):
        return _named(plugin, "attr")
    module = sys.modules.get(type(plugin).__module__)
    for attr, value in vars(module).items() if module is not None else ():
        if value is plugin:  # a module-level instance (an entry point "pkg.mod:plugin")
            return ("attr", f"{module.__name__}:{attr}")
    return _named(type(plugin), "instance")


def _named(obj: Any, kind: str) -> tuple[str, str] | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or not qualname or "<" in qualname:  # <locals>, <lambda>: not importable
        return None
    return (kind, f"{module}:{qualname}")


def resolve(kind: str, target: str) -> Any:
    """Import what an address names (raises what the import raises)."""
    if kind == "module":
        return importlib.import_module(target)
    module_name, _, qualname = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj() if kind == "instance" else obj


def build_registry(addresses: list[dict[str, Any]]) -> Registry:
    """A registry of the plugins the editor described (run process side).

    A plugin that fails to import here is recorded against it, as the registry does for a
    broken entry point; the others still load.
    """
    registry = Registry()
    batch: list[tuple[Any, PluginInfo]] = []
    for wire in addresses:
        address = PluginAddress(**wire)
        info = PluginInfo(name=address.name, dist=address.dist, version=address.version, builtin=address.builtin)
        try:
            plugin = resolve(address.kind, address.target)
        except (Exception, SystemExit) as exc:
            info.status = "failed"
            info.errors.append(f"the run process cannot load it from {address.target}: {type(exc).__name__}: {exc}")
            registry.plugins.append(info)
            continue
        batch.append((plugin, info))
    registry.register_plugins(batch)
    return registry
