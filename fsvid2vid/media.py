"""Video and image files: H.264 mp4 writing through PyAV, and atomic PNG writing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from fsvid2vid.errors import UserError


def _temporary_sibling(path: Path) -> Path:
    if not path.parent.is_dir():
        raise UserError(f"{path}: its folder {path.parent} does not exist; create it or choose another output path")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the final file the usual permissions
    return Path(tmp)


def write_png(path: Path | str, image: np.ndarray) -> Path:
    """Write an (H, W, 3) RGB or (H, W) uint8 image to ``path`` atomically (temporary name, then rename)."""
    path = Path(path)
    try:
        tmp = _temporary_sibling(path)
    except PermissionError:
        raise UserError(f"{path}: its folder is not writable; choose another output path") from None
    data = image[..., ::-1] if image.ndim == 3 else image
    ok = cv2.imencode(".png", np.ascontiguousarray(data))
    try:
        if not ok[0]:
            raise UserError(f"{path}: could not encode the image")
        tmp.write_bytes(ok[1].tobytes())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_mp4(path: Path | str, frames: Iterable[np.ndarray], fps: int, crf: int = 18) -> int:
    """Encode (H, W, 3) uint8 RGB frames as H.264 (yuv420p) into ``path`` atomically; returns the frame count.

    Odd frame sizes are padded by one pixel (H.264 with 4:2:0 chroma needs even sizes). Frames are consumed one at a
    time, so memory does not grow with the length of the video.
    """
    path = Path(path)
    try:
        tmp = _temporary_sibling(path)
    except PermissionError:
        raise UserError(f"{path}: its folder is not writable; choose another output path") from None
    count = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = None
            for frame in frames:
                if stream is None:
                    h, w = frame.shape[:2]
                    stream = container.add_stream("libx264", rate=Fraction(int(fps), 1))
                    stream.width, stream.height = w + w % 2, h + h % 2
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": str(crf), "preset": "medium"}
                if frame.shape[0] % 2 or frame.shape[1] % 2:
                    frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
                packet_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                for packet in stream.encode(packet_frame):
                    container.mux(packet)
                count += 1
            if stream is None:
                raise UserError(f"{path}: no frames to write")
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def read_video(path: Path | str) -> Iterable[np.ndarray]:
    """Yield the frames of a video file as (H, W, 3) uint8 RGB arrays."""
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UserError(f"{path}: not a readable video ({exc}); check the file") from None
    with container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")
