"""Bootstrap footage: procedural photos, and camera moves that follow what is in them.

Without real footage the motion generator still needs clips whose camera move depends on the
photo the way a camera operator's would, or it learns nothing. Each photo is one of four kinds,
and its move follows a rule a person would call sensible (and a test can check):

- ``subject``: a detailed, high-contrast subject somewhere on a calm background. The camera
  pushes in toward it (zoom in, pan toward the subject).
- ``horizon``: a horizontal structure (sky over ground) with detail (a skyline) on one side.
  The camera pans along the horizon toward the detail and, when the horizon is tilted, rolls
  to level it.
- ``vertical``: a tall structure (tower, trunk, waterfall). The camera tilts up along it
  toward its top, drifting toward it sideways.
- ``flat``: a plain colour, a smooth gradient or soft haze. The camera holds still.

Shots are rendered with Animate image's own warp (:mod:`kinograph.plugins.camera.warp`), joined
by hard cuts into H.264 videos, so ``kinograph train`` measures and learns from them exactly as
from a user's footage. Everything is seeded: photo ``i`` of seed ``s`` is the same on every
machine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

KINDS = ("subject", "horizon", "vertical", "flat")
#: Share of each kind among the bootstrap photos.
KIND_WEIGHTS = (0.4, 0.25, 0.15, 0.2)
#: Frame size of the rendered clips (16:9, even).
FRAME_SIZE = (384, 216)
FPS = 24.0
#: The camera move takes this long; the shot then holds for SHOT_TAIL_SECONDS before the cut.
MOVE_SECONDS = 4.0
SHOT_TAIL_SECONDS = 0.25


@dataclass(frozen=True)
class Scene:
    """What a generated photo shows, in the terms its camera rule uses (fractions of the frame)."""

    kind: str
    #: Where the camera should go: the subject, the detailed end of the horizon, the top of the
    #: vertical structure (x, y in [0, 1]); the centre for flat photos.
    target: tuple[float, float] = (0.5, 0.5)
    #: Horizon tilt in degrees (counter-clockwise on screen), 0 for other kinds.
    tilt: float = 0.0
    #: The knobs of the rule drawn for this shot (zoom reached, easing, ...).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CameraMove:
    """One camera state per frame, in :class:`kinograph.api.Motion`'s units (step 0: identity)."""

    pan_x: list[float]
    pan_y: list[float]
    zoom: list[float]
    rotation: list[float]


# -- photos ------------------------------------------------------------------------------------


def make_photo(seed: int, kind: str | None = None, size: tuple[int, int] = FRAME_SIZE) -> tuple[np.ndarray, Scene]:
    """Photo ``seed`` (RGB ``uint8 [H, W, 3]``) and what it shows; ``kind`` None draws one."""
    import numpy as np

    rng = np.random.default_rng([seed, 7919])
    if kind is None:
        kind = str(rng.choice(KINDS, p=KIND_WEIGHTS))
    makers: dict[str, Callable[[Any, tuple[int, int]], tuple[np.ndarray, Scene]]] = {
        "subject": _subject_photo,
        "horizon": _horizon_photo,
        "vertical": _vertical_photo,
        "flat": _flat_photo,
    }
    if kind not in makers:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    photo, scene = makers[kind](rng, size)
    grain = rng.normal(0.0, 1.5, photo.shape)
    return np.clip(photo + grain, 0, 255).astype(np.uint8), scene


def _colour(rng: Any, saturation: float = 0.5, value: tuple[float, float] = (60, 200)) -> np.ndarray:
    import numpy as np

    base = rng.uniform(*value)
    tint = rng.normal(0.0, 1.0, 3)
    return np.clip(base + saturation * 60 * tint / max(1e-6, np.abs(tint).max()), 0, 255)


def _smooth_field(rng: Any, size: tuple[int, int], cells: tuple[int, int], amplitude: float) -> np.ndarray:
    """Low-frequency colour noise [H, W, 3] with values around 0."""
    import cv2
    import numpy as np

    width, height = size
    coarse = rng.normal(0.0, amplitude, (cells[1], cells[0], 3)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float64)


