"""Which frames of a subject's own clip serve as its K example frames: chosen to cover the subject's views.

A clip whose meta.json has per-frame ``views`` (the subject's yaw in radians: 0 facing the camera, +-pi seen from
behind; benchmark version 2) gives, for K = 1, its most frontal frame; for K = 2 also its most-behind frame; for larger
K, each further frame is the one whose view is farthest (on the circle of yaws) from every view chosen so far
(farthest-point sampling). Ties go to the earlier frame; the frames are distinct. So a K = 1 example may not show what
a target seen from behind shows, and K = 2 does. Clips without views (real footage, tasks without a turning subject,
benchmark version 1) keep K frames spread evenly over the clip, away from both ends.

The evaluation (``evaluate``, its sheets), the app's benchmark subjects and ``bench infer`` all pick examples here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def wrap_angle(angle: np.ndarray | float) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(angle, np.float64) + np.pi) % (2 * np.pi) - np.pi


def even_indices(n_frames: int, k: int) -> list[int]:
    """``k`` frame indices spread evenly over a clip of ``n_frames``, away from both ends (distinct when
    ``k <= n_frames``)."""
    if k > n_frames:
        raise ValueError(f"cannot pick {k} distinct frames out of {n_frames}")
    picks = np.linspace(0, n_frames - 1, k + 2)[1:-1]
    out = np.round(picks).astype(int).tolist()
    if len(set(out)) < k:  # rounding collided on a short clip: fall back to evenly strided frames
        out = np.linspace(0, n_frames - 1, k).round().astype(int).tolist()
    return out


def view_indices(views: Sequence[float], k: int) -> list[int]:
    """``k`` distinct frame indices covering ``views`` (one yaw per frame), in the order chosen: the most frontal
    frame, the most-behind one, then farthest-point sampling on the circle (ties: the earlier frame)."""
    yaw = wrap_angle(np.asarray(views, np.float64))
    if k > len(yaw):
        raise ValueError(f"cannot pick {k} distinct frames out of {len(yaw)}")
    turned = np.abs(yaw)
    chosen: list[int] = []
    if k >= 1:
        chosen.append(int(np.argmin(turned)))  # argmin / argmax return the first of equal values
    if k >= 2:
        chosen.append(int(np.argmax(np.where(np.arange(len(yaw)) == chosen[0], -np.inf, turned))))
    while len(chosen) < k:
        gap = np.abs(wrap_angle(yaw[:, None] - yaw[chosen][None, :])).min(axis=1)
        gap[chosen] = -np.inf
        chosen.append(int(np.argmax(gap)))
    return chosen


def example_indices(n_frames: int, k: int, views: Sequence[float] | None = None) -> list[int]:
    """The ``k`` example frames of a clip of ``n_frames``: by :func:`view_indices` when the clip has ``views``,
    else :func:`even_indices`."""
    if views is None:
        return even_indices(n_frames, k)
    if len(views) != n_frames:
        raise ValueError(f"{len(views)} views for {n_frames} frames")
    return view_indices(views, k)


def spread_views(views: np.ndarray, k: int, rng: np.random.Generator, jitter: float = 0.2,
                 front_first: bool = False) -> list[int]:
    """Training's view-covering draw: ``k`` distinct indices of ``views`` (yaws, k <= len), the first at random (with
    ``front_first``, at random among the views facing the camera, ``|yaw| < pi / 2``, where there are any, as a photo
    of a person and :func:`view_indices`'s first example are), each next the one farthest on the yaw circle from
    those drawn, ties (within ``jitter`` radians) broken at random."""
    yaw = wrap_angle(views)
    pool = np.flatnonzero(np.abs(yaw) < np.pi / 2) if front_first else np.arange(0)
    pool = pool if len(pool) else np.arange(len(yaw))
    chosen = [int(pool[rng.integers(len(pool))])]
    while len(chosen) < k:
        gap = np.abs(wrap_angle(yaw[:, None] - yaw[chosen][None, :])).min(axis=1) + rng.uniform(0, jitter, len(yaw))
        gap[chosen] = -np.inf
        chosen.append(int(np.argmax(gap)))
    return chosen
