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


def subject_masks(clip_dir: Path, meta: ClipMeta, n_frames: int | list[int]) -> np.ndarray:
    """(T, H, W) bool: the subject's pixels in the first ``n_frames`` frames of a clip folder (or in the frames of a
    list of frame numbers)."""
    size = (meta.height, meta.width)
    frames = list(range(n_frames)) if isinstance(n_frames, int) else list(n_frames)
    if meta.task == "dance":
        return np.stack([read_image(Path(clip_dir) / "parts" / frame_name(t), 1, size) > 0 for t in frames])
    if meta.task == "street":
        moving = [STREET_CLASSES.index(name) for name in MOVING_STREET_CLASSES]
        return np.stack([np.isin(read_image(Path(clip_dir) / "labels" / frame_name(t), 1, size), moving)
                         for t in frames])
    points = read_points(clip_dir, meta)
    masks = np.zeros((len(frames), *size), bool)
    for i, t in enumerate(frames):
        visible = points[t][points[t, :, 2] > 0, :2]
        if len(visible) >= 3:
            hull = cv2.convexHull(np.round(visible).astype(np.int32))
            canvas = np.zeros(size, np.uint8)
            cv2.fillConvexPoly(canvas, hull, 1)
            masks[i] = canvas > 0
    return masks


def ghost_masks(example_masks: np.ndarray, target_masks: np.ndarray) -> np.ndarray:
    """Where a ghost of the examples would show: the pixels of any example's subject that are not the target's.

    example_masks: (K, H, W) bool, the subject in each example frame; target_masks: (T, H, W) bool -> (T, H, W).
    A model that pastes the example's limbs in the example's pose (the warp of eq. 11 failing) errs exactly here,
    where the ground truth shows the background.
    """
    return example_masks.any(axis=0)[None] & ~target_masks
