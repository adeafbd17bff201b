"""OpenPose-style rendering of COCO-18 body keypoints, used for synthetic and for real detected poses alike.

Keypoints are an (18, 3) array of [x, y, confidence] in pixels, in the OpenPose COCO-18 order below. A keypoint with
confidence <= ``min_confidence`` is missing; limbs touching it are not drawn.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The OpenPose COCO-18 keypoint order.
COCO18_NAMES = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)

#: Limbs as (from, to) keypoint indices, in OpenPose's drawing order.
COCO18_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)

#: One RGB colour per keypoint (and per limb, by limb index): OpenPose's red → yellow → green → blue → magenta ramp.
COCO18_COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)

#: Index permutation that swaps left and right keypoints (for horizontal flips).
COCO18_FLIP = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)

_SHIFT = 4


def default_thickness(height: int) -> int:
    """Limb thickness in pixels for a frame of ``height`` pixels (2 px at 128, 4 at 256)."""
    return max(1, int(round(height / 64)))


def draw_openpose(keypoints: np.ndarray, height: int, width: int, thickness: int | None = None,
                  min_confidence: float = 0.0) -> np.ndarray:
    """Draw a COCO-18 skeleton on black.

    Args:
        keypoints: (18, 2) or (18, 3) array of x, y[, confidence] in pixels.
        height, width: size of the output image.
        thickness: limb thickness in pixels; joints are discs of the same diameter plus one. Default
            :func:`default_thickness`.
        min_confidence: keypoints with confidence <= this are treated as missing.

    Returns:
        (H, W, 3) uint8 RGB image: limbs in their COCO-18 colours (dimmed to 60 %), joints on top at full colour.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 2 or kp.shape[0] != 18 or kp.shape[1] not in (2, 3):
        raise ValueError(f"expected (18, 2) or (18, 3) keypoints, got shape {kp.shape}")
    conf = kp[:, 2] if kp.shape[1] == 3 else np.ones(18)
    valid = (conf > min_confidence) & np.isfinite(kp[:, :2]).all(axis=1)
    thickness = default_thickness(height) if thickness is None else max(1, int(thickness))
    canvas = np.zeros((height, width, 3), np.uint8)
    fixed = np.round(np.nan_to_num(kp[:, :2]) * (1 << _SHIFT)).astype(np.int64)
    fixed = np.clip(fixed, -(1 << 24), 1 << 24)
    for index, (a, b) in enumerate(COCO18_LIMBS):
        if valid[a] and valid[b]:
            color = tuple(int(c * 0.6) for c in COCO18_COLORS[index])
            cv2.line(canvas, tuple(map(int, fixed[a])), tuple(map(int, fixed[b])), color, thickness,
                     lineType=cv2.LINE_AA, shift=_SHIFT)
    radius = int(round((thickness + 1) / 2 * (1 << _SHIFT)))
    for index in np.flatnonzero(valid):
        cv2.circle(canvas, tuple(map(int, fixed[index])), radius, COCO18_COLORS[index], -1, lineType=cv2.LINE_AA,
                   shift=_SHIFT)
    return canvas


def flip_keypoints(keypoints: np.ndarray, width: int) -> np.ndarray:
    """Mirror keypoints horizontally in an image of ``width`` pixels and swap left/right names."""
    kp = np.array(keypoints, dtype=np.float32, copy=True)
    kp[:, 0] = (width - 1) - kp[:, 0]
    return kp[list(COCO18_FLIP)]
