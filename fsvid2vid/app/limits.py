"""The app's limits, and the checks an uploaded file passes before a job uses it.

Every check raises a one-line :class:`~fsvid2vid.errors.UserError` that names the file as the visitor called it (not
its temporary path) and the limit, and reads no more of the file than it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fsvid2vid.errors import UserError


@dataclass(frozen=True)
class Limits:
    """What one job may ask for. The defaults keep a job on a 2-core CPU within a few minutes."""

    max_upload_mb: int = 50  # per uploaded file (the page refuses larger uploads before they are sent)
    max_examples: int = 8  # example images per job (K)
    max_image_pixels: int = 40_000_000  # per example photo (a 48 MP phone photo is over it)
    max_video_pixels: int = 3840 * 2160  # per frame of a driving video (4K UHD)
    max_frames: int = 300  # generated frames per job
    default_frames: int = 30
    max_finetune: int = 100  # test-time finetuning steps
    max_queue: int = 20  # jobs waiting at once; more are turned away with "the queue is full"

    def check_count(self, n_examples: int) -> None:
        if not 1 <= n_examples <= self.max_examples:
            raise UserError(f"give 1 to {self.max_examples} example images (got {n_examples})")

    def check_options(self, max_frames: int, finetune: int) -> None:
        if not 1 <= max_frames <= self.max_frames:
            raise UserError(f"max frames {max_frames} is out of range: use 1 to {self.max_frames}")
        if not 0 <= finetune <= self.max_finetune:
            raise UserError(f"finetune steps {finetune} is out of range: use 0 to {self.max_finetune}")

    def check_size(self, path: Path, name: str) -> None:
        """The file exists and is no larger than ``max_upload_mb``."""
        try:
            size = Path(path).stat().st_size
        except OSError:
            raise UserError(f"{name}: the upload is missing; upload it again") from None
        if size > self.max_upload_mb * 2**20:
            raise UserError(f"{name}: is {size / 2**20:.1f} MB; the app takes files up to {self.max_upload_mb} MB")
        if size == 0:
            raise UserError(f"{name}: is empty")

    def check_image(self, path: Path, name: str) -> None:
        """An image file that Pillow can identify, with at most ``max_image_pixels`` pixels (read from its header)."""
        from PIL import Image, UnidentifiedImageError

        self.check_size(path, name)
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise UserError(f"{name}: not a readable image (PNG, JPEG, WebP, BMP or TIFF)") from None
        if width * height > self.max_image_pixels:
            raise UserError(f"{name}: is {width}x{height} ({width * height / 1e6:.1f} MP); the app takes images up "
                            f"to {self.max_image_pixels / 1e6:.0f} MP: scale it down")

    def check_video(self, path: Path, name: str) -> None:
        """A video file with a video stream of at most ``max_video_pixels`` per frame whose first frame decodes."""
        import av

        self.check_size(path, name)
        try:
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise UserError(f"{name}: holds no video stream")
                stream = container.streams.video[0]
                width, height = stream.codec_context.width, stream.codec_context.height
                if width * height > self.max_video_pixels:
                    raise UserError(f"{name}: frames are {width}x{height}; the app takes videos up to 3840x2160 "
                                    f"({self.max_video_pixels / 1e6:.1f} MP a frame): scale it down")
                if next(container.decode(stream), None) is None:
                    raise UserError(f"{name}: no frame could be decoded; the video is truncated or empty")
        except (av.error.FFmpegError, OSError) as exc:
            raise UserError(f"{name}: not a readable video ({type(exc).__name__}); the file is truncated or not a "
                            "video") from None
