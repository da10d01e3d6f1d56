"""Plugins contribute ``kinograph`` subcommands and graph readers through hooks; the CLI and the
editor ask the registry, never a module by name."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from kinograph.api import Command, GraphReader, KinographError, hookimpl
from kinograph.cli import main
from kinograph.host import Registry, reset_registry


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--shout", action="store_true")


def _greet(args: argparse.Namespace) -> int:
    if args.name == "nobody":
        raise KinographError("nobody is not a name: give a real one")
    text = f"hello {args.name}"
    print(text.upper() if args.shout else text)
    return 3 if args.name == "three" else 0


class Greeter:
    @hookimpl
    def kinograph_commands(self) -> list[Command]:
        return [Command("greet", "say hello to someone", _configure, _greet)]


class BrokenConfigure:
    @hookimpl
    def kinograph_commands(self) -> list[Command]:
        def explode(parser: argparse.ArgumentParser) -> None:
            raise RuntimeError("configure exploded")

        return [Command("broken", "never shown", explode, _greet)]


class ClaimsRun:
    @hookimpl
    def kinograph_commands(self) -> list[Command]:
        return [Command("run", "pretends to be run", _configure, _greet)]


class ClaimsGreet:
    @hookimpl
    def kinograph_commands(self) -> list[Command]:
        return [Command("greet", "a second greeter", _configure, _greet)]


@pytest.fixture
def with_plugins() -> Registry:
    registry = Registry()
    registry.load_builtins()
    for plugin, name in [(Greeter(), "greeter"), (BrokenConfigure(), "broken"), (ClaimsRun(), "claims-run"),
                         (ClaimsGreet(), "claims-greet")]:
        registry.register_plugin(plugin, name)
    reset_registry(registry)
    return registry


def test_help_lists_contributed_commands_with_their_plugin(with_plugins: Registry, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "greet" in out and "say hello to someone [plugin greeter]" in out
    assert "never shown" not in out and "pretends to be run" not in out


def test_a_contributed_command_runs_with_its_own_arguments(with_plugins: Registry, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["greet", "ada", "--shout"]) == 0
    assert capsys.readouterr().out.strip() == "HELLO ADA"
    assert main(["greet", "three"]) == 3


def test_a_contributed_commands_user_error_is_one_line_and_exit_2(with_plugins: Registry, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["greet", "nobody"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: nobody is not a name: give a real one"


def test_broken_and_clashing_commands_are_plugin_problems(with_plugins: Registry, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    problems = dict(with_plugins.problems())
    assert "configure() raised RuntimeError: configure exploded" in problems["broken"]
    assert "'run' is a built-in kinograph command" in problems["claims-run"]
    assert "'greet' is already provided by plugin 'greeter'" in problems["claims-greet"]
    assert "configure exploded" in out
    assert main(["broken"]) == 2  # not a command: argparse's usage error


def test_graph_readers_come_from_the_plugin_that_writes_the_files() -> None:
    registry = Registry()
    registry.load_builtins()
    reader = registry.graph_reader_for("clip.MP4")
    assert reader is not None and registry.graph_readers[0][1].name == "builtin.media"
    assert registry.graph_reader_for("notes.txt") is None

    class Bad:
        @hookimpl
        def kinograph_graph_readers(self) -> list[GraphReader]:
            return [GraphReader("bad", ["mp4"], print)]

    info = registry.register_plugin(Bad(), "bad-reader")
    assert "suffixes must look like '.mp4'" in info.error


def test_disabling_external_plugins_keeps_kinographs_own_packs() -> None:
    code = (
        "from kinograph.host import get_registry\n"
        "r = get_registry()\n"
        "print(sorted(p.name for p in r.plugins if p.builtin), len(r.nodes))\n"
    )
    env = {"KINOGRAPH_DISABLE_PLUGINS": "1"}
    import os

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    names, count = proc.stdout.rsplit(" ", 1)
    assert "builtin.media" in names and "builtin.learned" in names and int(count) >= 10
