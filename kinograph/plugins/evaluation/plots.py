"""PNG plots of per-frame metrics and camera motion (matplotlib, drawn off-screen with Agg).

Figures are made with ``matplotlib.figure.Figure`` directly, never through pyplot: no global
state, no GUI backend, safe beside the editor's Qt. Every file is written atomically.
Non-finite values (a pair across a cut, an exact frame's infinite PSNR) are gaps in a curve.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kinograph.api import atomic_output

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def save_figure(figure: Any, path: Path) -> Path:
    """Write a matplotlib figure as PNG at ``path`` (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    with atomic_output(path) as temp:
        temp.write_bytes(buffer.getvalue())
    return path


def _gaps(values: Sequence[float]) -> list[float]:
    return [v if v is not None and math.isfinite(v) else math.nan for v in values]


def series_figure(title: str, panels: Sequence[tuple[str, Mapping[str, Sequence[float]]]], x_label: str = "frame") -> Any:
    """One panel per (y label, {curve name: values}) stacked over a shared frame axis."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 2.0 * len(panels) + 0.8), layout="constrained")
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (label, curves) in zip(axes, panels, strict=True):
        for i, (name, values) in enumerate(curves.items()):
            xs = list(range(len(values)))
            ax.plot(xs, _gaps(values), color=COLORS[i % len(COLORS)], linewidth=1.3, label=name)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if len(curves) > 1:
            ax.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel(x_label)
    figure.suptitle(title)
    return figure


def scatter_figure(title: str, panels: Sequence[tuple[str, Mapping[str, tuple[Sequence[int], Sequence[float]]]]]) -> Any:
    """Like :func:`series_figure`, with explicit x positions (the frames that were scored)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 2.4 * len(panels) + 0.8), layout="constrained")
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (label, curves) in zip(axes, panels, strict=True):
        for i, (name, (xs, values)) in enumerate(curves.items()):
            ax.plot(list(xs), _gaps(values), marker=".", color=COLORS[i % len(COLORS)], linewidth=1.0, label=name)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("frame (dropped and rebuilt)")
    figure.suptitle(title)
    return figure


def write_csv(path: Path, columns: Mapping[str, Sequence[Any]], index_name: str = "frame") -> Path:
    """Per-frame values as CSV, one column per series (empty cells for gaps), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    length = max((len(v) for v in columns.values()), default=0)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([index_name, *columns])
    for k in range(length):
        row: list[Any] = [k]
        for values in columns.values():
            value = values[k] if k < len(values) else None
            if isinstance(value, float) and math.isinf(value):
                row.append("inf")
            elif value is None or (isinstance(value, float) and math.isnan(value)):
                row.append("")
            else:
                row.append(f"{value:.6g}" if isinstance(value, float) else value)
        writer.writerow(row)
    with atomic_output(path) as temp:
        temp.write_text(text.getvalue(), encoding="utf-8")
    return path
