"""``python -m kinograph`` runs the command line."""

from kinograph.core.cli.main import entry

entry()