def _calm_background(rng: Any, size: tuple[int, int]) -> np.ndarray:
    """A soft background: a gradient between two related colours plus gentle low-frequency noise."""
    import numpy as np

    width, height = size
    top, bottom = _colour(rng, 0.4), _colour(rng, 0.4)
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:height, 0:width]
    t = (np.cos(angle) * xs / width + np.sin(angle) * ys / height + 1) / 2
    image = top * (1 - t[..., None]) + bottom * t[..., None]
    return image + _smooth_field(rng, size, (5, 3), 10.0) + _grain(rng, size, rng.uniform(10.0, 16.0))


def _grain(rng: Any, size: tuple[int, int], amplitude: float) -> np.ndarray:
    """Faint fine grain [H, W, 1] (foliage, plaster, sand, haze).

    Real backgrounds are never perfectly smooth, and grain keeps the camera measurable
    everywhere while the subject or the skyline stays the most detailed place.
    """
    import cv2

    width, height = size
    grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)), (0, 0), 1.2)
    return (grain * amplitude / max(1e-6, grain.std()))[..., None]


def _texture(rng: Any, size: tuple[int, int]) -> np.ndarray:
    """A detailed, high-contrast texture [H, W] in 0..1: noise, checks, stripes or dots."""
    import cv2
    import numpy as np

    width, height = size
    kind = rng.integers(4)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    if kind == 0:
        noise = rng.random((height, width))
        return cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.6, 1.5))
    period = rng.uniform(5, 12)
    angle = rng.uniform(0, math.pi)
    u = np.cos(angle) * xs + np.sin(angle) * ys
    v = -np.sin(angle) * xs + np.cos(angle) * ys
    if kind == 1:
        return ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float64)
    if kind == 2:
        return 0.5 + 0.5 * np.sin(2 * math.pi * u / period)
    dots = (np.sin(2 * math.pi * u / period) * np.sin(2 * math.pi * v / period)) > 0.3
    return dots.astype(np.float64)


def _shape_mask(rng: Any, size: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    """A filled ellipse, rectangle or star [H, W] in 0..1 (soft edge) around ``centre`` (pixels)."""
    import cv2
    import numpy as np

    width, height = size
    mask = np.zeros((height, width), np.float32)
    cx, cy = centre
    shape = rng.integers(3)
    aspect = rng.uniform(0.7, 1.4)
    if shape == 0:
        axes = (max(2, round(radius * aspect)), max(2, round(radius / aspect)))
        cv2.ellipse(mask, (round(cx), round(cy)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA)
    elif shape == 1:
        box = ((cx, cy), (2 * radius * aspect, 2 * radius / aspect), rng.uniform(-20, 20))
        cv2.fillPoly(mask, [cv2.boxPoints(box).astype(np.int32)], 1.0, cv2.LINE_AA)
    else:
        points = rng.integers(5, 9)
        angles = np.linspace(0, 2 * math.pi, 2 * points, endpoint=False) + rng.uniform(0, math.pi)
        radii = np.where(np.arange(2 * points) % 2 == 0, radius * 1.1, radius * 0.55)
        poly = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], -1)
        cv2.fillPoly(mask, [poly.astype(np.int32)], 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), 0.8).astype(np.float64)


def _paint(image: np.ndarray, mask: np.ndarray, texture: np.ndarray, dark: np.ndarray, light: np.ndarray) -> None:
    """Paint ``texture`` (0..1, mixing ``dark`` and ``light``) into ``image`` where ``mask`` is."""
    pattern = dark * (1 - texture[..., None]) + light * texture[..., None]
    image *= 1 - mask[..., None]
    image += pattern * mask[..., None]


def _contrasting(rng: Any) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    dark = _colour(rng, 0.8, (20, 70))
    light = _colour(rng, 0.8, (170, 240))
    return np.asarray(dark), np.asarray(light)


