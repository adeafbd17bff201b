"""Face landmarks from mediapipe FaceMesh (468 points), mapped to the dlib-68 layout the benchmark's sketches use.

The table :data:`DLIB68_FROM_FACEMESH` picks, for every dlib landmark, the FaceMesh vertex at the same place on the
face (built by hand from the FaceMesh canonical topology and checked on the overlay sheets in docs/real-footage.md).
Symmetric dlib pairs map to mirror-image FaceMesh vertices. FaceMesh's jaw line is the face oval, which runs a little
outside dlib's jaw on cheeks turned away from the camera; everything else sits on the same features.

"Right" is the subject's right, i.e. the left of a non-mirrored image, as in dlib.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.draw.face import NUM_LANDMARKS
from fsvid2vid.data.real.mp import mediapipe_solutions, native_stderr_silenced

NUM_FACEMESH = 468

#: dlib-68 index -> FaceMesh vertex index.
DLIB68_FROM_FACEMESH = (
    # jaw 0-16: subject's right ear level, down to the chin (8), up to the left ear level
    234, 93, 132, 58, 172, 136, 150, 176, 152, 400, 379, 365, 397, 288, 361, 323, 454,
    # right brow 17-21 (outer -> inner), left brow 22-26 (inner -> outer)
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    # nose bridge 27-30 (between the eyes -> tip), lower nose 31-35 (right wing -> left wing)
    168, 197, 5, 4, 98, 97, 2, 326, 327,
    # right eye 36-41: outer corner, upper lid x2, inner corner, lower lid x2
    33, 160, 158, 133, 153, 144,
    # left eye 42-47: inner corner, upper lid x2, outer corner, lower lid x2
    362, 385, 387, 263, 373, 380,
    # outer lips 48-59: right corner, upper lip to the left corner (54), lower lip back
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
    # inner lips 60-67: right corner, upper, left corner (64), lower
    78, 81, 13, 311, 308, 402, 14, 178,
)

assert len(DLIB68_FROM_FACEMESH) == NUM_LANDMARKS


def facemesh_to_dlib68(mesh: np.ndarray) -> np.ndarray:
    """(468, 2 or 3) FaceMesh points in pixels -> (68, 3) float32 dlib-68 [x, y, 1]."""
    mesh = np.asarray(mesh, np.float32)
    if mesh.ndim != 2 or mesh.shape[0] < NUM_FACEMESH:
        raise ValueError(f"expected (468, 2+) FaceMesh points, got shape {mesh.shape}")
    out = np.ones((NUM_LANDMARKS, 3), np.float32)
    out[:, :2] = mesh[list(DLIB68_FROM_FACEMESH), :2]
    return out


def is_reliable(landmarks: np.ndarray, min_size_px: float = 24.0) -> bool:
    """A usable face: all 68 landmarks finite and the face at least ``min_size_px`` across."""
    pts = landmarks[:, :2]
    if not np.isfinite(pts).all():
        return False
    return float(np.ptp(pts, axis=0).max()) >= min_size_px


@dataclass
class FaceDetection:
    """One face found in an image."""

    keypoints: np.ndarray  # (68, 3) float32 dlib-68 [x, y, 1] in pixels of the image
    mask: None = None  # faces have no silhouette


class FaceDetector:
    """mediapipe FaceMesh on single images (one face, without the iris refinement)."""

    def __init__(self, min_detection_confidence: float = 0.5):
        solutions = mediapipe_solutions()
        with native_stderr_silenced():
            self._mesh = solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False,
                                                      min_detection_confidence=min_detection_confidence)

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._mesh.close()

    def detect(self, rgb: np.ndarray) -> FaceDetection | None:
        """The face in an (H, W, 3) uint8 RGB image, or None when mediapipe finds none."""
        h, w = rgb.shape[:2]
        with native_stderr_silenced():
            result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return None
        mesh = np.array([[p.x * w, p.y * h] for p in result.multi_face_landmarks[0].landmark], np.float32)
        return FaceDetection(facemesh_to_dlib68(mesh))
