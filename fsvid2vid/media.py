"""Video and image files: H.264 mp4 writing through PyAV, atomic PNG writing, and the one image reader.

:func:`read_image_file` is how every image is read (clip frames, photos, label maps): it checks a PNG's chunks (CRCs,
IEND) and a JPEG's segments (up to the end-of-image marker) before decoding, refuses images of more than
:func:`max_pixels` pixels before decoding them, and turns the decoder's own complaints (libjpeg's "Corrupt JPEG
data", libpng's errors, which would otherwise be printed on stderr) into a one-line :class:`UserError`.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from fsvid2vid.atomic import atomic_path, os_error_message, temporary_sibling
from fsvid2vid.errors import UserError

#: Images of more pixels than this are refused before they are decoded (a 10,000 x 10,000 photo takes about 2 GB
#: to decode and resize); ``generate --max-pixels`` raises it.
DEFAULT_MAX_PIXELS = 50_000_000
_max_pixels = DEFAULT_MAX_PIXELS


def max_pixels() -> int:
    """The largest image (width x height) that :func:`read_image_file` decodes."""
    return _max_pixels


def set_max_pixels(limit: int) -> None:
    """Change the pixel limit of :func:`read_image_file` for this process (``--max-pixels``)."""
    global _max_pixels
    if limit < 1:
        raise UserError(f"--max-pixels {limit} is invalid: give a positive number of pixels")
    _max_pixels = int(limit)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A marker inside JPEG entropy-coded data: 0xFF followed by neither a stuffed 0x00, a restart marker nor a fill 0xFF.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
#: What libjpeg / libpng / OpenCV print when they meet damaged data (and still return an image, for libjpeg).
_DECODER_COMPLAINT = re.compile(rb"corrupt|premature|libpng|error|warning|invalid|bad|truncat", re.IGNORECASE)
#: libpng's warnings about an ancillary chunk (its name starts in lower case: a colour profile, gamma, text, ...): the
#: pixels decode all the same (OpenCV ignores those chunks), e.g. the many photos whose iCCP chunk carries "known
#: incorrect sRGB profile". Such lines are not complaints.
_ANCILLARY_WARNING = re.compile(rb"^libpng warning: [a-z][A-Za-z]{3}: .*$", re.MULTILINE)


class _BadImage(Exception):
    """The structural check's finding (becomes a :class:`UserError` naming the file)."""


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG whose chunks are all complete with good CRCs and end with IEND."""
    view, i, size = memoryview(data), len(_PNG_SIGNATURE), None
    while True:
        if i + 8 > len(data):
            raise _BadImage("truncated PNG (no IEND chunk)")
        length, kind = int.from_bytes(data[i:i + 4], "big"), bytes(data[i + 4:i + 8])
        end = i + 12 + length
        if end > len(data):
            raise _BadImage(f"truncated PNG (its {kind.decode('latin-1')} chunk is cut short)")
        if zlib.crc32(view[i + 4:end - 4]) != int.from_bytes(data[end - 4:end], "big"):
            raise _BadImage(f"corrupt PNG (CRC error in its {kind.decode('latin-1')} chunk)")
        if size is None:
            if kind != b"IHDR" or length < 8:
                raise _BadImage("corrupt PNG (no IHDR chunk first)")
            size = int.from_bytes(data[i + 8:i + 12], "big"), int.from_bytes(data[i + 12:i + 16], "big")
        if kind == b"IEND":
            return size
        i = end


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG whose segments are complete up to the end-of-image marker (trailing data allowed)."""
    i, n, size = 2, len(data), None
    while True:
        if i >= n:
            raise _BadImage("truncated JPEG (no end-of-image marker)")
        if data[i] != 0xFF:
            raise _BadImage(f"corrupt JPEG (no marker at byte {i})")
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            raise _BadImage("truncated JPEG (no end-of-image marker)")
        marker = data[i]
        i += 1
        if marker == 0xD9:
            if size is None:
                raise _BadImage("corrupt JPEG (no frame header)")
            return size
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if i + 2 > n:
            raise _BadImage("truncated JPEG (no end-of-image marker)")
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2 or i + length > n:
            raise _BadImage("truncated JPEG (a segment is cut short)")
        if marker in _JPEG_SOF and length >= 7:
            size = int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 3:i + 5], "big")
        i += length
        if marker == 0xDA:  # entropy-coded data follows, up to the next real marker
            found = _JPEG_MARKER.search(data, i)
            if found is None:
                raise _BadImage("truncated JPEG (no end-of-image marker)")
            i = found.start()


def _other_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of another format (BMP, WebP, TIFF ...) from its header, or None when unknown."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's own decompression-bomb warning: the limit here is ours
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                with Image.open(io.BytesIO(data)) as image:
                    return image.size
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except Exception:  # noqa: BLE001 - any failure here leaves the decision to the decoder
        return None


_sink: tuple[int, int] | None = None  # (process id, file descriptor) of the file that catches decoder messages


def _sink_fd() -> int:
    """An unnamed temporary file of this process (made once; a forked process makes its own)."""
    global _sink
    if _sink is None or _sink[0] != os.getpid():
        f = tempfile.TemporaryFile()
        _sink = (os.getpid(), os.dup(f.fileno()))
        f.close()
    return _sink[1]


