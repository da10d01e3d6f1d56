"""The ``kinograph`` command line."""

from kinograph.cli.main import main

__all__ = ["main"]
