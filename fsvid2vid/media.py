"""Video and image files: H.264 mp4 writing through PyAV, and atomic PNG writing."""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from fsvid2vid.atomic import atomic_path, temporary_sibling
from fsvid2vid.errors import UserError


def write_png(path: Path | str, image: np.ndarray) -> Path:
    """Write an (H, W, 3) RGB or (H, W) uint8 image to ``path`` atomically (temporary name, then rename)."""
    path = Path(path)
    data = image[..., ::-1] if image.ndim == 3 else image
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(data))
    if not ok:
        raise UserError(f"{path}: could not encode the image")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return path


class Mp4Writer:
    """An H.264 (yuv420p) mp4 written frame by frame to a temporary file, renamed to ``path`` on success.

    Use as a context manager; on an exception the temporary file is removed and ``path`` is left untouched. Odd frame
    sizes are padded by one pixel (4:2:0 chroma needs even sizes). Memory does not grow with the number of frames.
    """

    def __init__(self, path: Path | str, fps: int, crf: int = 18):
        self.path = Path(path)
        self.tmp = temporary_sibling(self.path)
        self.fps, self.crf, self.count = fps, crf, 0
        self.container = av.open(str(self.tmp), mode="w", format="mp4")
        self.stream = None

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame."""
        if self.stream is None:
            h, w = frame.shape[:2]
            self.stream = self.container.add_stream("libx264", rate=Fraction(int(self.fps), 1))
            self.stream.width, self.stream.height = w + w % 2, h + h % 2
            self.stream.pix_fmt = "yuv420p"
            self.stream.options = {"crf": str(self.crf), "preset": "medium"}
        if frame.shape[0] % 2 or frame.shape[1] % 2:
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
            self.container.mux(packet)
        self.count += 1

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self.stream is None:
                    raise UserError(f"{self.path}: no frames to write")
                for packet in self.stream.encode():
                    self.container.mux(packet)
            self.container.close()
            if exc_type is None:
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)


def write_mp4(path: Path | str, frames: Iterable[np.ndarray], fps: int, crf: int = 18) -> int:
    """Encode (H, W, 3) uint8 RGB frames as H.264 into ``path`` atomically (see :class:`Mp4Writer`); returns the
    frame count."""
    with Mp4Writer(path, fps, crf) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.count


def read_video(path: Path | str) -> Iterable[np.ndarray]:
    """Yield the frames of a video file as (H, W, 3) uint8 RGB arrays."""
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UserError(f"{path}: not a readable video ({exc}); check the file") from None
    with container:
        if not container.streams.video:
            raise UserError(f"{path}: holds no video stream; check the file")
        try:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            raise UserError(f"{path}: corrupt video data ({exc}); check the file") from None


def video_fps(path: Path | str, default: int = 15) -> int:
    """The frame rate of a video file rounded to an integer (``default`` when the file does not say)."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            rate = container.streams.video[0].average_rate
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        raise UserError(f"{path}: not a readable video ({exc}); check the file") from None
    return max(1, int(round(float(rate)))) if rate else default
