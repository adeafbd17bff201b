"""Face sketches from 68 dlib-order landmarks (the semantic input of the talking-face task).

The sketch is the edge-map style input of vid2vid / few-shot vid2vid: every facial part is drawn as a smooth curve
through its landmarks, one-pixel-or-thicker white lines (255) on a black (0) background. The function only looks at
the landmark coordinates, so it works the same for procedurally generated landmarks and for landmarks detected on
real video (e.g. mediapipe converted to the dlib-68 layout).

dlib-68 layout (indices as seen by the camera; "right" means the subject's right, i.e. the left of the image):

==========  =======  =======
part        indices  closed
==========  =======  =======
jaw         0-16     no
right_brow  17-21    no
left_brow   22-26    no
nose_bridge 27-30    no
nose_lower  31-35    no
right_eye   36-41    yes
left_eye    42-47    yes
outer_lips  48-59    yes
inner_lips  60-67    yes
==========  =======  =======

The lower nose is drawn as its own open curve 31-35; it is deliberately *not* connected to the nose tip (30), so
every part is a separate curve through exactly its own landmarks and dropping one part never changes another.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Number of landmarks in the dlib layout.
NUM_LANDMARKS = 68

#: Part name -> (landmark indices, closed curve?), in drawing order.
FACE_PARTS: dict[str, tuple[range, bool]] = {
    "jaw": (range(0, 17), False),
    "right_brow": (range(17, 22), False),
    "left_brow": (range(22, 27), False),
    "nose_bridge": (range(27, 31), False),
    "nose_lower": (range(31, 36), False),
    "right_eye": (range(36, 42), True),
    "left_eye": (range(42, 48), True),
    "outer_lips": (range(48, 60), True),
    "inner_lips": (range(60, 68), True),
}

# Sub-pixel precision of the polyline vertices handed to OpenCV.
_SHIFT = 4
# Target distance in pixels between consecutive samples of an interpolated curve.
_STEP_PX = 1.5
_MAX_SAMPLES_PER_SEGMENT = 64


def default_thickness(height: int) -> int:
    """Line thickness used when none is given: ``max(1, round(height / 128))``."""
    return max(1, int(round(height / 128.0)))


def catmull_rom(points: np.ndarray, closed: bool, samples_per_segment: int | None = None) -> np.ndarray:
    """Densely sample a uniform Catmull-Rom spline that passes through every one of ``points`` ((N, 2) floats).

    Open curves start at the first and end at the last point (end tangents from duplicated end points); closed
    curves wrap around. Without ``samples_per_segment`` the count is chosen so that samples lie about
    ``_STEP_PX`` pixels apart on the longest segment. Returns an (M, 2) float64 array; the given points are among
    the samples.
    """
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    if n < 3:
        return p.copy()
    if closed:
        ext = np.concatenate([p[-1:], p, p[:2]], axis=0)  # segments i -> i+1 for i in 0..n-1 (wrapping)
        n_seg = n
    else:
        ext = np.concatenate([p[:1], p, p[-1:]], axis=0)
        n_seg = n - 1
    p0, p1, p2, p3 = ext[0:n_seg], ext[1:n_seg + 1], ext[2:n_seg + 2], ext[3:n_seg + 3]
    if samples_per_segment is None:
        longest = float(np.max(np.linalg.norm(p2 - p1, axis=1))) if n_seg else 0.0
        samples_per_segment = int(np.clip(math.ceil(longest / _STEP_PX), 2, _MAX_SAMPLES_PER_SEGMENT))
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[None, :, None]
    t2, t3 = t * t, t * t * t
    a, b, c, d = (p0[:, None], p1[:, None], p2[:, None], p3[:, None])
    curve = 0.5 * ((2.0 * b) + (c - a) * t + (2.0 * a - 5.0 * b + 4.0 * c - d) * t2 + (3.0 * b - a - 3.0 * c + d) * t3)
    curve = curve.reshape(-1, 2)
    if not closed:
        curve = np.concatenate([curve, p[-1:]], axis=0)
    return curve


def part_visible(landmarks: np.ndarray, indices: range) -> bool:
    """True when every landmark of a part is finite and (with a confidence column) has confidence > 0."""
    pts = landmarks[list(indices)]
    if not np.all(np.isfinite(pts[:, :2])):
        return False
    if landmarks.shape[1] >= 3 and np.any(pts[:, 2] <= 0):
        return False
    return True


def draw_face_sketch(landmarks: np.ndarray, height: int, width: int, thickness: int | None = None) -> np.ndarray:
    """Draw the face sketch of 68 dlib-order landmarks.

    Args:
        landmarks: (68, 2) [x, y] or (68, 3) [x, y, confidence] pixel coordinates. With a confidence column a part
            is skipped when any of its landmarks has confidence <= 0; parts with non-finite coordinates are always
            skipped.
        height, width: size of the returned image.
        thickness: line thickness in pixels; default ``max(1, round(height / 128))``.

    Returns:
        (height, width) uint8 image, 255 on the curves (see :data:`FACE_PARTS`) and 0 elsewhere. Lines are drawn
        without anti-aliasing so the sketch stays binary.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != NUM_LANDMARKS or pts.shape[1] not in (2, 3):
        raise ValueError(f"expected (68, 2) or (68, 3) landmarks, got shape {pts.shape}")
    th = default_thickness(height) if thickness is None else max(1, int(thickness))
    canvas = np.zeros((int(height), int(width)), dtype=np.uint8)
    curves = []
    for indices, closed in FACE_PARTS.values():
        if not part_visible(pts, indices):
            continue
        curve = catmull_rom(pts[list(indices), :2], closed)
        fixed = np.round(curve * (1 << _SHIFT)).astype(np.int32).reshape(-1, 1, 2)
        curves.append((fixed, closed))
    for fixed, closed in curves:
        cv2.polylines(canvas, [fixed], closed, 255, th, lineType=cv2.LINE_8, shift=_SHIFT)
    return canvas
