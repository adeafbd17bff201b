"""Body keypoints from mediapipe Pose, converted to the OpenPose COCO-18 layout the benchmark uses.

mediapipe Pose (BlazePose) finds one person per image and gives 33 landmarks with a visibility score, plus a person
segmentation mask. COCO-18 takes 17 of them directly (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
ankles); the neck, which BlazePose does not have, is the midpoint of the shoulders (as in OpenPose's training labels).
Only model complexity 1 ships inside the mediapipe 0.10.14 wheel, so that is the one used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.draw.pose import COCO18_NAMES
from fsvid2vid.data.real.mp import mediapipe_solutions, native_stderr_silenced

#: COCO-18 index -> BlazePose landmark index (-1: the neck, the midpoint of the two shoulders).
COCO18_FROM_BLAZEPOSE = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
BLAZEPOSE_LEFT_SHOULDER, BLAZEPOSE_RIGHT_SHOULDER = 11, 12
NUM_BLAZEPOSE = 33

#: A keypoint whose BlazePose visibility is below this is marked missing (confidence 0).
MIN_VISIBILITY = 0.5

assert len(COCO18_FROM_BLAZEPOSE) == len(COCO18_NAMES)


def blazepose_to_coco18(landmarks: np.ndarray, min_visibility: float = MIN_VISIBILITY) -> np.ndarray:
    """(33, 3) BlazePose [x, y, visibility] (pixels) -> (18, 3) float32 COCO-18 [x, y, confidence].

    The confidence is the visibility, or 0 below ``min_visibility``; the neck takes the lower of the two shoulders'.
    """
    lm = np.asarray(landmarks, np.float64)
    if lm.shape != (NUM_BLAZEPOSE, 3):
        raise ValueError(f"expected (33, 3) BlazePose landmarks, got shape {lm.shape}")
    out = np.zeros((18, 3), np.float64)
    for coco, blaze in enumerate(COCO18_FROM_BLAZEPOSE):
        if blaze >= 0:
            out[coco] = lm[blaze]
    left, right = lm[BLAZEPOSE_LEFT_SHOULDER], lm[BLAZEPOSE_RIGHT_SHOULDER]
    out[1, :2] = (left[:2] + right[:2]) / 2
    out[1, 2] = min(left[2], right[2])
    out[out[:, 2] < min_visibility, 2] = 0.0
    return out.astype(np.float32)


@dataclass
class PoseDetection:
    """One person found in an image."""

    keypoints: np.ndarray  # (18, 3) float32 COCO-18 [x, y, confidence] in pixels of the image
    mask: np.ndarray | None  # (H, W) float32 in [0, 1]: probability that a pixel belongs to the person

    def box(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) of the visible keypoints, or None when fewer than 2 are visible."""
        return keypoint_box(self.keypoints)


def keypoint_box(keypoints: np.ndarray) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) around the visible ((K, 3) confidence > 0) keypoints, or None with fewer than 2."""
    v = keypoints[keypoints[:, 2] > 0, :2]
    if len(v) < 2:
        return None
    return float(v[:, 0].min()), float(v[:, 1].min()), float(v[:, 0].max()), float(v[:, 1].max())


def is_reliable(keypoints: np.ndarray, min_height_px: float = 16.0) -> bool:
    """A usable body detection: both shoulders and a hip or the nose visible, at least ``min_height_px`` tall."""
    c = keypoints[:, 2] > 0
    if not (c[2] and c[5] and (c[8] or c[11] or c[0])):
        return False
    box = keypoint_box(keypoints)
    return box is not None and box[3] - box[1] >= min_height_px


class PoseDetector:
    """mediapipe Pose on single images (model complexity 1, with the segmentation mask). Use as a context manager
    or call :meth:`close`."""

    def __init__(self, min_detection_confidence: float = 0.5):
        solutions = mediapipe_solutions()
        with native_stderr_silenced():
            self._pose = solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True,
                                             min_detection_confidence=min_detection_confidence)

    def __enter__(self) -> PoseDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pose.close()

    def detect(self, rgb: np.ndarray) -> PoseDetection | None:
        """The person in an (H, W, 3) uint8 RGB image, or None when mediapipe finds nobody."""
        h, w = rgb.shape[:2]
        with native_stderr_silenced():
            result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        lm = np.array([[p.x * w, p.y * h, p.visibility] for p in result.pose_landmarks.landmark], np.float64)
        mask = None if result.segmentation_mask is None else np.asarray(result.segmentation_mask, np.float32)
        return PoseDetection(blazepose_to_coco18(lm), mask)
