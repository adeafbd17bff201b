"""Which clips evaluate an unseen subject: its own clip gives the examples, a cross-identity clip the driving and the
ground truth.

A benchmark test split rendered with ``--cross-identity N`` holds, for each subject A, its own clips ``s<A>_c00``,
``s<A>_c01``, ... and clips ``s<A>_x<B>_c00`` of A performing the first clip of subject B (B's shape and motion,
A's appearance). Driving a model with the semantic maps of ``s<A>_x<B>_c00`` and examples of A taken from
``s<A>_c00`` makes it animate an unseen subject with another subject's motion, and the frames of
``s<A>_x<B>_c00`` are exactly what it should produce. The examples cover the subject's views where the clip has
them (:mod:`fsvid2vid.data.views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fsvid2vid.data.layout import RGB_DIR, find_clips, frame_name, read_meta
from fsvid2vid.data.synth.version import check_benchmark_version
from fsvid2vid.data.views import example_indices
from fsvid2vid.errors import UserError

__all__ = ["CrossPair", "cross_pairs", "example_indices", "example_paths"]


@dataclass(frozen=True)
class CrossPair:
    """An unseen subject's own clip (examples) and its cross-identity clip (driving + ground truth)."""

    own: Path
    cross: Path


def cross_pairs(root: Path) -> list[CrossPair]:
    """The (own clip, cross-identity clip) pairs of a dataset folder, in clip-name order; a one-line error for
    benchmark clips of another benchmark version (:mod:`fsvid2vid.data.synth.version`)."""
    clips = find_clips(root)
    check_benchmark_version(root, clips, [read_meta(d) for d in clips])
    pairs = []
    for cross in [d for d in clips if "_x" in d.name]:
        own = cross.parent / (cross.name.split("_x")[0] + "_c" + cross.name.rsplit("_c", 1)[1])
        if own.is_dir():
            pairs.append(CrossPair(own, cross))
    if not pairs:
        raise UserError(f"{root}: holds no cross-identity clips with their subject's own clip (s<A>_x<B>_c00 next to "
                        f"s<A>_c00); render a test split with `fsvid2vid data synth --split test --cross-identity 1`")
    return pairs


def example_paths(own: Path, k: int) -> list[Path]:
    """The ``k`` example frames of an own clip, chosen to cover its views where its meta.json has them (see
    :mod:`fsvid2vid.data.views`), with a one-line error when the clip is short."""
    meta = read_meta(own)
    if k > meta.n_frames:
        raise UserError(f"K = {k} is more than the {meta.n_frames} frames of {own}; pass a smaller --k or render "
                        "longer clips")
    return [own / RGB_DIR / frame_name(i) for i in example_indices(meta.n_frames, k, meta.views)]
