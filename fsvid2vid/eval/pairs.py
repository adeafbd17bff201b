"""Which clips evaluate an unseen subject: its own clip gives the examples, a cross-identity clip the driving and the
ground truth.

A benchmark test split rendered with ``--cross-identity N`` holds, for each subject A, its own clips ``s<A>_c00``,
``s<A>_c01``, ... and clips ``s<A>_x<B>_c00`` of A performing the first clip of subject B (B's shape and motion,
A's appearance). Driving a model with the semantic maps of ``s<A>_x<B>_c00`` and examples of A taken from
``s<A>_c00`` makes it animate an unseen subject with another subject's motion, and the frames of
``s<A>_x<B>_c00`` are exactly what it should produce.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsvid2vid.data.layout import RGB_DIR, find_clips, frame_name, read_meta
from fsvid2vid.errors import UserError


@dataclass(frozen=True)
class CrossPair:
    """An unseen subject's own clip (examples) and its cross-identity clip (driving + ground truth)."""

    own: Path
    cross: Path


def cross_pairs(root: Path) -> list[CrossPair]:
    """The (own clip, cross-identity clip) pairs of a dataset folder, in clip-name order."""
    pairs = []
    for cross in [d for d in find_clips(root) if "_x" in d.name]:
        own = cross.parent / (cross.name.split("_x")[0] + "_c" + cross.name.rsplit("_c", 1)[1])
        if own.is_dir():
            pairs.append(CrossPair(own, cross))
    if not pairs:
        raise UserError(f"{root}: holds no cross-identity clips with their subject's own clip (s<A>_x<B>_c00 next to "
                        f"s<A>_c00); render a test split with `fsvid2vid data synth --split test --cross-identity 1`")
    return pairs


def example_indices(n_frames: int, k: int) -> list[int]:
    """``k`` frame indices spread evenly over a clip of ``n_frames``, away from both ends (distinct when
    ``k <= n_frames``)."""
    if k > n_frames:
        raise ValueError(f"cannot pick {k} distinct frames out of {n_frames}")
    picks = np.linspace(0, n_frames - 1, k + 2)[1:-1]
    out = np.round(picks).astype(int).tolist()
    if len(set(out)) < k:  # rounding collided on a short clip: fall back to evenly strided frames
        out = np.linspace(0, n_frames - 1, k).round().astype(int).tolist()
    return out


def example_paths(own: Path, k: int) -> list[Path]:
    """The ``k`` example frames of an own clip (see :func:`example_indices`), with a one-line error when it is short."""
    n = read_meta(own).n_frames
    if k > n:
        raise UserError(f"K = {k} is more than the {n} frames of {own}; pass a smaller --k or render longer clips")
    return [own / RGB_DIR / frame_name(i) for i in example_indices(n, k)]
