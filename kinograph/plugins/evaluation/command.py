"""``kinograph evaluate``: objective metrics of videos, with plots and contact sheets for people.

Each kind of evaluation is one :class:`Command` record in :data:`SUBCOMMANDS` (name, help,
configure, run); ``evaluate`` adds a sub-parser per record, so another kind (``motion``, say)
is one more entry. Every kind prints a table (rich on a terminal), and the shared options
write the same numbers as JSON (``--json``), PNG plots and contact sheets (``--plots``) and a
labelled side-by-side video (``--compare A B``).

Nothing heavy is imported until a command runs, so ``kinograph --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinograph.api import Command, KinographError, NodeFailure
from kinograph.plugins.evaluation.names import display_names, file_stem
from kinograph.plugins.learned.commands import EVALUATE_MOTION

if TYPE_CHECKING:
    import numpy as np

    from kinograph.plugins.evaluation.interpolation_quality import InterpolationCheck, Setting
    from kinograph.plugins.evaluation.report import Report
    from kinograph.plugins.evaluation.video_metrics import VideoMeasures

EXIT_OK, EXIT_FAILED = 0, 1


def err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


# -- shared options and output ----------------------------------------------------------------


def add_output_options(parser: argparse.ArgumentParser, compare_help: str) -> None:
    """``--json``, ``--plots`` and ``--compare``: what every kind of evaluation offers."""
    parser.add_argument("--json", metavar="FILE", help="also write the numbers printed as JSON ('-': to stdout, the table to stderr)")
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots, contact sheets and per-frame CSV files into DIR")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help=compare_help)
    parser.add_argument("--sheet", type=int, default=None, metavar="N", help="frames (or rows) on a contact sheet")


def emit(report: Report, args: argparse.Namespace) -> None:
    """Print the table and write ``--json``: the very same rounded numbers."""
    if args.json == "-":
        report.print(sys.stderr)
        sys.stdout.write(report.json_text())
        sys.stdout.flush()
        return
    report.print(sys.stdout)
    if args.json:
        path = write_text(Path(args.json), report.json_text())
        err(f"wrote {path}")


def write_text(path: Path, text: str) -> Path:
    from kinograph.api import atomic_output, output_target

    target = output_target(path)
    with atomic_output(target) as temp:
        temp.write_text(text, encoding="utf-8")
    return target


def output_folder(args: argparse.Namespace) -> Path:
    """Where plots and side-by-side videos go: ``--plots DIR``, else the current folder."""
    folder = Path(args.plots) if args.plots else Path.cwd()
    if folder.exists() and not folder.is_dir():
        raise KinographError(f"--plots {folder} is a file, not a folder; name a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KinographError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    return folder


def check_videos(paths: Sequence[str]) -> dict[str, Any]:
    """Probe every input before any work: a missing or unreadable file is a usage error."""
    from kinograph.plugins.media.load_video import probe

    infos = {}
    for path in dict.fromkeys(paths):
        target = Path(path)
        if not target.exists():
            raise KinographError(f"video file not found: {path} (check the path)")
        if target.is_dir():
            raise KinographError(f"{path} is a folder, not a video file")
        try:
            infos[path] = probe(path)
        except NodeFailure as exc:
            raise KinographError(str(exc)) from None
    return infos


def decoded_chunks(path: str, info: Any, chunk: int = 8) -> Iterator[np.ndarray]:
    """The video's upright RGB frames in ``[n, H, W, 3]`` chunks, decoded as they are pulled."""
    from kinograph.api import FrameStream
    from kinograph.plugins.media.load_video import decoded_frames

    frames = (pixels for _, pixels in decoded_frames(path, 0.0, None, info.rotation))
    stream = FrameStream.from_frames(frames, fps=info.fps, width=info.width, height=info.height, chunk_size=chunk)
    for piece in stream:
        yield piece.pixels


def wrote(path: Path) -> None:
    err(f"wrote {path}")


# -- evaluate video ---------------------------------------------------------------------------


