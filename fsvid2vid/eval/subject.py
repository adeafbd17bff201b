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
from fsvid2vid.models.generator import subject_rim

MOVING_STREET_CLASSES = ("car",)
#: The tasks whose clips are filmed by a camera that stands still, so the examples' room is the target's room where it
#: stands (the street's camera drives): where :func:`room_reference` means something.
STILL_CAMERA_TASKS = ("dance", "face")


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


def room_reference(example_rgb: np.ndarray, example_masks: np.ndarray) -> np.ndarray:
    """The examples' room copied without a network: what a ghost-free copy of the room reaches on the ghost pixels.

    example_rgb: (K, H, W, 3) uint8 example frames; example_masks: (K, H, W) bool, their subject -> (H, W, 3) uint8.
    At each pixel the mean of the examples that show the room there (outside their subject widened by the rim of
    :func:`~fsvid2vid.models.generator.subject_rim`, as the generator's gate does); where no example shows it,
    OpenCV's inpainting (Telea) from the room around. It assumes a camera that stands still between the
    examples and the target (:data:`STILL_CAMERA_TASKS`). With K = 1 every ghost pixel is room that no example
    shows, so this is a guess from around it; more examples show more of the room behind each other's subject.
    """
    rim = subject_rim(example_masks.shape[1])
    kernel = np.ones((2 * rim + 1, 2 * rim + 1), np.uint8)
    shows = np.stack([cv2.dilate(m.astype(np.uint8), kernel) == 0 for m in example_masks])  # (K, H, W) the room
    count = shows.sum(axis=0)
    mean = (example_rgb.astype(np.float64) * shows[..., None]).sum(axis=0) / np.maximum(count, 1)[..., None]
    room = np.round(mean).clip(0, 255).astype(np.uint8)
    hole = (count == 0).astype(np.uint8)
    if not hole.any():
        return room
    if hole.all():  # no example shows any room: nothing to copy or inpaint from
        return example_rgb[0].copy()
    return cv2.inpaint(room, hole, 3, cv2.INPAINT_TELEA)
