"""Reports: the numbers an evaluation found, printed as a table and written as JSON alike.

Values are rounded once, when a result is added, to the decimals its table column shows; the
table and the JSON are both made from those rounded values, so ``float(cell) == json value``
for every number. An infinite value (PSNR of identical frames) is printed ``inf`` and written
as the JSON string ``"inf"`` (``float("inf")`` reads it back): JSON has no infinity, and a
clamp such as 100 dB would look like a score. A value that cannot be measured (too few frames)
is printed ``n/a`` and written as ``null``.

A :class:`Report` is also the value of the ``Metrics`` port: the metric nodes output one, and
the editor's viewer shows its :meth:`Report.table` and :attr:`Report.curves`.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Literal

#: how an infinite value appears in the table and in the JSON
INFINITE = "inf"
#: how a value that could not be measured appears in the table (JSON: null)
MISSING = "n/a"
#: a terminal table column is at least this wide or as wide as its longest cell
MAX_CELL = 40


@dataclass(frozen=True)
class Measure:
    """One number (or label) of a result: its JSON key, table title, unit and shown decimals.

    ``decimals=None`` shows the value as it is (names, counts).
    """

    key: str
    title: str
    unit: str = ""
    decimals: int | None = None
    help: str = ""


def rounded(value: Any, decimals: int | None) -> Any:
    """``value`` as it is reported: rounded to ``decimals``, ``"inf"`` for infinity, None for NaN."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int) and decimals is None:
        return value
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return INFINITE if number > 0 else "-" + INFINITE
    if decimals is None:
        return number
    result = round(number, decimals)
    return 0.0 if result == 0 else result  # never "-0.00"


def cell(value: Any, decimals: int | None) -> str:
    """The table text of a value already :func:`rounded`."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if decimals is None or isinstance(value, bool):
        return str(value)
    return f"{value:.{decimals}f}"


@dataclass
class Report:
    """What one evaluation found: a result per video (or per video, method and preset).

    ``layout`` "rows" prints one table row per result; "columns" prints one column per result
    and one row per measure (good for comparing a few videos on many metrics); ``label`` is the
    measure that names each result there. ``curves`` holds per-frame values for plots, by
    result name then series name; they are not part of the table or the JSON.
    """

    kind: str
    title: str
    measures: list[Measure]
    layout: Literal["rows", "columns"] = "rows"
    label: str = "video"
    results: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, values: dict[str, Any]) -> dict[str, Any]:
        """Add a result (raw values by measure key); it is kept rounded as reported."""
        known = {m.key for m in self.measures}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown measures {sorted(unknown)}; known: {sorted(known)}")
        result = {m.key: rounded(values.get(m.key), m.decimals) for m in self.measures}
        self.results.append(result)
        return result

    # -- as a table --

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The table as printed: header and rows of cell texts."""
        if self.layout == "rows":
            header = [f"{m.title} ({m.unit})" if m.unit else m.title for m in self.measures]
            rows = [[cell(r[m.key], m.decimals) for m in self.measures] for r in self.results]
            return header, rows
        header = ["metric", "unit", *[str(r[self.label]) for r in self.results]]
        rows = [
            [m.title, m.unit or "-", *[cell(r[m.key], m.decimals) for r in self.results]]
            for m in self.measures
            if m.key != self.label
        ]
        return header, rows

    def plain_text(self) -> str:
        """The table as aligned plain text (columns apart by at least two spaces)."""
        header, rows = self.table()
        widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
        lines = [self.title]
        for line in [header, *rows]:
            lines.append("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip())
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def print(self, out: IO[str] | None = None) -> None:
        """Print the table: with rich on a terminal, as plain aligned text otherwise."""
        out = out or sys.stdout
        if not out.isatty():
            out.write(self.plain_text() + "\n")
            out.flush()
            return
        from rich.console import Console
        from rich.table import Table

        header, rows = self.table()
        table = Table(title=self.title, title_justify="left")
        numeric_from = 2 if self.layout == "columns" else 0
        # every cell keeps its whole text on a narrow terminal (a cut number would mislead):
        # headings wrap instead, and a table that still does not fit is printed wider
        widths = [
            min(MAX_CELL, max([len(row[i]) for row in rows] + [len(word) for word in header[i].split()]))
            for i in range(len(header))
        ]
        for i, name in enumerate(header):
            numeric = i >= numeric_from and all(_looks_numeric(row[i]) for row in rows)
            table.add_column(name, justify="right" if numeric else "left", width=widths[i], overflow="fold")
        for row in rows:
            table.add_row(*row)
        console = Console(file=out, highlight=False)
        needed = sum(widths) + 3 * len(widths) + 1
        if needed > console.width:
            console = Console(file=out, highlight=False, width=needed)
        console.print(table)
        for note in self.notes:
            console.print(f"note: {note}", markup=False)

    # -- as JSON --

    def as_json(self) -> dict[str, Any]:
        """The JSON document ``--json`` writes: the same rounded values the table shows."""
        return {
            "format": "kinograph.evaluation",
            "kind": self.kind,
            "title": self.title,
            "units": {m.key: m.unit for m in self.measures if m.unit},
            "results": [dict(r) for r in self.results],
            "notes": list(self.notes),
        }

    def json_text(self) -> str:
        return json.dumps(self.as_json(), indent=2, allow_nan=False) + "\n"


def _looks_numeric(text: str) -> bool:
    if text in (INFINITE, "-" + INFINITE, MISSING):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True