def configure_video(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="*", metavar="VIDEO", help="video files (any, not only kinograph's)")
    add_output_options(parser, "write a labelled side-by-side video of files A and B (into --plots DIR or here)")


def run_video(args: argparse.Namespace) -> int:
    from kinograph.plugins.evaluation.video_metrics import SHEET_FRAMES, measure_video, new_report

    videos = list(args.videos) or list(args.compare or [])
    if not videos:
        raise KinographError("name at least one video to evaluate (or two with --compare A B)")
    sheet = _sheet(args, SHEET_FRAMES)
    infos = check_videos([*videos, *(args.compare or [])])
    folder = output_folder(args) if args.plots or args.compare else None
    report = new_report()
    failed = 0
    names = display_names(videos)
    measured: dict[str, VideoMeasures] = {}
    for path, name in zip(videos, names, strict=True):
        err(f"measuring {name} ...")
        try:
            info = infos[path]
            found = measure_video(decoded_chunks(path, info), info.fps, sheet_frames=sheet, frame_count=info.frames)
        except KinographError as exc:
            err(f"error: {name}: {exc}")
            failed += 1
            continue
        report.add(found.summary(name))
        report.curves[name] = found.curves()
        report.notes.extend(f"{name}: {w}" for w in found.warnings)
        measured[name] = found
    if args.plots and folder is not None:
        from kinograph.plugins.evaluation.figures import video_figures

        for path in video_figures(measured, folder):
            wrote(path)
    if args.compare and folder is not None:
        from kinograph.plugins.evaluation.side_by_side import compare_videos, distinct_names

        a, b = args.compare
        labels = distinct_names(a, b)
        out = folder / f"{file_stem(labels[0])}_vs_{file_stem(labels[1])}.mp4"
        wrote(compare_videos(a, b, out, labels))
    emit(report, args)
    return EXIT_FAILED if failed else EXIT_OK


# -- evaluate interpolation -------------------------------------------------------------------


def configure_interpolation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="real footage: every other frame is dropped and rebuilt")
    parser.add_argument("--methods", default="flow,blend", help="comma-separated: flow, blend (default: flow,blend)")
    parser.add_argument("--presets", default="medium", help="flow presets, comma-separated: ultrafast, fast, medium (default: medium)")
    parser.add_argument("--backend", choices=["opencv", "torch"], default="opencv", help="warp backend of the flow method")
    add_output_options(
        parser,
        "write the videos rebuilt by two methods side by side, e.g. --compare flow blend "
        "(a flow preset as flow:fast), one per VIDEO, into --plots DIR or here",
    )


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def pick_setting(settings: Sequence[Setting], name: str) -> Setting:
    """The setting a ``--compare`` name means: ``blend``, ``flow`` (first preset) or ``flow:fast``."""
    method, _, preset = name.replace(" ", ":").partition(":")
    for setting in settings:
        if setting.method == method and (not preset or setting.preset == preset or method == "blend"):
            return setting
    known = ", ".join(s.label.replace(" ", ":") for s in settings)
    raise KinographError(f"--compare {name!r} is not among the methods evaluated ({known})")


def run_interpolation(args: argparse.Namespace) -> int:
    from kinograph.plugins.evaluation.interpolation_quality import SHEET_ROWS, new_report, settings_for

    settings = settings_for(split_list(args.methods), split_list(args.presets))
    pair = tuple(pick_setting(settings, name) for name in args.compare) if args.compare else None
    sheet = _sheet(args, SHEET_ROWS)
    infos = check_videos(args.videos)
    folder = output_folder(args) if args.plots or args.compare else None
    report = new_report()
    failed = 0
    checks: dict[str, InterpolationCheck] = {}
    for path, name in zip(args.videos, display_names(args.videos), strict=True):
        err(f"rebuilding every other frame of {name} ...")
        try:
            check = _check_one(path, infos[path], settings, args.backend, sheet, pair, folder, name)
        except KinographError as exc:
            err(f"error: {name}: {exc}")
            failed += 1
            continue
        for setting in settings:
            report.add(check.scores[setting].summary(name))
        checks[name] = check
    if args.plots and folder is not None:
        from kinograph.plugins.evaluation.figures import interpolation_figures

        for path in interpolation_figures(checks, folder):
            wrote(path)
    emit(report, args)
    return EXIT_FAILED if failed else EXIT_OK


