"""The files ``--plots DIR`` writes: per-frame plots, motion curves, contact sheets and CSVs.

For each video ``NAME`` of ``evaluate video``: ``NAME_metrics.png`` (warp error, brightness,
sharpness kept, pan jerk per frame), ``NAME_motion.png`` (the measured camera path),
``NAME_contact.png`` (evenly spaced frames with their times) and ``NAME_per_frame.csv``; with
several videos also ``videos_metrics.png``, their curves overlaid. For each video of
``evaluate interpolation``: ``NAME_interpolation.png`` (PSNR and SSIM per rebuilt frame and
method), ``NAME_interpolation_contact.png`` (rows: a dropped frame, then each method's rebuild)
and ``NAME_interpolation_per_frame.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kinograph.api import output_target
from kinograph.plugins.evaluation.contact_sheet import Tile, contact_sheet, grid, save_png, time_label
from kinograph.plugins.evaluation.names import file_stem
from kinograph.plugins.evaluation.plots import save_figure, scatter_figure, series_figure, write_csv

if TYPE_CHECKING:
    from kinograph.plugins.evaluation.interpolation_quality import InterpolationCheck
    from kinograph.plugins.evaluation.video_metrics import VideoMeasures

#: columns of a video's contact sheet
SHEET_COLUMNS = 4
MOTION_CURVES = ("pan_x", "pan_y", "zoom", "rotation")
MOTION_UNITS = {"pan_x": "pan x (widths)", "pan_y": "pan y (heights)", "zoom": "zoom", "rotation": "rotation (deg)"}


def video_figures(measured: Mapping[str, VideoMeasures], folder: Path) -> list[Path]:
    """Write the plots of ``evaluate video`` into ``folder``; return the files written."""
    written: list[Path] = []
    for name, found in measured.items():
        stem = file_stem(name)
        curves = found.curves()
        metric_panels = [
            ("warp error (levels)", {"warp error": curves["warp error (levels)"]}),
            ("brightness (levels)", {"mean brightness": curves["brightness (levels)"]}),
            ("sharpness kept", {"sharpness / first frame": curves["sharpness kept (ratio)"]}),
        ]
        if "pan jerk (widths/s³)" in curves:
            metric_panels.append(("pan jerk (widths/s³)", {"pan jerk": curves["pan jerk (widths/s³)"]}))
        figure = series_figure(f"{name}: per-frame metrics", metric_panels)
        written.append(save_figure(figure, output_target(folder / f"{stem}_metrics.png")))
        if found.motion is not None:
            panels = [(MOTION_UNITS[c], {c: curves[c]}) for c in MOTION_CURVES]
            figure = series_figure(f"{name}: measured camera motion", panels)
            written.append(save_figure(figure, output_target(folder / f"{stem}_motion.png")))
        if found.samples:
            tiles = [Tile(picture, time_label(index, found.fps)) for index, picture in found.samples]
            sheet = contact_sheet(grid(tiles, min(SHEET_COLUMNS, len(tiles))))
            target = output_target(folder / f"{stem}_contact.png")
            save_png(sheet, target)
            written.append(target)
        written.append(write_csv(output_target(folder / f"{stem}_per_frame.csv"), curves))
    if len(measured) > 1:
        keys = [
            ("warp error (levels)", "warp error (levels)"),
            ("brightness (levels)", "brightness (levels)"),
            ("sharpness kept (ratio)", "sharpness kept"),
            ("pan jerk (widths/s³)", "pan jerk (widths/s³)"),
        ]
        panels = [
            (label, {name: found.curves().get(key, []) for name, found in measured.items()}) for key, label in keys
        ]
        figure = series_figure("videos compared, per frame", panels)
        written.append(save_figure(figure, output_target(folder / "videos_metrics.png")))
    return written


def interpolation_figures(checks: Mapping[str, InterpolationCheck], folder: Path) -> list[Path]:
    """Write the plots of ``evaluate interpolation`` into ``folder``; return the files written."""
    written: list[Path] = []
    for name, check in checks.items():
        stem = file_stem(name)
        scores = list(check.scores.values())
        psnr = {s.setting.label: (s.frames, s.psnr) for s in scores}
        ssim = {s.setting.label: (s.frames, s.ssim) for s in scores}
        figure = scatter_figure(f"{name}: rebuilt frames vs the dropped originals", [("PSNR (dB)", psnr), ("SSIM", ssim)])
        written.append(save_figure(figure, output_target(folder / f"{stem}_interpolation.png")))
        rows = []
        for index, pictures in check.samples():
            row = [Tile(pictures["truth"], f"{time_label(index, check.fps)}  original")]
            for s in scores:
                at = s.frames.index(index)
                value = s.psnr[at]
                shown = "inf" if math.isinf(value) else f"{value:.1f}"
                row.append(Tile(pictures[s.setting.label], f"{s.setting.label}  {shown} dB"))
            rows.append(row)
        if rows:
            target = output_target(folder / f"{stem}_interpolation_contact.png")
            save_png(contact_sheet(rows), target)
            written.append(target)
        columns: dict[str, list[float]] = {}
        length = max((max(s.frames) + 1 for s in scores if s.frames), default=0)
        for s in scores:
            for metric, values in (("psnr", s.psnr), ("ssim", s.ssim)):
                column = [math.nan] * length
                for index, value in zip(s.frames, values, strict=True):
                    column[index] = value
                columns[f"{s.setting.label} {metric}"] = column
        written.append(write_csv(output_target(folder / f"{stem}_interpolation_per_frame.csv"), columns))
    return written
