"""Where a batch's inputs come from: a glob, a folder, ``@list.txt`` or ``@table.csv:column``.

A source gives a list of values, one per job. Files found by a glob or in a folder come in
natural order (``img2`` before ``img10``), so job numbers follow the way people number files.
Values read from a list or a table that look like relative paths are resolved against that
file's folder (a dataset's CSV names its files relative to itself); values from a glob or a
folder are absolute.
"""

from __future__ import annotations

import csv
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinograph.host import KinographError

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> list[Any]:
    """Sort key that orders ``img2`` before ``img10``: runs of digits compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text.lower())]


@dataclass(frozen=True)
class SourceValues:
    """The values of one source and where relative ones resolve (None: they are not paths)."""

    spec: str
    values: list[str]
    base_dir: Path | None


def read_source(spec: str) -> SourceValues:
    """Expand a source spec into its values; a source that gives nothing is an error."""
    if not spec:
        raise KinographError("empty source: give a glob, a folder, @list.txt or @table.csv:column")
    if spec.startswith("@"):
        values, base = _read_listing(spec)
    else:
        values, base = _expand_files(spec), None
    if not values:
        raise KinographError(f"source {spec} gives no values (check the path or pattern)")
    return SourceValues(spec, values, base)


def _expand_files(spec: str) -> list[str]:
    path = Path(os.path.expanduser(spec))
    if path.is_dir():
        found = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    elif glob.has_magic(spec):
        found = [Path(p) for p in glob.glob(os.path.expanduser(spec), recursive=True) if Path(p).is_file()]
        if not found:
            raise KinographError(f"no files match {spec}")
    elif path.is_file():
        found = [path]
    else:
        raise KinographError(
            f"no file or folder at {spec}; a source is a glob (photos/*.jpg), a folder, "
            "@list.txt or @table.csv:column"
        )
    if not found and path.is_dir():
        raise KinographError(f"the folder {spec} holds no files")
    absolute = [os.path.abspath(p) for p in found]
    return sorted(absolute, key=natural_key)


def _read_listing(spec: str) -> tuple[list[str], Path]:
    """``@list.txt`` (one value a line; blank lines and ``#`` comments skipped) or ``@t.csv:col``."""
    body = spec[1:]
    column: str | None = None
    head, colon, tail = body.rpartition(":")
    if colon and head.lower().endswith(".csv"):
        body, column = head, tail
    path = Path(os.path.expanduser(body))
    if not path.is_file():
        raise KinographError(f"cannot read {spec}: there is no file {body}")
    if path.suffix.lower() == ".csv" and column is None:
        raise KinographError(f"{spec}: name the column to read, e.g. @{body}:path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KinographError(f"cannot read {body}: {exc}") from None
    if column is None:
        values = [line.strip() for line in text.splitlines()]
        values = [v for v in values if v and not v.startswith("#")]
    else:
        values = _csv_column(text, column, body)
    return values, path.resolve().parent


def _csv_column(text: str, column: str, name: str) -> list[str]:
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise KinographError(f"{name} is empty: it needs a header row naming its columns")
    header = [cell.strip() for cell in rows[0]]
    if column not in header:
        raise KinographError(f"{name} has no column {column!r} (it has: {', '.join(header) or 'none'})")
    index = header.index(column)
    values = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if index >= len(row) or not row[index].strip():
            raise KinographError(f"{name} line {number}: no value in column {column!r}")
        values.append(row[index].strip())
    return values
