"""``kinograph batch``: one graph over many inputs, resumable, locally or on a Ray cluster.

The command line is parsed here, with the host's ``--set`` parsing; the batch engine gets plain
data. kinograph's own ``builtin.batch`` entry point contributes it through the
``kinograph_commands`` hook (:mod:`kinograph.batch.plugin`), so the CLI never imports batch. Nothing heavy is imported until the command runs, so
``kinograph --help`` stays fast.

Exit codes: 0 every job done (or finished before), 1 some input failed, 2 bad usage or an
invalid graph, 130 cancelled (Ctrl+C; 143 on SIGTERM, 129 on SIGHUP, as ``kinograph run``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130
#: failed jobs listed in the closing summary; the report and the manifest hold them all
SHOWN_FAILURES = 20

DESCRIPTION = """\
Run one graph over many inputs. Each --over sets a param from a source, one value per job:
a glob (photos/*.jpg), a folder (its files in natural order), @list.txt (one value a line) or
@table.csv:column; several --over zip together. Each --out names a job's output from a
template: {stem} {name} {suffix} {parent} {value} {index} (e.g. {index:05d}), taken from the
first --over. Finished jobs are recorded in a manifest and skipped on the next run when the
graph, the params, the input files and the outputs are unchanged."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the batch command's arguments to ``parser``."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "Exit codes: 0 all done, 1 an input failed, 2 bad usage or graph, 130 cancelled."
    parser.add_argument("graph", help="graph file (.json)")
    parser.add_argument("--over", action="append", default=[], required=True, metavar="NODE.PARAM=SOURCE",
                        help="a param set per job from a glob, folder, @list.txt or @table.csv:column (repeatable; zipped)")
    parser.add_argument("--out", action="append", default=[], metavar="NODE.PARAM=TEMPLATE",
                        help="an output path per job, e.g. write.path=out/{stem}.mp4 (repeatable)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                        help="a param set the same in every job (repeatable)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: worker processes on this machine (default); ray: Ray actors (kinograph[ray])")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="how many workers (default: one per GPU, else as many as the CPUs and memory allow)")
    parser.add_argument("--address", metavar="ADDR", help="Ray cluster to connect to (default: start a local Ray)")
    parser.add_argument("--gpus-per-worker", type=float, metavar="G",
                        help="GPUs each worker is pinned to (default 1 when there are GPUs, else 0)")
    parser.add_argument("--retries", type=int, default=1, metavar="R",
                        help="retry a failed input up to R more times (default 1); a crashed worker counts as a try")
    parser.add_argument("--job-timeout", type=float, metavar="S",
                        help="stop a job that runs longer than S seconds (its worker is replaced; counts as a try)")
    parser.add_argument("--manifest", metavar="FILE",
                        help="resume record (default: .kinograph-batch.jsonl in the common output folder)")
    parser.add_argument("--no-resume", action="store_true", help="run every job, even those finished before")
    parser.add_argument("--report", metavar="FILE", help="write a JSON report of every job")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps (default auto)")
    parser.add_argument("--no-cache", action="store_true", help="bypass the value cache in the workers")
    parser.add_argument("--dry-run", action="store_true", help="list the jobs and their outputs; run nothing")
    parser.add_argument("--events", choices=["json"], help="print job events as NDJSON on stdout")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def _split(option: str, text: str) -> tuple[str, str, str]:
    from kinograph.host import GraphError, Problem

    target, sep, value = text.partition("=")
    node, dot, param = target.partition(".")
    if not sep or not dot or not node or not param:
        raise GraphError(Problem(f"{option} {text}", f"expected NODE.PARAM=VALUE after {option}"))
    return node, param, value


def run(args: argparse.Namespace) -> int:
    """Run the batch command; returns the exit code."""
    from kinograph.batch import Batch, Out, Over
    from kinograph.host import CancelToken, GraphError, Problem, load_graph, parse_override, stop_on_signals

    graph = load_graph(args.graph)
    params: dict[tuple[str, str], Any] = {}
    problems: list[Problem] = []
    for text in args.overrides:
        try:
            node, name, value = parse_override(graph, text)
            params[(node, name)] = value
        except GraphError as exc:
            problems.extend(exc.problems)
    if problems:
        raise GraphError(problems)
    over = [Over(*_split("--over", text)) for text in args.over]
    out = [Out(*_split("--out", text)) for text in args.out]
    batch = Batch(args.graph, over, out, params, manifest=args.manifest)
    if args.dry_run:
        return _dry_run(batch, args)

    subscribers: list[Any] = []
    if args.events == "json":
        from kinograph.batch.progress import JsonBatchEvents

        subscribers.append(JsonBatchEvents())
    elif sys.stderr.isatty():
        from kinograph.batch.progress import BatchProgressBar

        subscribers.append(BatchProgressBar())
    else:
        from kinograph.batch.progress import PlainBatchLines

        subscribers.append(PlainBatchLines())
    cancel = CancelToken()
    with stop_on_signals(cancel.cancel, _err) as stop:
        result = batch.run(
            engine=args.engine,
            workers=args.workers,
            address=args.address,
            gpus_per_worker=args.gpus_per_worker,
            retries=args.retries,
            job_timeout=args.job_timeout,
            device=args.device,
            use_cache=not args.no_cache,
            resume=not args.no_resume,
            report=args.report,
            subscribers=subscribers,
            cancel=cancel,
        )
    return _summarize(result, args, stop.exit_code)


def _summarize(result: Any, args: argparse.Namespace, cancelled_code: int = EXIT_CANCELLED) -> int:
    summary = result.summary()
    if args.events != "json":
        failed = result.failed
        for job in failed[:SHOWN_FAILURES]:
            _err(f"error: job {job.job.index} ({job.job.label}) failed: {job.error}")
            if args.debug and job.traceback:
                _err(job.traceback)
        if len(failed) > SHOWN_FAILURES:
            more = "--report FILE" if not args.report else args.report
            _err(f"error: and {len(failed) - SHOWN_FAILURES} more failed jobs (all of them: {more})")
    _err(
        f"batch {summary['status']} in {summary['seconds']:.1f} s: {summary['done']} done, "
        f"{summary['failed']} failed, {summary['skipped']} finished before"
        + (f", {summary['cancelled']} not run" if summary["cancelled"] else "")
        + f" ({summary['jobs_per_minute']:.1f} jobs/min); manifest {result.manifest}"
    )
    if result.status == "cancelled":
        return cancelled_code
    return EXIT_OK if result.ok else EXIT_FAILED


def _dry_run(batch: Any, args: argparse.Namespace) -> int:
    """List each job with its inputs, outputs and whether it would run or be skipped."""
    finished = batch.finished_before() if not args.no_resume else set()  # reads only: creates nothing
    for job in batch.jobs:
        action = "skip" if job.key in finished else "run"
        if args.events == "json":
            print(json.dumps({"event": "job_planned", "action": action, **job.to_dict()}, default=str))
        else:
            inputs = ", ".join(f"{k}={v}" for k, v in job.inputs.items())
            targets = ", ".join(f"{k}={v}" for k, v in job.targets.items())
            print(f"{job.index:>5}  {action:<4}  {inputs}  ->  {targets}")
    runs = sum(1 for job in batch.jobs if job.key not in finished)
    _err(f"dry run: {len(batch.jobs)} job(s), {runs} to run, {len(batch.jobs) - runs} finished before; "
         f"manifest {batch.manifest.path}")
    return EXIT_OK