def _subject_photo(rng: Any, size: tuple[int, int]) -> tuple[np.ndarray, Scene]:
    width, height = size
    image = _calm_background(rng, size)
    x, y = rng.uniform(0.15, 0.85), rng.uniform(0.25, 0.75)
    radius = rng.uniform(0.12, 0.22) * height
    # Faint distractors: shapes with little contrast, so the subject stays the most detailed place.
    for _ in range(rng.integers(0, 3)):
        centre = (rng.uniform(0, width), rng.uniform(0, height))
        mask = 0.25 * _shape_mask(rng, size, centre, rng.uniform(0.05, 0.1) * height)
        _paint(image, mask, _texture(rng, size), image.mean((0, 1)) - 15, image.mean((0, 1)) + 15)
    mask = _shape_mask(rng, size, (x * width, y * height), radius)
    _paint(image, mask, _texture(rng, size), *_contrasting(rng))
    return image, Scene("subject", target=(float(x), float(y)))


def _horizon_photo(rng: Any, size: tuple[int, int]) -> tuple[np.ndarray, Scene]:
    import cv2
    import numpy as np

    width, height = size
    level = rng.uniform(0.4, 0.65)
    tilt = float(rng.choice([0.0, rng.uniform(2.0, 5.0) * rng.choice([-1, 1])]))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    # Positive tilt turns the horizon counter-clockwise on screen: its right end rises.
    horizon = level * height - np.tan(math.radians(tilt)) * (xs - width / 2)
    ground = (ys > horizon).astype(np.float64)
    ground = cv2.GaussianBlur(ground, (0, 0), 0.8)
    sky_top, sky_low = _colour(rng, 0.3, (150, 230)), _colour(rng, 0.3, (170, 245))
    t = np.clip(ys / max(1.0, level * height), 0, 1)[..., None]
    image = sky_top * (1 - t) + sky_low * t + _smooth_field(rng, size, (6, 3), 5.0)
    field_dark, field_light = _colour(rng, 0.6, (40, 90)), _colour(rng, 0.6, (90, 150))
    # Ground: horizontal bands (fields, water), structure that runs along the horizon.
    bands = 0.5 + 0.5 * np.sin(2 * math.pi * (ys - horizon) / rng.uniform(6, 14) + _smooth_field(rng, size, (4, 2), 1.0)[..., 0])
    _paint(image, ground, bands, field_dark, field_light)
    image += _grain(rng, size, rng.uniform(8.0, 12.0))
    # The detail: a skyline of buildings or trees standing on the horizon at one end.
    side = float(rng.choice([-1.0, 1.0]))
    dark, light = _contrasting(rng)
    start = 0.55 if side > 0 else 0.05
    for _ in range(rng.integers(5, 10)):
        x = rng.uniform(start, start + 0.4) * width
        base = level * height - np.tan(math.radians(tilt)) * (x - width / 2)
        w, h = rng.uniform(0.03, 0.08) * width, rng.uniform(0.12, 0.3) * height
        mask = np.zeros((height, width), np.float64)
        cv2.rectangle(mask, (round(x - w / 2), round(base - h)), (round(x + w / 2), round(base + 2)), 1.0, -1)
        _paint(image, mask, _texture(rng, size), dark, light)
    target = (0.5 + 0.35 * side, level)
    return image, Scene("horizon", target=target, tilt=tilt)


def _vertical_photo(rng: Any, size: tuple[int, int]) -> tuple[np.ndarray, Scene]:
    import cv2
    import numpy as np

    width, height = size
    image = _calm_background(rng, size)
    x = rng.uniform(0.2, 0.8)
    top = rng.uniform(0.05, 0.3)
    w = rng.uniform(0.06, 0.14) * width
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    # Vertical texture (bricks, bark, falling water): stripes that run along the structure.
    stripes = 0.5 + 0.5 * np.sin(2 * math.pi * xs / rng.uniform(3, 7)) * (0.6 + 0.4 * np.sin(ys / rng.uniform(3, 9)))
    mask = np.zeros((height, width), np.float64)
    cv2.rectangle(mask, (round(x * width - w / 2), round(top * height)), (round(x * width + w / 2), height), 1.0, -1)
    # A crown at the top (a spire, a tree top): the end the camera tilts toward.
    cv2.circle(mask, (round(x * width), round(top * height)), round(w * 0.9), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.8)
    _paint(image, mask, stripes, *_contrasting(rng))
    return image, Scene("vertical", target=(float(x), float(top)))


