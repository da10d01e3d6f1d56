"""Entry point of the ``kinograph`` command: parses arguments and maps outcomes to exit codes.

Exit codes: 0 ok, 1 a node failed, 2 invalid graph or usage, 130 cancelled (Ctrl+C; 143 on
SIGTERM, 129 on SIGHUP). Human messages go to stderr, machine output to stdout. No traceback for
a user's mistake unless ``--debug``. Plugins add subcommands through the ``kinograph_commands``
hook (:mod:`kinograph.cli.contributed`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kinograph import __version__
from kinograph.api import Command, GraphError, KinographError
from kinograph.host import MESSAGE_LIMIT, shown

if TYPE_CHECKING:
    from kinograph.host import Stop

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    """The parser with the built-in commands and those plugins contribute (returned by name)."""
    from kinograph.cli.contributed import add_contributed

    parser = argparse.ArgumentParser(
        prog="kinograph",
        description="Run, check and edit kinograph node graphs (JSON files).",
        epilog="Exit codes: 0 ok, 1 a node failed, 2 invalid graph or usage, 130 cancelled.",
    )
    parser.add_argument("--version", action="version", version=f"kinograph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a graph headless")
    run.add_argument("graph", help="graph file (.json)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="override a param (repeatable); paths are relative to the current folder")
    run.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps (default auto)")
    run.add_argument("--node", dest="targets", action="append", metavar="ID",
                     help="run only what this node needs (repeatable); default: the output nodes")
    run.add_argument("--no-cache", action="store_true", help="bypass the value and stream caches")
    run.add_argument("--cache-streams", action="store_true",
                     help="also keep the streams that feed output nodes in the disk cache, so a re-run "
                          "that changes only an output node reads them back instead of recomputing")
    run.add_argument("--events", choices=["json"], help="print events as NDJSON on stdout")
    run.add_argument("--debug", action="store_true", help="show tracebacks")

    validate = sub.add_parser("validate", help="load and check a graph; one line per problem")
    validate.add_argument("graph")
    validate.add_argument("--debug", action="store_true")

    nodes = sub.add_parser("nodes", help="list node types with ports, params and plugin")
    nodes.add_argument("--json", action="store_true", help="machine-readable output")
    nodes.add_argument("--debug", action="store_true")

    subgraphs = sub.add_parser(
        "subgraphs", help="list reusable subgraph files (yours and plugins') with ports, params and source",
        description="List the reusable subgraph files a graph can use as a group node: yours (the "
                    "subgraphs folder) and those plugins ship.",
    )
    subgraphs.add_argument("--json", action="store_true", help="machine-readable output")
    subgraphs.add_argument("--debug", action="store_true")

    plugins = sub.add_parser("plugins", help="list plugins with version, node count, status and error")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument("--debug", action="store_true")

    types = sub.add_parser("types", help="list port types (colour, plugin) and converters")
    types.add_argument("--json", action="store_true", help="machine-readable output")
    types.add_argument("--debug", action="store_true")

    sub.add_parser("schema", help="print the JSON Schema of the graph file")


    gui = sub.add_parser("gui", help="open the desktop editor", description="Open the desktop editor.")
    gui.add_argument("file", nargs="?", help="a graph, or an output file (MP4, PNG) made by kinograph")
    contributed = add_contributed(sub, set(COMMANDS))
    return parser, contributed


def err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code (the console script exits with it)."""
    parser, contributed = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_INVALID
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    debug = getattr(args, "debug", False)
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in contributed:
            from kinograph.cli.contributed import run_contributed

            return run_contributed(contributed[args.command], args)
        return COMMANDS[args.command](args)
    except GraphError as exc:
        for line in exc.describe().splitlines():
            err(f"error: {line}")
        if debug:
            traceback.print_exc()
        return EXIT_INVALID
    except KinographError as exc:
        err(f"error: {exc}")
        if debug:
            traceback.print_exc()
        return EXIT_INVALID
    except KeyboardInterrupt:
        err("cancelled")
        return EXIT_CANCELLED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in kinograph, not the user's mistake
        err(f"internal error: {type(exc).__name__}: {shown(exc, MESSAGE_LIMIT)}")
        if debug:
            traceback.print_exc()
        else:
            err("run again with --debug for the traceback, and please report it")
        return EXIT_FAILED


def _strict_problems() -> int | None:
    from kinograph.host import get_registry, strict_mode

    registry = get_registry()
    problems = registry.problems()
    if problems and strict_mode():
        for name, message in problems:
            err(f"error: plugin {name!r}: {message}")
        err("KINOGRAPH_STRICT_PLUGINS is set: fix or remove these plugins, or unset it")
        return EXIT_INVALID
    return None


def _warn_plugins() -> None:
    from kinograph.host import get_registry

    registry = get_registry()
    for name, message in registry.problems():
        err(f"warning: plugin {name!r}: {message}")
    for note in registry.notes:
        err(f"warning: {note}")


