"""Built-in node packs. Each registers through the same hooks a third-party plugin uses and
imports only :mod:`kinograph.api`."""

#: (plugin name, module) of every built-in pack, loaded before external plugins.
BUILTIN_PLUGINS: list[tuple[str, str]] = [
    ("builtin.basic", "kinograph.plugins.basic"),
    ("builtin.media", "kinograph.plugins.media"),
    ("builtin.camera", "kinograph.plugins.camera"),
    ("builtin.learned", "kinograph.plugins.learned"),
    ("builtin.interpolation", "kinograph.plugins.interpolation"),
]
