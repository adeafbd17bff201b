"""The face task's views: heads that turn far both ways in every clip, and the view of each frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fsvid2vid.data.synth import clip_motion_seed, render_clip, split_subject_seeds
from fsvid2vid.data.synth.face import RENDERER
from fsvid2vid.data.synth.face.motion import MotionClock

FAR = 35.0  # degrees: every 16-frame clip turns further than this both ways


def _motion(seed: int):
    return render_clip("face", 0, seed, 0, 64).motion


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_16_frame_clip_turns_far_both_ways(split):
    """The first 16 frames (15 fps) of every clip include a yaw < -35 and a yaw > +35 degrees (the motion alone,
    for the first 3 clips of 150 subjects; two clips rendered)."""
    subjects = split_subject_seeds("face", split, 150)
    for subject in subjects:
        for c in range(3):
            clock = MotionClock(_motion(clip_motion_seed(subject, c)))
            yaws = [clock.yaw_degrees(i / RENDERER.fps) for i in range(16)]
            assert min(yaws) < -FAR and max(yaws) > FAR, (subject, c, min(yaws), max(yaws))
            assert max(abs(clock.yaw_degrees(t)) for t in np.linspace(0.0, 20.0, 301)) < 48.5
    for subject in subjects[:2]:
        views = [f.view for f in render_clip("face", subject, clip_motion_seed(subject, 0), 16, 64).frames]
        assert min(views) < -math.radians(FAR) and max(views) > math.radians(FAR)


def test_views_are_set_finite_deterministic_and_size_independent():
    small = [f.view for f in render_clip("face", 5, 501, 12, 64).frames]
    again = [f.view for f in render_clip("face", 5, 501, 12, 64).frames]
    large = [f.view for f in render_clip("face", 5, 501, 12, 128).frames]
    assert all(isinstance(v, float) and math.isfinite(v) for v in small)
    assert small == again == large
    clock = MotionClock(render_clip("face", 5, 501, 0, 64).motion)
    np.testing.assert_allclose(small, [math.radians(clock.yaw_degrees(i / RENDERER.fps)) for i in range(12)])
    assert len(set(small)) == len(small)


def test_positive_view_is_turned_to_the_persons_left():
    """Positive view: the nose points to the image right, where the person's left eye (landmarks 42-47) is."""
    for f in render_clip("face", 2, 202, 16, 128).frames:
        if abs(f.view) > math.radians(20.0):
            nose, temples = f.points[30, 0], 0.5 * (f.points[0, 0] + f.points[16, 0])
            assert np.sign(nose - temples) == np.sign(f.view)
            assert f.points[45, 0] > f.points[36, 0]
