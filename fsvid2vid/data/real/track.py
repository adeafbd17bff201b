"""Following one person (or face) through a video with a single-person detector.

mediapipe Pose and FaceMesh return at most one subject per image and miss small ones in a wide frame. So the first
detection searches the whole frame and then overlapping tiles (a person 60 px tall in a 576 px frame is found in a
192 px tile), and keeps the tallest subject found. Each following frame is searched only in a square window around
the previous position (about 2.8 times the subject's height), which both follows that one subject and enlarges it for
the detector. A detection whose centre jumps by more than half the subject's height is taken to be somebody else
and counts as a miss; after ``max_lost`` misses in a row the track ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np


class Detection(Protocol):
    keypoints: np.ndarray  # (P, 3) [x, y, confidence] in pixels of the searched image
    mask: np.ndarray | None  # (h, w) float person probability of the searched image, or None


Detector = Callable[[np.ndarray], Detection | None]


@dataclass
class Window:
    """A rectangle of the frame, (x0, y0) inclusive to (x1, y1) exclusive, in integer pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def around(cls, cx: float, cy: float, side: float, height: int, width: int) -> Window:
        half = side / 2
        x0, y0 = int(max(0, round(cx - half))), int(max(0, round(cy - half)))
        return cls(x0, y0, int(min(width, round(cx + half))), int(min(height, round(cy + half))))


@dataclass
class TrackedFrame:
    """The detection of one frame in frame coordinates (or nothing)."""

    keypoints: np.ndarray | None  # (P, 3) float32 [x, y, confidence] in pixels of the frame
    mask: np.ndarray | None = None  # (h, w) uint8 0..255 person probability inside mask_window
    mask_window: Window | None = None


@dataclass
class Track:
    """One subject followed through a video."""

    frames: list[TrackedFrame] = field(default_factory=list)
    lost_at: int | None = None  # frame index where the track ended for good, if it did

    @property
    def found(self) -> np.ndarray:
        return np.array([f.keypoints is not None for f in self.frames], bool)


def subject_extent(keypoints: np.ndarray) -> tuple[float, float, float] | None:
    """(centre x, centre y, size) of the visible points (size: the larger side of their box), or None."""
    v = keypoints[keypoints[:, 2] > 0, :2]
    if len(v) < 2:
        return None
    lo, hi = v.min(axis=0), v.max(axis=0)
    return float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2), float(max(hi - lo))


def _in_window(detect: Detector, frame: np.ndarray, win: Window) -> TrackedFrame | None:
    if win.x1 - win.x0 < 16 or win.y1 - win.y0 < 16:
        return None
    det = detect(frame[win.y0:win.y1, win.x0:win.x1])
    if det is None:
        return None
    kp = det.keypoints.copy()
    kp[:, 0] += win.x0
    kp[:, 1] += win.y0
    mask = None if det.mask is None else np.clip(det.mask * 255, 0, 255).astype(np.uint8)
    return TrackedFrame(kp, mask, win)


def search_frame(detect: Detector, frame: np.ndarray, reliable: Callable[[np.ndarray], bool],
                 tiles: tuple[int, ...] = (2, 3)) -> TrackedFrame | None:
    """The biggest reliable subject in a frame: the whole frame first, then square tiles of 1/n of the frame height
    (n in ``tiles``) overlapping by half."""
    h, w = frame.shape[:2]
    whole = _in_window(detect, frame, Window(0, 0, w, h))
    if whole is not None and reliable(whole.keypoints):
        return whole
    best, best_size = None, 0.0
    for n in tiles:
        side = h // n
        step = max(side // 2, 1)
        for y in range(0, max(h - side, 0) + 1, step):
            for x in range(0, max(w - side, 0) + 1, step):
                found = _in_window(detect, frame, Window(x, y, min(w, x + side), min(h, y + side)))
                if found is None or not reliable(found.keypoints):
                    continue
                size = subject_extent(found.keypoints)[2]
                if size > best_size:
                    best, best_size = found, size
        if best is not None:
            return best
    return None


def track_subject(frames: Iterable[np.ndarray], detect: Detector, reliable: Callable[[np.ndarray], bool],
                  window_scale: float = 2.8, max_lost: int = 15, min_window: int = 96,
                  on_frame: Callable[[], None] | None = None) -> Track:
    """Follow the biggest subject of the first frame where one is found (see the module docstring).

    Args:
        frames: (H, W, 3) uint8 RGB frames.
        detect: single-subject detector on an image (its points in that image's pixels).
        reliable: whether a detection's (P, 3) points are good enough to keep.
        window_scale: side of the search window around the previous position, in subject sizes.
        max_lost: consecutive misses after which the track ends (later frames are not searched).
        on_frame: called once per frame (progress bars).
    """
    track = Track()
    last: tuple[float, float, float] | None = None
    lost = 0
    for index, frame in enumerate(frames):
        if on_frame is not None:
            on_frame()
        if track.lost_at is not None:
            track.frames.append(TrackedFrame(None))
            continue
        h, w = frame.shape[:2]
        if last is None:
            found = search_frame(detect, frame, reliable)
        else:
            cx, cy, size = last
            side = max(min_window, window_scale * size * (1.0 + 0.25 * lost))
            found = _in_window(detect, frame, Window.around(cx, cy, side, h, w))
            if found is not None:
                ext = subject_extent(found.keypoints)
                if not reliable(found.keypoints) or ext is None or np.hypot(ext[0] - cx, ext[1] - cy) > 0.5 * size * (
                        1.0 + lost):
                    found = None
        if found is None:
            track.frames.append(TrackedFrame(None))
            if last is not None:
                lost += 1
                if lost > max_lost:
                    track.lost_at = index
            continue
        lost = 0
        last = subject_extent(found.keypoints)
        track.frames.append(found)
    return track


def paste_mask(frame_mask: TrackedFrame, height: int, width: int) -> np.ndarray | None:
    """The (height, width) float32 [0, 1] person mask of a tracked frame in full-frame coordinates, or None."""
    if frame_mask.mask is None or frame_mask.mask_window is None:
        return None
    out = np.zeros((height, width), np.float32)
    win = frame_mask.mask_window
    m = frame_mask.mask
    if m.shape != (win.y1 - win.y0, win.x1 - win.x0):
        m = cv2.resize(m, (win.x1 - win.x0, win.y1 - win.y0), interpolation=cv2.INTER_LINEAR)
    out[win.y0:win.y1, win.x0:win.x1] = m.astype(np.float32) / 255.0
    return out
