"""Film grain: a stream effect that adds seeded, per-frame grain chunk by chunk.

Version 2 of the node split version 1's ``amount`` + ``monochrome`` into ``luma`` and
``chroma``, renamed ``grain_size`` to ``size`` and changed its default; :meth:`migrate_params`
upgrades graphs saved by version 1 so they still load, run and look the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinograph.api import (
    FRAME_STREAM,
    FrameStream,
    Input,
    Node,
    NodeParams,
    Output,
    RunContext,
    Slider,
)

if TYPE_CHECKING:
    import numpy as np

#: Version 1's defaults, needed to upgrade files that left a param out.
V1_DEFAULTS = {"amount": 0.1, "grain_size": 1.0, "monochrome": True, "seed": 0}


class FilmGrain(Node["FilmGrain.Params"]):
    """Adds film grain: luma grain (same on R, G, B) and chroma grain (per channel)."""

    type_id = "grain.film_grain"
    version = 2
    display_name = "Film grain"
    category = "Effects"
    description = (
        "Adds film grain, strongest in the midtones. The grain is fixed by the seed and the frame "
        "number, so re-runs and any chunk size give the same frames."
    )
    inputs = [Input("frames", FRAME_STREAM, "Frames to add grain to.")]
    outputs = [Output("frames", FRAME_STREAM, "The frames with grain.")]

    class Params(NodeParams):
        luma: float = Slider(0.08, ge=0.0, le=1.0, step=0.01, description="Strength of grey grain.")
        chroma: float = Slider(0.0, ge=0.0, le=1.0, step=0.01, description="Strength of coloured grain.")
        size: float = Slider(1.5, ge=1.0, le=8.0, step=0.1, description="Grain size in pixels.")
        seed: int = Slider(0, ge=0, le=2**31 - 1, description="Same seed, same grain.")
        animated: bool = True

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        """Version 1 -> 2: rename ``grain_size``, keep its old default, split ``amount``."""
        if from_version >= 2:
            return params
        old = {**V1_DEFAULTS, **params}
        amount = float(old.pop("amount"))
        monochrome = bool(old.pop("monochrome"))
        upgraded = {k: v for k, v in old.items() if k != "grain_size"}
        # Rename; an omitted size meant version 1's default (1.0), not version 2's (1.5).
        upgraded["size"] = old["grain_size"]
        # Split: version 1's grey grain is luma grain; its colour grain was per-channel noise.
        upgraded["luma"] = amount if monochrome else 0.0
        upgraded["chroma"] = 0.0 if monochrome else amount
        return upgraded

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        p = self.params  # typed: the class is Node["FilmGrain.Params"]

        def one_frame(frame: np.ndarray, index: int) -> np.ndarray:
            return add_grain(frame, p.luma, p.chroma, p.size, p.seed, index if p.animated else 0)

        # map() runs one_frame on each frame as a consumer pulls the chunks: nothing runs yet,
        # memory stays flat, and an error says which frame it happened at.
        return {"frames": frames.map(one_frame)}


def add_grain(frame: np.ndarray, luma: float, chroma: float, size: float, seed: int, index: int) -> np.ndarray:
    """Grain for one ``[H, W, 3]`` uint8 frame, fixed by ``(seed, index)``."""
    import numpy as np

    if luma == 0 and chroma == 0:
        return frame
    height, width = frame.shape[:2]
    rng = np.random.default_rng([seed, index])
    image = frame.astype(np.float32)
    # Film grain is most visible in the midtones: weight 1 at mid grey, 0.5 at black and white.
    level = image.mean(axis=2, keepdims=True) / 255.0
    weight = 0.5 + 2.0 * level * (1.0 - level)
    grain = np.zeros_like(image)
    if luma:
        grain += luma * _noise(rng, height, width, 1, size)
    if chroma:
        grain += chroma * _noise(rng, height, width, 3, size)
    # 0.25 maps strength 1.0 to a noise sigma of a quarter of the range.
    image += grain * weight * (0.25 * 255.0)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def _noise(rng: Any, height: int, width: int, channels: int, size: float) -> np.ndarray:
    """Unit-variance noise with blobs about ``size`` pixels wide: drawn small, then enlarged."""
    import numpy as np

    small_h, small_w = int(np.ceil(height / size)), int(np.ceil(width / size))
    noise = rng.standard_normal((small_h, small_w, channels), dtype=np.float32)
    rows = np.minimum((np.arange(height) / size).astype(np.intp), small_h - 1)
    cols = np.minimum((np.arange(width) / size).astype(np.intp), small_w - 1)
    big = noise[rows][:, cols]
    if size > 1:
        # Soften the blocks left by enlarging (1-2-1 blur each way), then restore unit variance.
        big = (np.roll(big, 1, 0) + 2 * big + np.roll(big, -1, 0)) / 4
        big = (np.roll(big, 1, 1) + 2 * big + np.roll(big, -1, 1)) / 4
        big /= max(float(big.std()), 1e-6)
    return big