def _flat_photo(rng: Any, size: tuple[int, int]) -> tuple[np.ndarray, Scene]:
    import cv2
    import numpy as np

    width, height = size
    style = rng.integers(3)
    colour = _colour(rng, 0.5, (30, 230))
    if style == 0:
        image = np.broadcast_to(colour, (height, width, 3)).astype(np.float64)
    elif style == 1:
        ys, xs = np.mgrid[0:height, 0:width]
        t = (xs / width if rng.random() < 0.5 else ys / height)[..., None]
        image = colour * (1 - t) + _colour(rng, 0.5, (30, 230)) * t
    else:
        haze = _smooth_field(rng, size, (4, 3), 12.0)
        image = cv2.GaussianBlur(colour + haze, (0, 0), 8)
    return image, Scene("flat")


# -- camera rules ------------------------------------------------------------------------------


def _eased(kind: int, t: np.ndarray) -> np.ndarray:
    import numpy as np

    if kind == 0:  # ease in and out
        return 0.5 - 0.5 * np.cos(math.pi * t)
    if kind == 1:  # smootherstep
        return t * t * t * (t * (6 * t - 15) + 10)
    return np.clip(t, 0, 1)  # steady


def camera_rule(
    scene: Scene, frames: int, seed: int, fps: float = FPS, move_seconds: float = MOVE_SECONDS
) -> CameraMove:
    """The camera move a person would make on this photo, one state per frame (step 0 identity).

    The move lasts ``move_seconds`` (then holds); its size and easing are drawn from ``seed``.
    Pans stay within the margin the zoom leaves, so no frame leaves the photo.
    """
    import numpy as np

    rng = np.random.default_rng([seed, 104729])
    t = np.clip(np.arange(frames) / (move_seconds * fps), 0, 1)
    ease = _eased(int(rng.integers(3)), t)
    tx, ty = scene.target
    zoom_end, pan_x, pan_y, roll = 1.0, 0.0, 0.0, 0.0
    if scene.kind == "subject":
        zoom_end = rng.uniform(1.25, 1.45)
        pan_x, pan_y = (tx - 0.5), (ty - 0.5)
    elif scene.kind == "horizon":
        zoom_end = rng.uniform(1.15, 1.25)
        pan_x = math.copysign(1.0, tx - 0.5)
        pan_y = 0.0
        roll = 0.6 * scene.tilt
    elif scene.kind == "vertical":
        zoom_end = rng.uniform(1.2, 1.35)
        pan_x, pan_y = 0.3 * (tx - 0.5), -1.0
    zoom = zoom_end**ease
    rotation = roll * ease
    # The largest pan that keeps the rotated view inside the photo at the end of the move.
    room = _pan_room(zoom_end, roll)
    reach = math.hypot(pan_x, pan_y)
    scale = min(1.0, 0.92 * room / reach) if reach > 0 else 0.0
    pan_x_path = pan_x * scale * ease
    pan_y_path = pan_y * scale * ease
    return CameraMove(pan_x_path.tolist(), pan_y_path.tolist(), zoom.tolist(), rotation.tolist())


def _pan_room(zoom: float, rotation: float, aspect: float = FRAME_SIZE[0] / FRAME_SIZE[1]) -> float:
    """How far (fraction of the frame, per axis) a view at ``zoom`` and ``rotation`` may pan."""
    theta = math.radians(abs(rotation))
    # Half extents of the rotated view, as fractions of the photo's width and height.
    half_w = (math.cos(theta) + math.sin(theta) / aspect) / (2 * zoom)
    half_h = (math.cos(theta) + math.sin(theta) * aspect) / (2 * zoom)
    return max(0.0, min(0.5 - half_w, 0.5 - half_h))


