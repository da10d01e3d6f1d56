"""Subcommands contributed by plugins through the ``kinograph_commands`` hook.

The CLI never imports a particular plugin: it asks the registry. A contributed command whose
name a built-in command has, or whose ``configure`` raises, is reported as a problem of its
plugin (``kinograph plugins`` shows it) and left out; ``kinograph --help`` always works.
"""

from __future__ import annotations

import argparse
import traceback
from typing import Any

from kinograph.host import Command, get_registry


def add_contributed(sub: Any, builtin: set[str]) -> dict[str, Command]:
    """Add every contributed command to ``sub`` (argparse sub-parsers); return them by name."""
    registry = get_registry()
    added: dict[str, Command] = {}
    for name, (command, info) in sorted(registry.commands.items()):
        if name in builtin:
            _problem(info, f"command {name!r} is a built-in kinograph command; rename the plugin's command")
            continue
        try:  # on a scratch parser first, so a raising configure() leaves no half-made command
            command.configure(argparse.ArgumentParser(prog=f"kinograph {name}", add_help=False))
        except (Exception, SystemExit) as exc:  # a plugin's mistake must not break --help
            _problem(info, f"command {name!r}: configure() raised {type(exc).__name__}: {exc}")
            info.detail = info.detail or traceback.format_exc()
            continue
        parser = sub.add_parser(
            name,
            help=f"{command.help} [plugin {info.name}]",
            description=command.description or command.help,
        )
        command.configure(parser)
        try:
            parser.add_argument("--debug", action="store_true", help="show tracebacks")
        except argparse.ArgumentError:
            pass  # the command has its own --debug
        added[name] = command
    return added


def _problem(info: Any, message: str) -> None:
    if message not in info.errors:
        info.errors.append(message)
    if info.status == "ok":
        info.status = "problems"


def run_contributed(command: Command, args: argparse.Namespace) -> int:
    """Run a contributed command; its return value is the exit code."""
    code = command.run(args)
    return int(code) if isinstance(code, int) else 0
