"""The ``kinograph`` command line."""

from kinograph.core.cli.main import main

__all__ = ["main"]