# -- rendering ---------------------------------------------------------------------------------


def render_shot(photo: np.ndarray, move: CameraMove, size: tuple[int, int] = FRAME_SIZE) -> Iterator[np.ndarray]:
    """The frames of one shot: ``photo`` seen along ``move`` with Animate image's warp."""
    from kinograph.api import Motion
    from kinograph.plugins.camera.warp import plan_views, shrink_for, warp_opencv

    motion = Motion(tuple(move.pan_x), tuple(move.pan_y), tuple(move.zoom), tuple(move.rotation))
    src_size = (int(photo.shape[1]), int(photo.shape[0]))
    # "reflect" adds no zoom of its own: the rule already keeps every view inside the photo, so
    # the first frame is the whole photo and the measured move is the rule's move.
    views = plan_views(motion, src_size, size, "reflect")
    source, views = shrink_for(views, photo)
    for matrix in views.matrices:
        yield warp_opencv(source, matrix, size, "reflect")


@dataclass(frozen=True)
class Shot:
    """One bootstrap shot: which photo, what it shows and the move it was rendered with."""

    seed: int
    scene: Scene
    move: CameraMove


def shot(
    seed: int,
    kind: str | None = None,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
    move_seconds: float = MOVE_SECONDS,
) -> tuple[np.ndarray, Shot]:
    """Photo ``seed`` and its shot (the rule's move over ``move_seconds + SHOT_TAIL_SECONDS``)."""
    photo, scene = make_photo(seed, kind, size)
    frames = round((move_seconds + SHOT_TAIL_SECONDS) * fps)
    return photo, Shot(seed, scene, camera_rule(scene, frames, seed, fps, move_seconds))


def write_clip_video(
    path: Path, shots: list[tuple[np.ndarray, Shot]], fps: float = FPS, crf: int = 18, size: tuple[int, int] = FRAME_SIZE
) -> Path:
    """Render ``shots`` back to back (hard cuts) into an H.264 MP4 at ``path`` (atomic)."""
    from fractions import Fraction

    import av

    from kinograph.api import atomic_output

    path = Path(path)
    with atomic_output(path) as temp:
        with av.open(str(temp), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": "veryfast"}
            for photo, item in shots:
                for pixels in render_shot(photo, item.move, size):
                    for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                        container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return path


def make_bootstrap_clips(
    out_dir: str | Path,
    videos: int,
    shots_per_video: int = 8,
    seed: int = 0,
    kinds: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
    size: tuple[int, int] = FRAME_SIZE,
    move_seconds: float = MOVE_SECONDS,
) -> list[Path]:
    """Write ``videos`` MP4s of ``shots_per_video`` shots each, and ``shots.json`` describing them.

    Photo seeds are ``seed * 1_000_000 + i``, so bootstrap sets made with different ``seed``
    never share a photo (tests use that to keep their photos out of the training set).
    ``kinds`` cycles through the given kinds instead of drawing them; ``size`` and
    ``move_seconds`` make smaller, shorter clips (tests).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    manifest = []
    for v in range(videos):
        shots = []
        for s in range(shots_per_video):
            index = seed * 1_000_000 + v * shots_per_video + s
            kind = None if kinds is None else kinds[(v * shots_per_video + s) % len(kinds)]
            shots.append(shot(index, kind, FPS, size, move_seconds))
        path = write_clip_video(out / f"bootstrap_{seed}_{v:04d}.mp4", shots, size=size)
        written.append(path)
        manifest.append({"video": path.name, "shots": [_describe(item) for _, item in shots]})
        if progress is not None:
            progress(v + 1, videos)
    from kinograph.api import atomic_output

    with atomic_output(out / "shots.json") as temp:
        Path(temp).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return written


def _describe(item: Shot) -> dict[str, Any]:
    return {
        "seed": item.seed,
        "scene": asdict(item.scene),
        "end": {k: round(getattr(item.move, k)[-1], 5) for k in ("pan_x", "pan_y", "zoom", "rotation")},
    }