@contextmanager
def _decoder_messages() -> Iterator[list[bytes]]:
    """Collect what C libraries print on file descriptor 2 inside the block (libjpeg and libpng print their
    complaints there); yields a list that holds the bytes afterwards."""
    out: list[bytes] = []
    try:
        sys.stderr.flush()
        sink = _sink_fd()
        os.ftruncate(sink, 0)
        os.lseek(sink, 0, os.SEEK_SET)
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield out
        return
    os.dup2(sink, 2)
    try:
        yield out
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        size = os.fstat(sink).st_size
        out.append(os.pread(sink, size, 0) if size else b"")


def read_image_file(path: Path | str, flags: int = cv2.IMREAD_UNCHANGED, hint: str = "check the file") -> np.ndarray:
    """Decode an image file with OpenCV (``flags`` as for ``cv2.imread``; BGR channel order), or raise a one-line
    :class:`UserError` naming it and ending with ``hint`` when it is missing, empty, not an image, truncated, corrupt,
    or larger than :func:`max_pixels`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: missing; {hint}") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not an image; {hint}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({os_error_message(exc)}); {hint}") from None
    if not data:
        raise UserError(f"{path}: is empty (0 bytes), not an image; {hint}")
    try:
        if data.startswith(_PNG_SIGNATURE):
            size: tuple[int, int] | None = _png_size(data)
        elif data.startswith(b"\xff\xd8\xff"):
            size = _jpeg_size(data)
        else:
            size = _other_size(data)
    except _BadImage as exc:
        raise UserError(f"{path}: {exc}; {hint}") from None
    if size is not None and size[0] * size[1] > _max_pixels:
        raise UserError(f"{path}: is {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels, over the limit of "
                        f"{_max_pixels:,}; scale it down or pass --max-pixels {size[0] * size[1]}")
    with _decoder_messages() as messages:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    said = _ANCILLARY_WARNING.sub(b"", messages[0] if messages else b"").strip()
    if image is None or _DECODER_COMPLAINT.search(said):
        detail = said.decode("utf-8", "replace").strip().splitlines()
        why = f"corrupt image data ({detail[0].strip()})" if detail else "not a readable image"
        raise UserError(f"{path}: {why}; {hint}")
    if said:  # something unrelated to the image (another thread): pass it on
        os.write(2, said + b"\n")
    return image


def png_bytes(image: np.ndarray, path: Path | str = "image") -> bytes:
    """An (H, W, 3) RGB or (H, W) uint8 image encoded as PNG."""
    data = image[..., ::-1] if image.ndim == 3 else image
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(data))
    if not ok:
        raise UserError(f"{path}: could not encode the image")
    return encoded.tobytes()


def write_png(path: Path | str, image: np.ndarray) -> Path:
    """Write an (H, W, 3) RGB or (H, W) uint8 image to ``path`` atomically (temporary name, then rename)."""
    path = Path(path)
    data = png_bytes(image, path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def _write_error(path: Path, exc: BaseException) -> UserError:
    """The one-line error of a failed video write (a full disk, a read-only file system, ...)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        why = os_error_message(exc)
    else:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UserError(f"{path}: could not be written ({why}); free some space or choose another output path")


class Mp4Writer:
    """An H.264 (yuv420p) mp4 written frame by frame to a temporary file, renamed to ``path`` on success.

    Use as a context manager; on an exception the temporary file is removed and ``path`` is left untouched. Odd frame
    sizes are padded by one pixel (4:2:0 chroma needs even sizes). Memory does not grow with the number of frames.
    """

    def __init__(self, path: Path | str, fps: int, crf: int = 18):
        self.path = Path(path)
        self.tmp = temporary_sibling(self.path)
        self.fps, self.crf, self.count = fps, crf, 0
        self.size: tuple[int, int] | None = None
        try:
            self.container = av.open(str(self.tmp), mode="w", format="mp4")
        except (av.error.FFmpegError, OSError) as exc:
            self.tmp.unlink(missing_ok=True)
            raise _write_error(self.path, exc) from None
        self.stream = None

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (every frame the size of the first)."""
        if self.stream is None:
            h, w = frame.shape[:2]
            self.size = (h, w)
            self.stream = self.container.add_stream("libx264", rate=Fraction(int(self.fps), 1))
            self.stream.width, self.stream.height = w + w % 2, h + h % 2
            self.stream.pix_fmt = "yuv420p"
            self.stream.options = {"crf": str(self.crf), "preset": "medium"}
        if frame.shape[:2] != self.size:
            raise ValueError(f"{self.path}: frame {self.count} is {frame.shape[1]}x{frame.shape[0]}, unlike the first "
                             f"frame's {self.size[1]}x{self.size[0]}; a video's frames must have one size")
        if frame.shape[0] % 2 or frame.shape[1] % 2:
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
        try:
            for packet in self.stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame),
                                                                        format="rgb24")):
                self.container.mux(packet)
        except (av.error.FFmpegError, OSError) as exc:
            raise _write_error(self.path, exc) from None
        self.count += 1

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self.stream is None:
                    raise UserError(f"{self.path}: no frames to write")
                try:
                    for packet in self.stream.encode():
                        self.container.mux(packet)
                    self.container.close()
                except (av.error.FFmpegError, OSError) as exc:
                    raise _write_error(self.path, exc) from None
                os.replace(self.tmp, self.path)
            else:
                try:
                    self.container.close()
                except (av.error.FFmpegError, OSError):
                    pass  # the write failed already; that error is the one to report
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
