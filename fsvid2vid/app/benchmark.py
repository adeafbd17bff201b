"""Benchmark inputs for the app, rendered on the fly at the model's frame size: example frames of an unseen (test
split) subject, and a driving clip with another unseen subject's motion.

A clip of 36 frames renders in well under a second at 64 to 128 px, so nothing is kept between jobs.
"""

from __future__ import annotations

from pathlib import Path

from fsvid2vid.data.layout import RGB_DIR, frame_name, read_meta
from fsvid2vid.data.synth import clip_motion_seed, split_subject_seeds
from fsvid2vid.data.synth.export import ClipJob, clip_name, render_job
from fsvid2vid.data.views import example_indices

#: Unseen subjects offered per task (the first of the test split: even ones wear held-out appearance combinations).
N_SUBJECTS = 8
#: Frames of the clip the example frames are taken from.
EXAMPLE_CLIP_FRAMES = 36
#: What a subject is called on the page, per task.
SUBJECT_NOUN = {"dance": "dancer", "face": "face", "street": "city"}


def subjects(task: str) -> list[int]:
    """The subject seeds offered for ``task``: the first :data:`N_SUBJECTS` of its test split."""
    return split_subject_seeds(task, "test", N_SUBJECTS)


def subject_label(task: str, seed: int) -> str:
    return f"unseen {SUBJECT_NOUN[task]} {seed}"


def render_examples(task: str, subject: int, k: int, size: int, out_dir: Path) -> list[Path]:
    """Render ``subject``'s own first clip into ``out_dir`` and return K of its frames (``<clip>/rgb/NNNNNN.png``,
    so their semantic maps and points come with them), chosen as the evaluation chooses them: covering the
    subject's views where the task has them (:mod:`fsvid2vid.data.views`)."""
    job = ClipJob(task, clip_name(subject, 0), subject, subject, clip_motion_seed(subject, 0), EXAMPLE_CLIP_FRAMES,
                  size)
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = render_job(job, out_dir)
    return [clip / RGB_DIR / frame_name(i) for i in example_indices(EXAMPLE_CLIP_FRAMES, k, read_meta(clip).views)]


def render_driving(task: str, motion_subject: int, n_frames: int, size: int, out_dir: Path,
                   subject: int | None = None) -> Path:
    """A clip folder of ``motion_subject``'s first clip (its shape and motion). With ``subject`` (the examples'
    benchmark subject) the clip shows that subject performing it: its frames are the ground truth. Without, the clip's
    RGB frames are dropped, since they would show another subject."""
    look = motion_subject if subject is None else subject
    job = ClipJob(task, clip_name(look, 0, motion_subject), look, motion_subject, clip_motion_seed(motion_subject, 0),
                  n_frames, size)
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = render_job(job, out_dir)
    if subject is None:
        for png in (clip / RGB_DIR).glob("*.png"):
            png.unlink()
    return clip
