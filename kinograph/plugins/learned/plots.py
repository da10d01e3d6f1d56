"""The loss-curve PNG written beside a trained checkpoint, drawn with Pillow (no plotting library)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

SIZE = (720, 420)
MARGIN = (70, 30, 20, 50)  # left, top, right, bottom
COLOURS = {"train_loss": (40, 110, 200), "val_loss": (220, 90, 30)}


def loss_curve(history: list[dict[str, Any]], path: str | Path, best_epoch: int = 0) -> Path:
    """Train and validation loss per epoch (log scale), the best epoch marked; written atomically."""
    from PIL import Image, ImageDraw

    from kinograph.api import atomic_output

    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = MARGIN[0], MARGIN[1], SIZE[0] - MARGIN[2], SIZE[1] - MARGIN[3]
    draw.rectangle((left, top, right, bottom), outline=(0, 0, 0))
    series = {
        key: [(row["epoch"], row[key]) for row in history if _finite_positive(row.get(key))]
        for key in COLOURS
    }
    values = [v for points in series.values() for _, v in points]
    epochs = [e for points in series.values() for e, _ in points]
    draw.text((left, 8), "loss per epoch (log scale): train (blue), validation (orange)", fill=(0, 0, 0))
    if values:
        low, high = math.log10(min(values)), math.log10(max(values))
        if high - low < 1e-6:
            low, high = low - 0.5, high + 0.5
        first, last = min(epochs), max(max(epochs), min(epochs) + 1)

        def at(epoch: float, value: float) -> tuple[float, float]:
            x = left + (epoch - first) / (last - first) * (right - left)
            y = bottom - (math.log10(value) - low) / (high - low) * (bottom - top)
            return x, y

        for i in range(5):  # value ticks
            value = 10 ** (low + (high - low) * i / 4)
            _, y = at(first, value)
            draw.line((left - 4, y, left, y), fill=(0, 0, 0))
            draw.text((4, y - 6), f"{value:.3g}", fill=(0, 0, 0))
        for i in range(6):  # epoch ticks
            epoch = first + (last - first) * i / 5
            x, _ = at(epoch, 10**low)
            draw.line((x, bottom, x, bottom + 4), fill=(0, 0, 0))
            draw.text((x - 8, bottom + 8), f"{epoch:.0f}", fill=(0, 0, 0))
        draw.text(((left + right) // 2 - 15, SIZE[1] - 18), "epoch", fill=(0, 0, 0))
        if best_epoch:
            x, _ = at(best_epoch, 10**low)
            draw.line((x, top, x, bottom), fill=(160, 160, 160))
            draw.text((x + 4, top + 4), f"best: epoch {best_epoch}", fill=(90, 90, 90))
        for key, points in series.items():
            xy = [at(e, v) for e, v in points]
            if len(xy) > 1:
                draw.line(xy, fill=COLOURS[key], width=2)
            for x, y in xy:
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=COLOURS[key])
    path = Path(path)
    with atomic_output(path) as temp:
        image.save(temp, format="PNG")
    return path


def _finite_positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0
