"""``python -m kinograph`` runs the command line."""

from kinograph.cli.main import entry

entry()
