"""Draws graphs/assets/photo.png: a 640x480 procedural "photo" (sky, sun, hills, trees, a house).

Made here so the example graphs ship with an image free of any licence. Run:
    .venv/bin/python graphs/assets/make_photo.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 480


def draw(seed: int = 7) -> Image.Image:
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    sky = (1 - y) * np.array([70, 120, 200]) + y * np.array([250, 200, 150])
    pixels = np.broadcast_to(sky, (HEIGHT, WIDTH, 3)).copy()
    image = Image.fromarray(pixels.astype(np.uint8))
    pen = ImageDraw.Draw(image)
    pen.ellipse((470, 60, 550, 140), fill=(255, 236, 170))
    for i, (base, amp, colour) in enumerate([(300, 40, (90, 120, 80)), (350, 30, (60, 100, 50)), (400, 20, (40, 80, 35))]):
        xs = np.arange(WIDTH + 1)
        ridge = base + amp * np.sin(xs / (70 + 25 * i) + i) + 10 * np.sin(xs / 17.0 + 2 * i)
        pen.polygon([(0, HEIGHT)] + [(int(x), int(r)) for x, r in zip(xs, ridge, strict=True)] + [(WIDTH, HEIGHT)], fill=colour)
    pen.rectangle((120, 300, 230, 390), fill=(180, 70, 50))
    pen.polygon([(110, 300), (175, 245), (240, 300)], fill=(90, 50, 40))
    pen.rectangle((160, 340, 190, 390), fill=(70, 45, 30))
    pen.rectangle((135, 315, 155, 335), fill=(240, 230, 160))
    for _ in range(14):
        x, top = int(rng.integers(280, 620)), int(rng.integers(330, 380))
        pen.rectangle((x - 3, top, x + 3, top + 45), fill=(80, 55, 35))
        pen.ellipse((x - 18, top - 35, x + 18, top + 10), fill=tuple(int(v) for v in rng.integers([30, 90, 30], [60, 140, 60])))
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    # Mild texture so optical flow and features have detail to hold on to, yet PNG stays small.
    grain = rng.normal(0, 3.0, (HEIGHT // 4, WIDTH // 4, 1))
    grain = np.kron(grain, np.ones((4, 4, 1)))
    textured = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(textured)


if __name__ == "__main__":
    target = Path(__file__).with_name("photo.png")
    draw().save(target, optimize=True)
    print(target, target.stat().st_size, "bytes")
