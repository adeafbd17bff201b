"""The subject's pixels of a ground-truth frame: where the subject metrics of ``evaluate`` are computed.

The whole-frame numbers of a dance clip are mostly the room, which the example warp copies; the subject's own pixels
say whether the model rendered the person of the examples. Per task:

* dance: the body-part map's non-background pixels (the dancer, clothes and hair included);
* face: inside the convex hull of the 68 landmarks (the face from the jaw line to the eyebrows);
* street: the classes that move (cars); a frame without one contributes no subject pixels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fsvid2vid.data.layout import ClipMeta, frame_name, read_image, read_points
from fsvid2vid.data.semantics import STREET_CLASSES

MOVING_STREET_CLASSES = ("car",)


def subject_masks(clip_dir: Path, meta: ClipMeta, n_frames: int) -> np.ndarray:
    """(T, H, W) bool: the subject's pixels in the first ``n_frames`` frames of a clip folder."""
    size = (meta.height, meta.width)
    if meta.task == "dance":
        return np.stack([read_image(Path(clip_dir) / "parts" / frame_name(t), 1, size) > 0 for t in range(n_frames)])
    if meta.task == "street":
        moving = [STREET_CLASSES.index(name) for name in MOVING_STREET_CLASSES]
        return np.stack([np.isin(read_image(Path(clip_dir) / "labels" / frame_name(t), 1, size), moving)
                         for t in range(n_frames)])
    points = read_points(clip_dir, meta)
    masks = np.zeros((n_frames, *size), bool)
    for t in range(n_frames):
        visible = points[t][points[t, :, 2] > 0, :2]
        if len(visible) >= 3:
            hull = cv2.convexHull(np.round(visible).astype(np.int32))
            canvas = np.zeros(size, np.uint8)
            cv2.fillConvexPoly(canvas, hull, 1)
            masks[t] = canvas > 0
    return masks
