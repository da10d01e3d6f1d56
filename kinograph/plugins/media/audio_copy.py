"""Copy an audio track into a video being written, interleaved with its frames.

Packets are copied as they are when the target container accepts the codec, otherwise the
audio is re-encoded to AAC. Audio is fed as the video advances, so the muxer never buffers
a whole track (memory stays flat however long the video is).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kinograph.api import NodeFailure

#: Audio codecs each container takes without re-encoding.
_COPYABLE = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le"},
    "matroska": {"aac", "mp3", "ac3", "eac3", "opus", "vorbis", "flac", "pcm_s16le"},
    "webm": {"opus", "vorbis"},
}


class AudioCopier:
    """Muxes the first audio track of ``source`` (from ``offset`` seconds on) into ``container``."""

    def __init__(self, source: str, container: Any, container_format: str, offset: float = 0.0) -> None:
        import av

        try:
            self.input = av.open(source)
        except (av.FFmpegError, OSError) as exc:
            raise NodeFailure(f"cannot open the audio source {source}: {exc}") from exc
        if not self.input.streams.audio:
            self.input.close()
            raise NodeFailure(f"{source} has no audio track to copy (unlink audio or turn copy_audio off)")
        self.source = self.input.streams.audio[0]
        self.offset = offset
        self.container = container
        self.copy = self.source.codec_context.name in _COPYABLE.get(container_format, set())
        if self.copy:
            self.output = container.add_stream_from_template(self.source)
        else:
            codec = "libopus" if container_format == "webm" else "aac"
            rate = self.source.codec_context.sample_rate or 48000
            self.output = container.add_stream(codec, rate=48000 if codec == "libopus" else rate)
            self.output.layout = "stereo" if self.source.codec_context.channels > 1 else "mono"
            self.resampler = av.AudioResampler(
                format=self.output.format.name, layout=self.output.layout.name, rate=self.output.rate
            )
        self._packets: Iterator[Any] = self.input.demux(self.source)
        self._pending: Any = None
        self._done = False

    def feed_until(self, seconds: float | None) -> None:
        """Mux audio up to ``seconds`` of output time (None: to the end of the track)."""
        while not self._done:
            packet = self._next_packet()
            if packet is None:
                self._done = True
                break
            when = float(packet.pts * packet.time_base) - self.offset
            if seconds is not None and when >= seconds:
                self._pending = packet
                return
            self._pending = None
            if when < 0:
                continue
            self._write(packet)

    def finish(self, seconds: float) -> None:
        """Mux the audio that plays before the video ends at ``seconds``, then flush."""
        self.feed_until(seconds)
        if not self.copy:
            for packet in self.output.encode(None):
                self.container.mux(packet)
        self.input.close()

    def close(self) -> None:
        self.input.close()

    def _next_packet(self) -> Any:
        if self._pending is not None:
            return self._pending
        for packet in self._packets:
            if packet.pts is not None and packet.size:
                return packet
        return None

    def _write(self, packet: Any) -> None:
        if self.copy:
            shift = round(self.offset / float(packet.time_base))
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self.output
            self.container.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for converted in self.resampler.resample(frame):
                for out in self.output.encode(converted):
                    self.container.mux(out)
