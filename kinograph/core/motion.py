"""Motion: the camera path (and optional local flow) that animates a still image.

Values are absolute per keyframe, relative to the source image, so any producer (a hand-set
camera path, the LSTM action generator, a third-party model) feeds the same animate node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Motion:
    """Per-keyframe camera state; all sequences have ``steps`` entries.

    - ``pan_x``, ``pan_y``: offset of the view centre from the image centre, as a fraction of
      the image width / height (+x right, +y down).
    - ``zoom``: scale factor, 1.0 shows the whole image, 1.2 shows 1/1.2 of it.
    - ``rotation``: degrees, counter-clockwise.
    - ``flow``: optional local motion, ``float32 [steps, gh, gw, 2]`` displacements (x, y) as a
      fraction of the image width / height, on a coarse grid upsampled by the animate node.
    - ``source``: what produced it, e.g. ``"camera_path"`` or ``"lstm:resnet18"``.
    """

    pan_x: tuple[float, ...]
    pan_y: tuple[float, ...]
    zoom: tuple[float, ...]
    rotation: tuple[float, ...]
    flow: np.ndarray | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lengths = {len(self.pan_x), len(self.pan_y), len(self.zoom), len(self.rotation)}
        if len(lengths) != 1:
            raise ValueError("pan_x, pan_y, zoom and rotation must have the same length")
        if self.steps < 1:
            raise ValueError("a Motion needs at least one step")
        if self.flow is not None and (self.flow.ndim != 4 or self.flow.shape[0] != self.steps or self.flow.shape[-1] != 2):
            raise ValueError("flow must be [steps, gh, gw, 2]")

    @property
    def steps(self) -> int:
        return len(self.pan_x)

    def as_rows(self) -> list[dict[str, float]]:
        """One dict per step (for plots and JSON)."""
        return [
            {"pan_x": x, "pan_y": y, "zoom": z, "rotation": r}
            for x, y, z, r in zip(self.pan_x, self.pan_y, self.zoom, self.rotation, strict=True)
        ]
