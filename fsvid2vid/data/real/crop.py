"""The crop around a person or a face, and cutting it out of a frame at the task's frame size.

Dance: the crop is 1.5 times the person's keypoint extent tall (as the paper's pose pipeline crops about 1.5 body
heights), ``aspect`` (0.75) as wide, with the middle of the keypoints 0.566 of the way down: where the benchmark's
dancers stand. Face: a square 2.4 times the landmarks' larger side, centred on them, like the benchmark's heads.
Within a clip the size is the median over its frames and the centre is smoothed over time, so the crop does not
shake with detection noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fsvid2vid.data.real.smooth import smooth_series

#: (crop height / subject extent, vertical position of the subject's centre in the crop) per task.
CROP_RULES = {"dance": (1.5, 0.566), "face": (2.4, 0.5)}


@dataclass
class CropBox:
    """A crop of a frame: top-left corner and size in frame pixels (may reach outside the frame)."""

    x0: float
    y0: float
    width: float
    height: float

    def transform(self, out_height: int, out_width: int) -> np.ndarray:
        """(2, 3) affine matrix from frame pixels to output pixels."""
        sx, sy = out_width / self.width, out_height / self.height
        return np.array([[sx, 0.0, -self.x0 * sx], [0.0, sy, -self.y0 * sy]])


def points_extent(points: np.ndarray, task: str) -> tuple[float, float, float] | None:
    """(centre x, centre y, extent) of the visible points: the vertical extent for dance, the larger side for face."""
    v = points[points[:, 2] > 0, :2]
    if len(v) < 2:
        return None
    lo, hi = v.min(axis=0), v.max(axis=0)
    extent = float(hi[1] - lo[1]) if task == "dance" else float(max(hi - lo))
    if task == "dance":  # a person lying or turned sideways: never narrower than half the width
        extent = max(extent, float(hi[0] - lo[0]) * 0.75)
    return float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2), max(extent, 1.0)


def crop_boxes(points: np.ndarray, task: str, aspect: float, sigma: float = 2.0) -> list[CropBox]:
    """One crop per frame of a segment of (T, P, 3) points: the median size, a smoothed centre."""
    scale, centre_at = CROP_RULES[task]
    ext = [points_extent(p, task) for p in points]
    known = [e for e in ext if e is not None]
    if not known:
        raise ValueError("no frame of the segment has visible points")
    filled = [e if e is not None else known[0] for e in ext]
    centres = smooth_series(np.array([(e[0], e[1]) for e in filled]), sigma)
    height = scale * float(np.median([e[2] for e in known]))
    width = height * aspect
    return [CropBox(cx - width / 2, cy - centre_at * height, width, height) for cx, cy in centres]


def photo_box(points: np.ndarray, task: str, aspect: float) -> CropBox:
    """The crop of a single photo's subject."""
    return crop_boxes(points[None], task, aspect, sigma=0.0)[0]


def cut(image: np.ndarray, box: CropBox, out_height: int, out_width: int, nearest: bool = False,
        border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """The crop of an (H, W[, C]) image resized to (out_height, out_width); outside the frame the edge repeats."""
    m = box.transform(out_height, out_width)
    shrink = box.height / out_height
    if nearest:
        interp = cv2.INTER_NEAREST
    elif shrink > 1.5:  # downscaling a lot: area-average first to avoid aliasing
        small = cv2.resize(image, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
        m = m.copy()
        m[:, :2] *= shrink
        image, interp = small, cv2.INTER_LINEAR
    else:
        interp = cv2.INTER_LINEAR
    return cv2.warpAffine(image, m, (out_width, out_height), flags=interp, borderMode=border)


def move_points(points: np.ndarray, box: CropBox, out_height: int, out_width: int) -> np.ndarray:
    """(P, 3) [x, y, confidence] from frame pixels to pixels of the crop; confidences are kept."""
    m = box.transform(out_height, out_width)
    out = np.array(points, np.float32, copy=True)
    out[:, 0] = points[:, 0] * m[0, 0] + m[0, 2]
    out[:, 1] = points[:, 1] * m[1, 1] + m[1, 2]
    return out
