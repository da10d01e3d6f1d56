"""Output templates: ``out/{stem}.mp4`` names each job's output from its first input.

Fields (from the first ``--over`` value): ``{stem}`` (file name without suffix), ``{name}``
(file name), ``{suffix}`` (``.jpg``), ``{parent}`` (name of the folder holding it), ``{value}``
(the value as given) and ``{index}`` (the job's number, from 0; ``{index:05d}`` pads it).
Only these plain names are allowed: no attribute or item access (``{name.__class__}``).
"""

from __future__ import annotations

import os
import string
from pathlib import PurePath

from kinograph.host import KinographError

FIELDS = ("stem", "name", "suffix", "parent", "value", "index")


def check_template(template: str) -> None:
    """Refuse a template with an unknown field or a broken brace before anything runs."""
    if not template:
        raise KinographError("empty output template: give a path such as out/{stem}.mp4")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise KinographError(f"output template {template}: {exc} (write a literal brace as {{{{ or }}}})") from None
    for _, field, _, _ in parsed:
        if field is not None and field not in FIELDS:
            raise KinographError(
                f"output template {template}: unknown field {{{field}}} (use {', '.join('{' + f + '}' for f in FIELDS)})"
            )


def fields_for(value: object, index: int) -> dict[str, object]:
    """The template fields of one job, from its first input value."""
    text = str(value)
    path = PurePath(text)
    return {
        "stem": path.stem,
        "name": path.name,
        "suffix": path.suffix,
        "parent": path.parent.name,
        "value": text,
        "index": index,
    }


def render_template(template: str, value: object, index: int) -> str:
    """The absolute output path of job ``index`` (relative templates: against the current folder)."""
    try:
        text = template.format(**fields_for(value, index))
    except (ValueError, TypeError) as exc:
        raise KinographError(f"output template {template}: {exc}") from None
    return os.path.abspath(os.path.expanduser(text))
