"""Make the small example assets: a burst of photos and a short clip with sound.

    .venv/bin/python graphs/assets/make_burst_and_clip.py

burst/shot_1.jpg .. shot_6.jpg: crops of photo.png moving right and in, as a handheld burst.
clip.mp4: 2 s, 320x240 at 12 fps, H.264, with a 440 Hz tone (AAC) so audio copying shows.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


def crops(photo: np.ndarray, count: int, size: tuple[int, int]) -> list[np.ndarray]:
    h, w = photo.shape[:2]
    out = []
    for i in range(count):
        t = i / max(1, count - 1)
        zoom = 1.15 + 0.15 * t
        cw, ch = int(w / zoom), int(h / zoom)
        x0 = int((w - cw) * (0.2 + 0.5 * t))
        y0 = int((h - ch) * (0.5 - 0.2 * t))
        crop = photo[y0 : y0 + ch, x0 : x0 + cw]
        out.append(cv2.resize(crop, size, interpolation=cv2.INTER_AREA))
    return out


def write_burst(photo: np.ndarray) -> None:
    folder = HERE / "burst"
    folder.mkdir(exist_ok=True)
    for i, frame in enumerate(crops(photo, 6, (480, 360)), start=1):
        Image.fromarray(frame).save(folder / f"shot_{i}.jpg", quality=88)


def write_clip(photo: np.ndarray) -> None:
    fps, seconds, rate = 12, 2, 22050
    frames = crops(photo, fps * seconds, (320, 240))
    with av.open(str(HERE / "clip.mp4"), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        video.options = {"crf": "30", "preset": "slow"}
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for frame in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        t = np.arange(rate * seconds) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        step = 1024
        for start in range(0, len(tone), step):
            block = av.AudioFrame.from_ndarray(tone[None, start : start + step], format="fltp", layout="mono")
            block.sample_rate = rate
            block.pts = start
            block.time_base = Fraction(1, rate)
            for packet in audio.encode(block):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)


if __name__ == "__main__":
    picture = np.asarray(Image.open(HERE / "photo.png").convert("RGB"))
    write_burst(picture)
    write_clip(picture)
