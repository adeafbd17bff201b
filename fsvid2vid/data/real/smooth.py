"""Gap filling and temporal smoothing of point tracks ((T, P, 3) arrays of [x, y, confidence] per frame).

A frame either has a detection or not. Runs of missing frames of at most ``max_gap`` frames between two detections
are filled by linear interpolation; longer runs, and missing frames before the first or after the last detection,
are dropped. What is left is cut into segments of consecutive kept frames; each is smoothed on its own, so nothing
is ever smoothed across a dropped stretch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DETECTED, INTERPOLATED, DROPPED = 0, 1, 2


@dataclass
class GapReport:
    """What happened to each frame of a track."""

    status: np.ndarray  # (T,) int: DETECTED, INTERPOLATED or DROPPED
    segments: list[tuple[int, int]]  # [start, stop) of the runs of kept frames, in order

    @property
    def counts(self) -> dict[str, int]:
        return {"frames": int(len(self.status)), "detected": int((self.status == DETECTED).sum()),
                "interpolated": int((self.status == INTERPOLATED).sum()),
                "dropped": int((self.status == DROPPED).sum())}


def fill_gaps(points: np.ndarray, found: np.ndarray, max_gap: int = 3) -> tuple[np.ndarray, GapReport]:
    """Interpolate short gaps of a track.

    Args:
        points: (T, P, 3) float [x, y, confidence]; rows of frames without a detection are ignored.
        found: (T,) bool, True where the frame has a reliable detection.
        max_gap: the longest run of missing frames (between two detections) that is interpolated.

    Returns:
        (T, P, 3) float32 points with interpolated gaps filled (a point is interpolated when it is visible at both
        ends, with the lower confidence of the two; otherwise its confidence is 0), and the :class:`GapReport`.
    """
    pts = np.array(points, np.float32, copy=True)
    found = np.asarray(found, bool)
    status = np.where(found, DETECTED, DROPPED)
    hits = np.flatnonzero(found)
    for a, b in zip(hits[:-1], hits[1:]):
        gap = b - a - 1
        if 0 < gap <= max_gap:
            both = (pts[a, :, 2] > 0) & (pts[b, :, 2] > 0)
            for k in range(1, gap + 1):
                w = k / (gap + 1)
                pts[a + k, :, :2] = (1 - w) * pts[a, :, :2] + w * pts[b, :, :2]
                pts[a + k, :, 2] = np.where(both, np.minimum(pts[a, :, 2], pts[b, :, 2]), 0.0)
                status[a + k] = INTERPOLATED
    pts[status == DROPPED] = 0.0
    kept = status != DROPPED
    segments, start = [], None
    for t, keep in enumerate(kept):
        if keep and start is None:
            start = t
        if not keep and start is not None:
            segments.append((start, t))
            start = None
    if start is not None:
        segments.append((start, len(kept)))
    return pts, GapReport(status, segments)


def _gaussian(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame offsets -r..r (r = ceil(3 sigma)) and their unnormalised Gaussian weights."""
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    return offsets, np.exp(-0.5 * (offsets / sigma) ** 2)


def smooth_track(points: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Centred Gaussian smoothing over time of one segment, weighted by confidence.

    Args:
        points: (T, P, 3) float [x, y, confidence] of consecutive frames.
        sigma: standard deviation of the Gaussian in frames (0: no smoothing).

    Returns:
        (T, P, 3) float32. Each visible point becomes the confidence-weighted mean of the same point in the
        frames within 3 sigma; a point invisible in a frame stays invisible there (confidences are unchanged).
    """
    pts = np.asarray(points, np.float32)
    if sigma <= 0 or len(pts) < 2:
        return pts.copy()
    offsets, kernel = _gaussian(sigma)
    T = len(pts)
    out = pts.copy()
    conf = pts[:, :, 2]
    for t in range(T):
        idx = np.clip(t + offsets, 0, T - 1)
        valid = (idx == t + offsets)[:, None] * kernel[:, None] * conf[idx]  # (2r+1, P)
        total = valid.sum(axis=0)
        ok = (conf[t] > 0) & (total > 0)
        mean = (valid[:, :, None] * pts[idx, :, :2]).sum(axis=0) / np.maximum(total, 1e-9)[:, None]
        out[t, ok, :2] = mean[ok]
    return out


def smooth_series(values: np.ndarray, sigma: float) -> np.ndarray:
    """Centred Gaussian smoothing over the first axis of a (T, ...) float array (edges use the frames that exist)."""
    v = np.asarray(values, np.float64)
    if sigma <= 0 or len(v) < 2:
        return v.copy()
    offsets, kernel = _gaussian(sigma)
    out = np.empty_like(v)
    for t in range(len(v)):
        idx = t + offsets
        ok = (idx >= 0) & (idx < len(v))
        w = kernel[ok] / kernel[ok].sum()
        out[t] = np.tensordot(w, v[idx[ok]], axes=1)
    return out
