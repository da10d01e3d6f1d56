"""Write video: encode a FrameStream to a file (PyAV), or to a folder of numbered PNGs.

The file is written under a temporary name beside the target and published when complete, so a
failed or cancelled run leaves nothing at the target path. An image sequence replaces only a new
or empty folder, or one it wrote itself (marked ``.kinograph-sequence``), never a user's folder.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from kinograph.api import (
    AUDIO,
    FRAME_STREAM,
    PATH,
    FrameStream,
    IfExists,
    Input,
    KinographError,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    OutputPath,
    Problem,
    RunContext,
    atomic_output,
    output_target,
)
from kinograph.plugins.media.embed import png_text, video_metadata

if TYPE_CHECKING:
    import numpy as np

#: Codec choice -> encoders that provide it, best first.
ENCODERS = {
    "h264": ["libx264"],
    "hevc": ["libx265"],
    "vp9": ["libvpx-vp9"],
    "av1": ["libsvtav1", "libaom-av1", "librav1e"],
}
#: File suffix -> (FFmpeg muxer, codecs it can hold).
CONTAINERS = {
    ".mp4": ("mp4", {"h264", "hevc", "vp9", "av1"}),
    ".m4v": ("mp4", {"h264", "hevc"}),
    ".mov": ("mov", {"h264", "hevc"}),
    ".mkv": ("matroska", {"h264", "hevc", "vp9", "av1"}),
    ".webm": ("webm", {"vp9", "av1"}),
}
#: Codec choice -> the crf values its encoders accept.
CRF_RANGES = {"h264": (0, 51), "hevc": (0, 51), "vp9": (0, 63), "av1": (0, 63)}
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
VIDEO_FILTERS = ["MP4 video (*.mp4)", "Matroska (*.mkv)", "WebM (*.webm)", "QuickTime (*.mov)"]
BT709 = 1  # AVCOL_PRI_BT709 == AVCOL_TRC_BT709 == AVCOL_SPC_BT709
LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG


def available_codecs() -> list[str]:
    """The codec choices this PyAV build can encode."""
    import av

    return [name for name, encoders in ENCODERS.items() if any(e in av.codecs_available for e in encoders)]


def pick_encoder(codec: str) -> str:
    """The encoder for a codec choice, or a NodeFailure saying which choices work here."""
    import av

    for encoder in ENCODERS[codec]:
        if encoder in av.codecs_available:
            return encoder
    raise NodeFailure(
        f"codec {codec!r} needs one of the encoders {', '.join(ENCODERS[codec])}, which this PyAV "
        f"build does not have; set codec to one of: {', '.join(available_codecs())}"
    )


def encoder_options(encoder: str, crf: int, preset: str) -> dict[str, str]:
    """Quality options in each encoder's own terms (crf and a speed preset)."""
    speed = PRESETS.index(preset)  # 0 fastest .. 8 slowest
    if encoder in ("libx264", "libx265"):
        options = {"crf": str(crf), "preset": preset}
        if encoder == "libx265":
            options["x265-params"] = "log-level=error"
        return options
    if encoder == "libvpx-vp9":
        return {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": str(max(0, 8 - speed))}
    if encoder == "libsvtav1":
        return {"crf": str(crf), "preset": str(12 - speed)}
    return {"crf": str(crf), "cpu-used": str(max(0, 8 - speed))}


def settings_problems(params: WriteVideo.Params) -> list[Problem]:
    """What is wrong with the output settings, found from the params alone (no encoding):
    a suffix no container takes, a codec the container cannot hold, crf out of the codec's range."""
    if params.image_sequence:
        return []
    suffix = Path(params.path).suffix.lower()
    if suffix not in CONTAINERS:
        return [
            Problem(
                "params.path",
                f"cannot write video to {params.path}: use one of {', '.join(CONTAINERS)} "
                "(or turn image_sequence on)",
            )
        ]
    problems = []
    codecs = CONTAINERS[suffix][1]
    if params.codec not in codecs:
        problems.append(
            Problem(
                "params.codec",
                f"{suffix} files cannot hold {params.codec}; use one of {', '.join(sorted(codecs))}, "
                f"or a {' / '.join(s for s, (_, held) in CONTAINERS.items() if params.codec in held)} file",
            )
        )
    low, high = CRF_RANGES[params.codec]
    if not low <= params.crf <= high:
        problems.append(
            Problem(
                "params.crf",
                f"crf {params.crf} is out of range for {params.codec}: use {low}..{high} "
                "(lower is better; 18 looks lossless for h264)",
            )
        )
    return problems


def sequence_folder(path: str) -> Path:
    """Where an image sequence goes: ``out/video.mp4`` -> ``out/video/``."""
    folder = Path(path)
    return folder.with_suffix("") if folder.suffix else folder


def frame_rate(fps: float) -> Fraction:
    """fps as an exact fraction (29.97 -> 30000/1001)."""
    for base in (1001, 1):
        exact = Fraction(round(fps * base), base)
        if abs(float(exact) - fps) < 1e-4:
            return exact
    return Fraction(fps).limit_denominator(100000)


def even(pixels: np.ndarray) -> np.ndarray:
    """Pad odd widths / heights by one repeated edge pixel (4:2:0 video needs even sizes)."""
    import numpy as np

    pad_h = pixels.shape[-3] % 2
    pad_w = pixels.shape[-2] % 2
    if not (pad_h or pad_w):
        return pixels
    widths = [(0, 0)] * (pixels.ndim - 3) + [(0, pad_h), (0, pad_w), (0, 0)]
    return np.ascontiguousarray(np.pad(pixels, widths, mode="edge"))


class WriteVideo(Node["WriteVideo.Params"]):
    """Encodes frames to an H.264 MP4 (or HEVC, VP9, AV1), or to numbered PNG files."""

    type_id = "kinograph.video.write"
    display_name = "Write video"
    category = "Video"
    description = (
        "Encodes the frames to a video file: H.264 (libx264) by default, yuv420p, BT.709 colour tags, "
        "fast start; odd sizes padded to even. Writes a temporary file renamed on success and "
        "embeds the graph in the file's metadata. Audio can be copied from the source video."
    )
    output_node = True
    inputs = [
        Input("frames", FRAME_STREAM, "The frames to encode."),
        Input("audio", AUDIO, "A media file whose audio track is copied.", optional=True),
    ]
    outputs = [Output("path", PATH, "The file (or folder, for an image sequence) written.")]

    class Params(NodeParams):
        path: str = OutputPath("out/video.mp4", description="The video file to write.", filters=VIDEO_FILTERS)
        codec: Literal["h264", "hevc", "vp9", "av1"] = "h264"
        crf: int = Field(18, ge=0, le=63, description="Quality: lower is better and bigger (h264: 18 is visually lossless).")
        preset: Literal[PRESETS] = Field("medium", description="Encoder speed: faster presets give bigger files.")  # type: ignore[valid-type]
        if_exists: IfExists = "overwrite"
        copy_audio: bool = Field(True, description="Copy the audio of the source video, when the frames come from one.")
        image_sequence: bool = Field(
            False,
            description=(
                "Write numbered PNG files into a folder (the path without its suffix) instead of a video. "
                "Only a new or empty folder, or an earlier sequence, is replaced."
            ),
        )

    @classmethod
    def check_inputs(cls, params: WriteVideo.Params, inputs: dict[str, dict[str, Any]]) -> list[Problem]:
        return settings_problems(params)

    @classmethod
    def output_info(cls, params: WriteVideo.Params, port: str) -> dict[str, Any]:
        p = params
        if port != "path" or not p.path:
            return {}
        if p.image_sequence:
            return {"path": str(sequence_folder(p.path)), "folder": True}
        return {"path": p.path, "folder": False}

    def run(self, ctx: RunContext, frames: FrameStream, audio: str | None = None) -> dict[str, Any]:
        p = self.params
        problems = settings_problems(p)  # validation says so first; a run without it must not encode
        if problems:
            raise NodeFailure(f"{problems[0].where.removeprefix('params.')}: {problems[0].message}")
        if p.image_sequence:
            return {"path": str(self._write_sequence(ctx, frames))}
        muxer = CONTAINERS[Path(p.path).suffix.lower()][0]
        encoder = pick_encoder(p.codec)
        audio_source = audio or (frames.audio if p.copy_audio else None)
        offset = float(frames.meta.get("audio_start", 0.0)) if audio is None else 0.0
        output = atomic_output(self._target(p.path), p.if_exists)
        with output as temp:
            count = self._encode(ctx, frames, temp, muxer, encoder, audio_source, offset)
        ctx.logger.info("wrote %d frames to %s", count, output.target)
        return {"path": str(output.target)}

    def _target(self, path: str | Path, folder: bool = False) -> Path:
        try:
            return output_target(path, self.params.if_exists, folder=folder)
        except KinographError as exc:
            raise NodeFailure(str(exc)) from exc
        except OSError as exc:
            raise NodeFailure(f"cannot write to {path}: {exc.strerror or exc}") from exc

    def _encode(
        self,
        ctx: RunContext,
        frames: FrameStream,
        temp: Path,
        muxer: str,
        encoder: str,
        audio_source: str | None,
        audio_offset: float,
    ) -> int:
        import av

        p = self.params
        options = {"movflags": "+faststart"} if muxer in ("mp4", "mov") else {}
        try:
            # FFmpeg only notices a folder that refuses files once it starts writing, after the
            # frames were computed, and then says "encoding failed": try the file first.
            temp.touch()
        except OSError as exc:
            raise NodeFailure(
                f"cannot write {p.path}: the folder {temp.parent} does not accept new files "
                f"({exc.strerror or exc}); choose another path"
            ) from exc
        try:
            container = av.open(str(temp), "w", format=muxer, options=options)
        except (av.FFmpegError, OSError) as exc:
            raise NodeFailure(f"cannot create a video file in {temp.parent}: {exc}") from exc
        copier = None
        try:
            for key, value in video_metadata(ctx.graph_json).items():
                container.metadata[key] = value
            rate = frame_rate(frames.fps)
            stream = container.add_stream(encoder, rate=rate)
            stream.width = frames.width + frames.width % 2
            stream.height = frames.height + frames.height % 2
            stream.pix_fmt = "yuv420p"
            stream.options = encoder_options(encoder, p.crf, p.preset)
            context = stream.codec_context
            context.color_primaries = context.color_trc = context.colorspace = BT709
            context.color_range = LIMITED_RANGE
            if (frames.width % 2) or (frames.height % 2):
                ctx.warn(
                    f"frames are {frames.width}x{frames.height}; padded to "
                    f"{stream.width}x{stream.height} because yuv420p video needs even sizes"
                )
            if audio_source:
                from kinograph.plugins.media.audio_copy import AudioCopier

                copier = AudioCopier(audio_source, container, muxer, audio_offset)
            count = 0
            for chunk in frames:
                ctx.check_cancelled()
                for pixels in even(chunk.pixels):
                    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                    frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
                    frame.pts = count
                    count += 1
                    for packet in stream.encode(frame):
                        container.mux(packet)
                if copier is not None:
                    copier.feed_until(count / float(rate))
                ctx.progress(count, frames.frame_count)
            if count == 0:
                raise NodeFailure("the stream had no frames; nothing was written")
            for packet in stream.encode(None):
                container.mux(packet)
            if copier is not None:
                copier.finish(count / float(rate))
        except av.FFmpegError as exc:
            _close_quietly(container, copier)
            raise NodeFailure(f"encoding {self.params.path} with {encoder} failed: {exc}") from exc
        except BaseException:
            _close_quietly(container, copier)
            raise
        container.close()
        return count

    def _write_sequence(self, ctx: RunContext, frames: FrameStream) -> Path:
        """Numbered PNGs (frame_000000.png...) in a folder, published when all are written.

        The folder is checked before the first frame is made: only a new or empty folder, or
        one holding an earlier sequence (its ``.kinograph-sequence`` marker lists the files),
        is replaced; a link is never followed.
        """
        from PIL import Image

        output = atomic_output(self._target(sequence_folder(self.params.path), folder=True), self.params.if_exists, folder=True)
        info = png_text(ctx.graph_json)
        count = 0
        with output as temp:
            for chunk in frames:
                ctx.check_cancelled()
                for pixels in chunk.pixels:
                    Image.fromarray(pixels).save(temp / f"frame_{count:06d}.png", pnginfo=info, compress_level=4)
                    count += 1
                ctx.progress(count, frames.frame_count)
            if count == 0:
                raise NodeFailure("the stream had no frames; nothing was written")
        return output.target


def _close_quietly(*closables: Any) -> None:
    """Close what a failed write opened; errors while closing must not hide the first one."""
    for item in closables:
        if item is not None:
            with contextlib.suppress(Exception):
                item.close()
