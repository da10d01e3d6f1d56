"""Built-in node packs. Each registers through the ``kinograph.plugins`` entry points and hooks a
third-party package uses (see ``pyproject.toml``) and imports only :mod:`kinograph.api`."""