def _check_one(
    path: str, info: Any, settings: list[Setting], backend: str, sheet: int,
    pair: tuple[Setting, ...] | None, folder: Path | None, name: str,
) -> InterpolationCheck:
    from kinograph.plugins.evaluation.interpolation_quality import InterpolationCheck

    check = InterpolationCheck(
        settings, info.fps, info.height, info.width, backend=backend, sheet_rows=sheet, frame_count=info.frames
    )
    frames = (frame for chunk in decoded_chunks(path, info) for frame in chunk)
    if pair is None or folder is None:
        for frame in frames:
            check.add(frame)
        _enough_frames(check, path)
        return check
    from kinograph.plugins.evaluation.side_by_side import side_by_side, write_frames

    left, right = pair

    def rebuilt() -> Iterator[np.ndarray]:
        for frame in frames:
            made = check.add(frame)
            if made is not None:
                for a, b in zip(made[left.label], made[right.label], strict=True):
                    yield side_by_side(a, b, left.label, right.label)
        _enough_frames(check, path)  # before the last frame: a failed check publishes no video
        last = check.finish()
        if last is not None:
            yield side_by_side(last, last, left.label, right.label)

    out = folder / f"{file_stem(name)}_{file_stem(left.label)}_vs_{file_stem(right.label)}.mp4"
    wrote(write_frames(rebuilt(), out, info.fps))
    return check


def _enough_frames(check: InterpolationCheck, path: str) -> None:
    if check.count < 3:
        raise KinographError(f"{path} has {check.count} frame(s); dropping every other frame needs at least 3")


def _sheet(args: argparse.Namespace, default: int) -> int:
    if args.sheet is None:
        return default
    if not 1 <= args.sheet <= 200:
        raise KinographError(f"--sheet {args.sheet}: give 1 to 200")
    return int(args.sheet)


# -- the command ------------------------------------------------------------------------------

#: The kinds of evaluation: one record each. Another kind is one more entry here.
SUBCOMMANDS: list[Command] = [
    Command(
        "interpolation",
        "drop every other frame of real footage, rebuild it, report PSNR and SSIM",
        configure_interpolation,
        run_interpolation,
        description=(
            "Drops every other frame of each VIDEO, rebuilds it with the Interpolate frames node "
            "(each method and flow preset) and scores the rebuilt frames against the dropped "
            "originals: PSNR (dB; inf when a frame is rebuilt exactly) and SSIM."
        ),
    ),
    Command(
        "video",
        "temporal consistency, motion smoothness, flicker and sharpness of any video",
        configure_video,
        run_video,
        description=(
            "Measures each VIDEO as it streams: warp error between neighbouring frames, jerk of "
            "the camera motion, flicker of the brightness, sharpness kept from the first frame."
        ),
    ),
    EVALUATE_MOTION,  # the learned pack's: generated vs measured camera motion
]


def configure(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="evaluation", metavar="KIND", required=True)
    for command in SUBCOMMANDS:
        sub = kinds.add_parser(command.name, help=command.help, description=command.description or command.help)
        command.configure(sub)
        sub.set_defaults(evaluate_run=command.run)
        try:  # after the kind, too: `kinograph evaluate video x.mp4 --debug`
            sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
        except argparse.ArgumentError:
            pass


def run(args: argparse.Namespace) -> int:
    return int(args.evaluate_run(args))


EVALUATE = Command(
    "evaluate",
    "objective metrics of videos, with plots and contact sheets",
    configure,
    run,
    description=(
        "Objective metrics for generated or processed video. Every kind prints a table, "
        "--json FILE writes the same numbers, --plots DIR adds PNG plots and contact sheets, "
        "--compare A B a labelled side-by-side video."
    ),
)
