"""The face task's views: heads that turn far both ways in every clip, the view of each frame, and one-sided features
(a lock of hair, a cheek mark, an earring) that show only when their side of the head faces the camera."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from fsvid2vid.data.synth import clip_motion_seed, render_clip, split_subject_seeds, subject_appearance
from fsvid2vid.data.synth.face import RENDERER
from fsvid2vid.data.synth.face.motion import MotionClock
from fsvid2vid.data.synth.face.params import CHEEK_MARKS, EARRINGS, LOCK_STYLES

FAR = 35.0  # degrees: every 16-frame clip turns further than this both ways
TURNED = 40.0  # the yaw of the turned frames below


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


def test_every_person_has_a_one_sided_feature():
    for seed in range(300):
        a = subject_appearance("face", seed)
        assert a.hair_side in (-1, 1) and a.cheek_mark_side in (-1, 1) and a.earring_side in (-1, 1)
        assert a.cheek_mark in CHEEK_MARKS and a.earring in EARRINGS
        assert (a.hair_lock > 0.0) == (a.hair_style in LOCK_STYLES)
        assert a.hair_lock > 0.0 or a.cheek_mark != "none" or a.earring != "none", seed
        if a.hair_lock > 0.0:  # the mark and the earring are on the side where the hair is tucked away
            assert a.cheek_mark_side == a.earring_side == -a.hair_side


def _turned(appearance, yaw: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One frame of subject 3's face and motion with ``appearance``, the head turned by ``yaw`` degrees."""
    clip = render_clip("face", 3, 301, 0, size)
    motion = dataclasses.replace(clip.motion, yaw_offset=yaw, yaw=(), turn_amplitude=0.0)
    frame = next(RENDERER.render(appearance, clip.shape, motion, 1, size, size))
    assert frame.view == pytest.approx(math.radians(yaw))
    return frame.rgb, frame.points


PLAIN = dict(hair_style="bald", beard="none", glasses=False, hair_lock=0.0, cheek_mark="none", earring="none",
             light_side=0.0, skin=(232, 186, 150), hair_color=(34, 26, 22))
FEATURES = {
    "mole": dict(cheek_mark="mole", cheek_mark_size=0.08),
    "birthmark": dict(cheek_mark="birthmark", cheek_mark_size=0.16),
    "scar": dict(cheek_mark="scar", cheek_mark_size=0.18),
    "earring": dict(earring="hoop"),
}


def _person(side: int, **fields):
    """Subject 3 with plain features, colours that are easy to tell apart, and one-sided features on ``side``."""
    return dataclasses.replace(subject_appearance("face", 3), **{**PLAIN, **fields}, hair_side=side,
                               cheek_mark_side=side, earring_side=side, cheek_mark_x=0.6, cheek_mark_y=0.35,
                               cheek_mark_color=(60, 30, 20), earring_color=(212, 172, 60))


@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("side", [-1, 1])
@pytest.mark.parametrize("feature", list(FEATURES))
def test_cheek_mark_and_earring_show_only_when_their_side_faces_the_camera(feature, side, size):
    """The feature changes pixels on its side of a face turned to show that side, and none when that side turns
    away."""
    plain, featured = _person(side), _person(side, **FEATURES[feature])
    towards = -side * TURNED  # positive yaw shows the person's right side (side -1)
    changed = {}
    for yaw in (towards, -towards):
        with_rgb, points = _turned(featured, yaw, size)
        without_rgb, _ = _turned(plain, yaw, size)
        changed[yaw] = np.abs(with_rgb.astype(int) - without_rgb.astype(int)).max(axis=2) > 12
    _, xs = np.nonzero(changed[towards])
    shown, hidden = len(xs), int(changed[-towards].sum())
    assert shown >= {"mole": 3, "birthmark": 12, "scar": 8, "earring": 8}[feature] * (size / 64) ** 2, shown
    assert np.all((xs - _turned(featured, towards, size)[1][30, 0]) * side > 0)  # on its side of the nose
    assert hidden == 0, hidden


def _near_cheek_hair(rgb: np.ndarray, points: np.ndarray, side: int) -> float:
    """Share of hair-coloured pixels on the cheek of ``side`` (between the outline and the eye's outer corner, from
    the eye line to the mouth corner)."""
    eye, jaw, mouth = (36, 2, 48) if side < 0 else (45, 14, 54)
    x0, x1 = sorted([points[jaw, 0], points[eye, 0]])
    box = rgb[int(points[eye, 1]):int(np.ceil(points[mouth, 1])), int(x0):int(np.ceil(x1))].astype(float)
    to_hair = np.linalg.norm(box - PLAIN["hair_color"], axis=2)
    return float(np.mean(to_hair < np.linalg.norm(box - PLAIN["skin"], axis=2)))


@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("side", [-1, 1])
@pytest.mark.parametrize("style", LOCK_STYLES)
def test_hair_falls_over_one_side_and_is_tucked_behind_the_other_ear(style, side, size):
    """With a lock, the cheek of ``hair_side`` turned to the camera is partly covered by hair; the other cheek turned
    to the camera is clear (the hair is tucked behind its ear). Without one, both sides look alike."""
    cover = {}
    for lock in (0.0, 0.42):
        person = _person(side, hair_style=style, hair_lock=lock)
        cover[lock] = [_near_cheek_hair(*_turned(person, -s * TURNED, size), s) for s in (side, -side)]
    lock_side, tucked_side = cover[0.42]
    assert lock_side > tucked_side + 0.1 and tucked_side < 0.06, cover
    assert lock_side > cover[0.0][0] and abs(cover[0.0][0] - cover[0.0][1]) < 0.1, cover
