"""The procedural few-shot video benchmark: three tasks, deterministic seeds, cross-identity ground truth.

Entry points:

* :func:`render_clip`: any subject (appearance) performing any motion, optionally with another subject's shape.
* :func:`split_subject_seeds`: the subject seeds of the ``train`` and ``test`` splits (disjoint).
* :func:`get_renderer`: the :class:`~fsvid2vid.data.synth.common.TaskRenderer` of a task.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from fsvid2vid.data.semantics import check_task, frame_size
from fsvid2vid.data.synth.common import Frame, TaskRenderer
from fsvid2vid.errors import UserError

SPLITS = ("train", "test")

#: Subject seeds of the test split start here; train seeds lie below it, so the splits can never overlap.
TEST_SEED_BASE = 1_000_000
#: Motion seed of clip c of subject s is ``s * MAX_CLIPS_PER_SUBJECT + c``.
MAX_CLIPS_PER_SUBJECT = 100

# Which stream of randomness a seed feeds; mixed into the generator's seed sequence.
_APPEARANCE, _SHAPE, _MOTION = 0, 1, 2


def get_renderer(task: str) -> TaskRenderer:
    """The renderer of ``task`` ("dance", "face" or "street")."""
    return importlib.import_module(f"fsvid2vid.data.synth.{check_task(task)}").RENDERER


def _rng(renderer: TaskRenderer, stream: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([renderer.task_id, stream, int(seed)])


def subject_appearance(task: str, subject_seed: int) -> Any:
    """The appearance drawn from ``subject_seed`` (a renderer-specific dataclass)."""
    r = get_renderer(task)
    return r.sample_appearance(_rng(r, _APPEARANCE, subject_seed))


def split_subject_seeds(task: str, split: str, n: int) -> list[int]:
    """The first ``n`` subject seeds of ``split``.

    train: seeds 0, 1, 2, ... whose appearance is not a held-out combination.
    test:  seeds from ``TEST_SEED_BASE`` on; every even-numbered test subject is a held-out combination (never seen
           in train), every odd-numbered one is any appearance. Both lists are deterministic.
    """
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    r = get_renderer(task)
    seeds: list[int] = []
    seed = 0 if split == "train" else TEST_SEED_BASE
    while len(seeds) < n:
        held_out = r.is_held_out(r.sample_appearance(_rng(r, _APPEARANCE, seed)))
        if split == "train":
            ok = not held_out
        else:
            ok = held_out if len(seeds) % 2 == 0 else True
        if ok:
            seeds.append(seed)
        seed += 1
    return seeds


def held_out_fraction(task: str, n: int = 1000) -> float:
    """Share of subject seeds 0 .. n-1 whose appearance is a held-out combination (never in train).

    docs/data.md lists them per task, from ``[held_out_fraction(t) for t in fsvid2vid.data.semantics.TASKS]``.
    """
    r = get_renderer(task)
    return sum(r.is_held_out(r.sample_appearance(_rng(r, _APPEARANCE, s))) for s in range(n)) / n


def split_of(subject_seed: int) -> str:
    """The split a subject seed belongs to."""
    return "test" if subject_seed >= TEST_SEED_BASE else "train"


def clip_motion_seed(subject_seed: int, clip_index: int) -> int:
    """Motion seed of the ``clip_index``-th own clip of a subject (disjoint between subjects and splits)."""
    if not 0 <= clip_index < MAX_CLIPS_PER_SUBJECT:
        raise UserError(f"clip index {clip_index} out of range: at most {MAX_CLIPS_PER_SUBJECT} clips per subject")
    return subject_seed * MAX_CLIPS_PER_SUBJECT + clip_index


@dataclass
class ClipRender:
    """A rendered clip: its seeds, the drawn parameters, and a lazy iterator over its frames."""

    task: str
    subject_seed: int
    shape_seed: int
    motion_seed: int
    appearance: Any
    shape: Any
    motion: Any
    height: int
    width: int
    n_frames: int
    frames: Iterator[Frame]


def render_clip(task: str, subject_seed: int, motion_seed: int, n_frames: int, size: int,
                shape_seed: int | None = None) -> ClipRender:
    """Render ``subject_seed``'s appearance performing ``motion_seed`` with the shape of ``shape_seed``.

    ``shape_seed`` defaults to ``subject_seed`` (a subject's own body / face / city layout). Passing another
    subject's seed as ``shape_seed`` together with that subject's ``motion_seed`` gives the cross-identity ground
    truth: semantic maps identical to that subject's clip, appearance of ``subject_seed``.
    """
    r = get_renderer(task)
    shape_seed = subject_seed if shape_seed is None else shape_seed
    appearance = r.sample_appearance(_rng(r, _APPEARANCE, subject_seed))
    shape = r.sample_shape(_rng(r, _SHAPE, shape_seed))
    motion = r.sample_motion(_rng(r, _MOTION, motion_seed))
    height, width = frame_size(task, size)
    frames = r.render(appearance, shape, motion, n_frames, height, width)
    return ClipRender(task, subject_seed, shape_seed, motion_seed, appearance, shape, motion, height, width,
                      n_frames, frames)
