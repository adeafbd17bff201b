"""The subject's pixels of a ground-truth frame: where the subject metrics of ``evaluate`` are computed.

The whole-frame numbers of a dance clip are mostly the room, which the example warp copies; the subject's own pixels
say whether the model rendered the person of the examples. Per task:

* dance: the body-part map's non-background pixels (the dancer, clothes and hair included; benchmark version 3 also
  labels the hair, backpack and skirt beyond the body pieces);
* face: inside the convex hull of the 68 landmarks (the face from the jaw line to the eyebrows);
* street: the classes that move (cars); a frame without one contributes no subject pixels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from fsvid2vid.data.layout import ClipMeta, frame_name, read_image, read_points
from fsvid2vid.data.semantics import STREET_CLASSES
from fsvid2vid.models.generator import widened_subject
from fsvid2vid.models.room import fill_holes_across

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
    The room that the generator's example gate shows, by the same rule (:func:`fsvid2vid.models.room.
    fill_holes_across`): each example's subject, widened by the rim of :func:`~fsvid2vid.models.generator.subject_rim`,
    is filled from the other examples where they show the room there, and the rest from the room around (along rows
    and columns); the mean of the K filled examples. It assumes a camera that stands still between the examples and
    the target (:data:`STILL_CAMERA_TASKS`). With K = 1 every ghost pixel is room that no example shows, so this is a
    guess from around it; more examples show more of the room behind each other's subject.
    """
    rgb = torch.from_numpy(example_rgb).permute(0, 3, 1, 2).float()[None] / 127.5 - 1  # (1, K, 3, H, W)
    subject = widened_subject(torch.from_numpy(~example_masks).float()[:, None])[None]  # (1, K, 1, H, W)
    room = fill_holes_across(rgb, 1 - subject)[0].mean(dim=0)  # (3, H, W)
    return ((room.permute(1, 2, 0).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)


def true_room(frames: torch.Tensor, subject: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The room as the target clip itself shows it: at each pixel the median of the frames whose subject, widened by
    the rim of :func:`~fsvid2vid.models.generator.subject_rim`, is elsewhere.

    frames: (T, 3, H, W) in [-1, 1]; subject: (T, H, W) bool -> room (3, H, W) and where some frame shows it (H, W)
    bool. Scored on the ghost pixels it covers (``ghost_floor_l1`` of ``evaluate``), it is what a perfect copy of the
    room would still leave there: the target's own soft edge just outside its labels and its floor shadow (and on
    benchmark version 2 hair, a backpack or a skirt the labels did not cover). For still-camera tasks
    (:data:`STILL_CAMERA_TASKS`).
    """
    shows = widened_subject((~subject).float()[:, None])[:, 0] < 0.5  # (T, H, W)
    values = torch.where(shows[:, None], frames.float(), torch.full_like(frames.float(), float("nan")))
    room = values.nanmedian(dim=0).values
    known = shows.any(dim=0)
    return torch.where(known[None], room, torch.zeros_like(room)), known