def _warn_loaded(graph: Any) -> None:
    """What loading noticed without refusing the graph (a subgraph file that changed since)."""
    for problem in graph.load_warnings:
        err(f"warning: {problem}")


def _load(path: str) -> Any:
    """The graph at ``path``, after the plugin problems are said (an exit code in strict mode)."""
    from kinograph.host import Graph

    strict = _strict_problems()
    if strict is not None:
        return strict
    _warn_plugins()
    graph = Graph.load(path)
    _warn_loaded(graph)
    return graph


def cmd_run(args: argparse.Namespace) -> int:
    from kinograph.api import CancelToken
    from kinograph.cli.render import JsonEvents, PlainLines, ProgressBars
    from kinograph.host import RunOptions, Session, apply_overrides, stop_on_signals

    graph = _load(args.graph)
    if isinstance(graph, int):
        return graph
    apply_overrides(graph, args.overrides)
    subscribers: list[Any] = []
    if args.events == "json":
        subscribers.append(JsonEvents(debug=args.debug))
    elif sys.stderr.isatty():
        subscribers.append(ProgressBars(debug=args.debug))
    else:
        subscribers.append(PlainLines(debug=args.debug))
    cancel = CancelToken()
    options = RunOptions(
        device=args.device,
        use_cache=not args.no_cache,
        targets=args.targets,
        # One-shot runs rarely re-use streams: writing every frame to disk is opt-in here.
        stream_cache="outputs" if args.cache_streams else "off",
    )
    with stop_on_signals(cancel.cancel, err) as stop:
        try:
            result = Session(graph.registry).run(graph, options, subscribers, cancel)
        except KeyboardInterrupt:  # a second signal: stop at once (writers clean up on the way out)
            err("cancelled")
            return stop.exit_code
    return _report(graph, result, args, stop)


def _report(graph: Any, result: Any, args: argparse.Namespace, stop: Stop) -> int:
    for failure in result.failures:
        if args.events != "json":
            err(f"error: node {failure.node_id} ({failure.type}) failed: {failure.message}")
        if args.debug and failure.traceback:
            err(failure.traceback)
    if result.failures and not args.debug and args.events != "json":
        err("run again with --debug to see the traceback of each failure")
    if result.status == "cancelled":
        err("run cancelled")
        return stop.exit_code
    for path in result.written(graph):
        if args.events == "json":
            err(f"wrote {path}")
        else:
            print(path)
    counts = result.summary()["nodes"]
    text = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    err(f"{result.status} in {result.total_seconds:.2f} s ({text})")
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_validate(args: argparse.Namespace) -> int:
    from kinograph.host import validate

    graph = _load(args.graph)
    if isinstance(graph, int):
        return graph
    problems = validate(graph)
    if problems:
        for problem in problems:
            err(f"{shown(args.graph)}: {problem}")
        return EXIT_INVALID
    err(f"{shown(args.graph)}: ok ({len(graph.nodes)} nodes, {len(graph.links)} links)")
    return EXIT_OK


def cmd_nodes(args: argparse.Namespace) -> int:
    from kinograph.host import get_registry

    registry = get_registry()
    strict = _strict_problems()
    if strict is not None:
        return strict
    if args.json:
        records = []
        for type_id in sorted(registry.nodes):
            record = registry.nodes[type_id].describe()
            info = registry.node_plugin[type_id]
            record["plugin"] = {"name": info.name, "dist": info.dist, "version": info.version}
            records.append(record)
        print(json.dumps(records, indent=2))
        return EXIT_OK
    _warn_plugins()
    by_category: dict[str, list[str]] = {}
    for type_id, cls in registry.nodes.items():
        by_category.setdefault(cls.category, []).append(type_id)
    for category in sorted(by_category):
        print(f"{category}:")
        for type_id in sorted(by_category[category]):
            cls = registry.nodes[type_id]
            ins = ", ".join(f"{p.name}: {p.type}{'?' if p.optional else ''}" for p in cls.inputs) or "-"
            outs = ", ".join(f"{p.name}: {p.type}" for p in cls.outputs) or "-"
            plugin = registry.node_plugin[type_id].name
            print(f"  {type_id}  {cls.title()!r}  ({ins}) -> ({outs})  [{plugin}]")
    from kinograph.host import subgraph_library

    count = len(subgraph_library(registry))
    print(f"Reusable subgraphs (used as group nodes): {count}; `kinograph subgraphs` lists them.")
    return EXIT_OK


