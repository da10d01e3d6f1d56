"""Side-by-side videos: two results next to each other, each labelled, for people to judge.

The right video is scaled to the left one's height and timed by the left one's frame rate (by
timestamps, so a 12 fps and a 24 fps result stay in step); when one ends first its last frame
stays. Encoding is the media pack's Write video node: H.264, written to a temporary name and
published only when complete.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kinograph.api import FrameStream, KinographError, RunContext
from kinograph.plugins.media.load_video import constant_rate, decoded_frames, frames_between, probe
from kinograph.plugins.media.write_video import WriteVideo

if TYPE_CHECKING:
    import numpy as np

#: gap between the two pictures, in pixels
GAP = 4


def labelled(frame: np.ndarray, text: str) -> np.ndarray:
    """A copy of ``frame`` with ``text`` on a dark box in its top-left corner."""
    import cv2
    import numpy as np

    out = np.array(frame)
    h = out.shape[0]
    scale = max(0.4, h / 720 * 0.9)
    thickness = max(1, round(scale * 2))
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    pad = max(3, round(6 * scale))
    cv2.rectangle(out, (0, 0), (tw + 2 * pad, th + base + 2 * pad), (0, 0, 0), -1)
    cv2.putText(out, text, (pad, pad + th), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def side_by_side(left: np.ndarray, right: np.ndarray, left_label: str, right_label: str) -> np.ndarray:
    """``left`` and ``right`` (scaled to the left's height) in one frame, each with its label."""
    import cv2
    import numpy as np

    h = left.shape[0]
    if right.shape[0] != h:
        w = max(1, round(right.shape[1] * h / right.shape[0]))
        right = cv2.resize(right, (w, h), interpolation=cv2.INTER_AREA if right.shape[0] > h else cv2.INTER_LINEAR)
    gap = np.zeros((h, GAP, 3), np.uint8)
    return np.ascontiguousarray(np.hstack([labelled(left, left_label), gap, labelled(right, right_label)]))


def write_frames(frames: Iterable[np.ndarray], path: Path, fps: float, ctx: RunContext | None = None) -> Path:
    """Encode RGB frames (all one size) as an H.264 MP4 at ``path`` with Write video."""
    iterator = iter(frames)
    try:
        first = next(iterator)
    except StopIteration:
        raise KinographError(f"nothing to write to {path}: there are no frames") from None
    h, w = first.shape[:2]
    stream = FrameStream.from_frames(itertools.chain([first], iterator), fps=fps, width=w, height=h)
    params = WriteVideo.Params(path=str(path), crf=18, preset="fast", copy_audio=False)
    return Path(WriteVideo(params).run(ctx or RunContext("compare"), frames=stream)["path"])


def held_pairs(left: Iterator[np.ndarray], right: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs until both end; the one that ends first keeps showing its last frame."""
    last_left = last_right = None
    for a, b in itertools.zip_longest(left, right):
        last_left = a if a is not None else last_left
        last_right = b if b is not None else last_right
        if last_left is None or last_right is None:
            return  # one of them has no frames at all
        yield last_left, last_right


def compare_videos(first: str, second: str, out: Path, labels: tuple[str, str] | None = None) -> Path:
    """Write ``first`` and ``second`` side by side (timed by ``first``'s frame rate) to ``out``."""
    info_a, info_b = probe(first), probe(second)
    left_label, right_label = labels or distinct_names(first, second)
    left = (pixels for _, pixels in decoded_frames(first, 0.0, None, info_a.rotation))
    # B's frames at A's rate, as many as B's duration holds at that rate
    count = frames_between(0.0, info_b.duration, info_a.fps) if info_b.duration else None
    right = constant_rate(decoded_frames(second, 0.0, None, info_b.rotation), 0.0, info_a.fps, count)
    frames = (side_by_side(a, b, left_label, right_label) for a, b in held_pairs(left, right))
    return write_frames(frames, out, info_a.fps)


def distinct_names(first: str, second: str) -> tuple[str, str]:
    """Short labels for two files: their names, with the folder when the names match."""
    a, b = Path(first), Path(second)
    if a.name != b.name:
        return a.name, b.name
    return f"{a.parent.name}/{a.name}", f"{b.parent.name}/{b.name}"