def cmd_subgraphs(args: argparse.Namespace) -> int:
    from kinograph.host import get_registry, shown, subgraph_library, subgraphs_dir

    registry = get_registry()
    library = subgraph_library(registry)
    if args.json:
        records = [
            {"source": e.source, "name": e.name, "category": e.category, "description": e.description,
             "version": e.version, "hash": e.hash, "plugin": e.plugin or None, "problem": e.problem or None,
             "inputs": [{"name": n, "type": t} for n, t in e.inputs],
             "outputs": [{"name": n, "type": t} for n, t in e.outputs], "params": list(e.params)}
            for e in library
        ]
        print(json.dumps(records, indent=2))
        return EXIT_OK
    _warn_plugins()
    if not library:
        print(f"No reusable subgraphs yet: save a group as one in the editor, or put subgraph files in "
              f"{shown(subgraphs_dir())}.")
        return EXIT_OK
    print('Reusable subgraphs (in a graph: {"type": "kinograph.subgraph", "ref": {"source": SOURCE}}):')
    for e in library:
        # Names and descriptions come from files: shown() keeps their control characters inert.
        owner = e.plugin or "your subgraphs folder"
        if e.problem:
            print(f"  {shown(e.source)}  cannot be used: {shown(e.problem)}  [{owner}]")
            continue
        ins = ", ".join(f"{n}: {t}" for n, t in e.inputs) or "-"
        outs = ", ".join(f"{n}: {t}" for n, t in e.outputs) or "-"
        params = f"  params: {', '.join(e.params)}" if e.params else ""
        print(shown(f"  {e.source}  {e.name!r}  v{e.version}  ({ins}) -> ({outs}){params}  [{owner}]", 400))
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace) -> int:
    from kinograph.host import get_registry

    registry = get_registry()
    if args.json:
        print(json.dumps([p.to_dict() for p in registry.plugins], indent=2))
    else:
        for info in registry.plugins:
            version = f"{info.dist} {info.version}".strip() or "-"
            status = info.status
            print(f"{info.name:<24} {version:<24} {len(info.node_types):>3} nodes  {status}")
            for error in info.errors:
                print(f"    error: {error}")
            if args.debug and info.detail:
                print(info.detail)
    strict = _strict_problems()
    return strict if strict is not None else EXIT_OK


def cmd_types(args: argparse.Namespace) -> int:
    from kinograph.host import get_registry

    registry = get_registry()
    strict = _strict_problems()
    if strict is not None:
        return strict

    def plugin_of(info: Any) -> dict[str, str]:
        if info is None:  # one of kinograph's own
            return {"name": "kinograph", "dist": "kinograph", "version": __version__}
        return {"name": info.name, "dist": info.dist, "version": info.version}

    types = []
    for name in registry.ports.names():
        port_type = registry.ports.get(name)
        preview = registry.previews.get(name)
        types.append({
            "name": name,
            "description": port_type.description,
            "parent": port_type.parent,
            "color": port_type.color,
            "streaming": port_type.streaming,
            "preview": preview[1].name if preview else None,
            "plugin": plugin_of(registry.type_plugin(name)),
        })
    converters = [
        {
            "from": c.source,
            "to": c.target,
            "description": c.description,
            "plugin": plugin_of(registry.converter_plugin.get((c.source, c.target))),
        }
        for c in registry.ports.converters()
    ]
    if args.json:
        print(json.dumps({"types": types, "converters": converters}, indent=2))
        return EXIT_OK
    _warn_plugins()
    width = max(len(t["name"]) for t in types)
    print("Port types:")
    for t in types:
        parent = f"  (a {t['parent']})" if t["parent"] else ""
        streaming = "  streamed" if t["streaming"] else ""
        preview = "  preview" if t["preview"] else ""
        print(f"  {t['name']:<{width}}  {t['color']}  [{t['plugin']['name']}]{parent}{streaming}{preview}  {t['description']}")
    print("Converters:")
    for c in converters:
        print(f"  {c['from']} -> {c['to']}  [{c['plugin']['name']}]  {c['description']}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from kinograph.host import graph_schema

    print(json.dumps(graph_schema(), indent=2))
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        err("error: no display found: the editor needs a desktop session (DISPLAY or WAYLAND_DISPLAY)")
        err("to run graphs without one, use: kinograph run GRAPH")
        return EXIT_INVALID
    import importlib.util

    if importlib.util.find_spec("PySide6") is None:
        err("error: the desktop editor is not available: PySide6 is not installed (pip install PySide6-Essentials)")
        return EXIT_INVALID
    # The editor is its own program: the CLI starts it instead of importing it (layers).
    command = [sys.executable, "-m", "kinograph.gui", *([args.file] if args.file else [])]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execv(sys.executable, command)
    import subprocess

    return subprocess.call(command)


COMMANDS = {
    "run": cmd_run,
    "validate": cmd_validate,
    "nodes": cmd_nodes,
    "subgraphs": cmd_subgraphs,
    "plugins": cmd_plugins,
    "types": cmd_types,
    "schema": cmd_schema,
    "gui": cmd_gui,
}


def entry() -> None:  # pragma: no cover - console script
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(main())
