"""The dance task: keypoints, the skeleton drawing, and the body-part map agree with each other; dancers turn and
look different from the front and from behind (benchmark version 2); the part map labels hair, backpack and skirt
(version 3)."""

from __future__ import annotations

import numpy as np
import pytest

from fsvid2vid.data.draw.pose import COCO18_COLORS, COCO18_LIMBS, draw_openpose, flip_keypoints
from fsvid2vid.data.synth import _MOTION, _rng, clip_motion_seed, get_renderer, render_clip, split_subject_seeds
from fsvid2vid.data.synth.dance import PART_FLIP, PART_NAMES
from fsvid2vid.data.synth.dance.skeleton import yaw_at
from fsvid2vid.data.views import wrap_angle

FRONT, BACK = np.pi / 4, 3 * np.pi / 4  # |yaw| below: seen from the front; above: seen from behind


@pytest.fixture(scope="module")
def clips():
    return [list(render_clip("dance", s, s * 100 + 7, 40, 128).frames) for s in (0, 5, 9, 1_000_002)]


def test_keypoints_inside_the_frame(clips):
    for frames in clips:
        for f in frames:
            h, w = f.rgb.shape[:2]
            assert f.points.shape == (18, 3)
            assert (f.points[:, 0] >= 0).all() and (f.points[:, 0] < w).all()
            assert (f.points[:, 1] >= 0).all() and (f.points[:, 1] < h).all()
            assert f.points[1:14, 2].min() == 1.0, "body joints are always visible"


def test_skeleton_image_is_drawn_at_the_keypoints(clips):
    for frames in clips:
        for f in frames[::5]:
            pose = f.layers["pose"]
            lit = pose.max(axis=2) > 0
            for x, y, c in f.points:
                if c > 0:  # a visible keypoint lies on a lit pixel of the skeleton image
                    assert lit[int(round(y)), int(round(x))]
            # and every lit pixel lies near a limb or joint
            ys, xs = np.nonzero(lit)
            pts = np.stack([xs, ys], 1).astype(float)
            vis = f.points[:, 2] > 0
            dist = np.full(len(pts), np.inf)
            segments = [(a, b) for a, b in COCO18_LIMBS if vis[a] and vis[b]] + [(i, i) for i in np.flatnonzero(vis)]
            for a, b in segments:
                dist = np.minimum(dist, _segment_distance(pts, f.points[a, :2], f.points[b, :2]))
            assert dist.max() <= 4.0  # half the 2-px line or the 3-px joint disc, plus anti-aliasing


def test_part_map_covers_the_skeleton_and_the_body_shows_in_rgb(clips):
    for frames in clips:
        f = frames[0]
        parts = f.layers["parts"]
        assert set(np.unique(parts)) <= set(range(len(PART_NAMES)))
        for i in (1, 8, 11):  # neck, right hip, left hip lie on the torso or legs
            x, y = f.points[i, :2].round().astype(int)
            assert parts[y, x] != 0
        assert (parts == 1).any() and (parts == 2).any()


def test_the_part_map_labels_what_the_dancer_wears_beyond_the_body():
    """Benchmark version 3: on the wall (no floor shadow there) every pixel the dancer changes, hair, backpack and
    skirt included, is labelled or touches a labelled pixel (the anti-aliased edge); the hair that leaves the head's
    ellipse is labelled head, the skirt and the backpack torso. Subject 4 wears long hair, a skirt and a backpack."""
    import cv2

    from fsvid2vid.data.synth.dance.body import part_map
    from fsvid2vid.data.synth.dance.painting import SUPERSAMPLE, room_background
    from fsvid2vid.data.synth.dance.skeleton import pose_at

    clip = render_clip("dance", 4, 407, 24, 128)
    a = clip.appearance
    assert (a.bag, a.bottom, a.hair_style) == ("backpack", "skirt", "long")
    h, w = clip.height, clip.width
    room = cv2.resize(room_background(a, h * SUPERSAMPLE, w * SUPERSAMPLE), (w, h), interpolation=cv2.INTER_AREA)
    wall = np.arange(h)[:, None] < int(0.72 * h) - 2
    worn_labels = set()
    for index, f in enumerate(clip.frames):
        parts = f.layers["parts"]
        changed = (np.abs(f.rgb.astype(int) - room.astype(int)).max(axis=2) > 24) & wall
        near = cv2.dilate((parts > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        assert not (changed & ~near).any(), f"frame {index}: {(changed & ~near).sum()} unlabelled dancer pixels"
        body = part_map(clip.shape, pose_at(clip.shape, clip.motion, index / 15, h, w), h, w)
        worn_labels |= set(np.unique(parts[(body == 0) & (parts > 0)]).tolist())
    assert worn_labels == {1, 2}  # head (hair) and torso (skirt, backpack)


def test_hidden_face_points_are_not_drawn():
    kp = np.array([[10 + 3 * i, 10 + 2 * i, 1.0] for i in range(18)], np.float32)
    kp[0, 2] = 0  # nose missing: the neck-nose, nose-eye limbs disappear
    img = draw_openpose(kp, 64, 64)
    nose_color = np.array(COCO18_COLORS[0])
    assert not (np.abs(img.astype(int) - nose_color).sum(axis=2) == 0).any()
    full = draw_openpose(np.where(np.arange(18)[:, None] == 0, [10, 10, 1.0], kp), 64, 64)
    assert (full != img).any()


def test_flip_swaps_left_and_right():
    kp = np.random.default_rng(0).uniform(0, 60, (18, 3)).astype(np.float32)
    kp[:, 2] = 1
    twice = flip_keypoints(flip_keypoints(kp, 64), 64)
    np.testing.assert_allclose(twice, kp, atol=1e-4)
    names = list(PART_NAMES)
    for i, j in enumerate(PART_FLIP):
        assert names[j] == names[i].replace("left", "#").replace("right", "left").replace("#", "right")


def test_cross_identity_dancer_keeps_the_appearance_of_its_examples():
    own = next(render_clip("dance", 1_000_000, 100_000_000, 1, 128).frames)
    cross = next(render_clip("dance", 1_000_000, 300, 1, 128, shape_seed=3).frames)
    other = next(render_clip("dance", 3, 300, 1, 128).frames)
    # Same background as the subject's own clip (the room is part of the appearance), different from subject 3.
    assert np.abs(own.rgb[:8].astype(int) - cross.rgb[:8].astype(int)).mean() < 1
    assert np.abs(other.rgb[:8].astype(int) - cross.rgb[:8].astype(int)).mean() > 5


def _views(subject: int, clip: int, n: int = 16, size: int = 64):
    return list(render_clip("dance", subject, clip_motion_seed(subject, clip), n, size).frames)


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_clip_of_16_frames_shows_the_front_and_the_back(split):
    # Rendered: the views the frames carry, for a few subjects' clips of 16 frames at 15 fps.
    for subject in split_subject_seeds("dance", split, 4):
        for clip in (0, 1):
            turned = np.abs([f.view for f in _views(subject, clip)])
            assert turned.min() < FRONT and turned.max() > BACK, (subject, clip, np.degrees(turned).round())
    # The same property of the motion itself, for many more clips (the yaw of the first 16 frames, no rendering).
    r = get_renderer("dance")
    for subject in split_subject_seeds("dance", split, 400):
        for clip in (0, 1, 2):
            motion = r.sample_motion(_rng(r, _MOTION, clip_motion_seed(subject, clip)))
            turned = np.abs(wrap_angle([yaw_at(motion, t / r.fps) for t in range(16)]))
            assert turned.min() < FRONT and turned.max() > BACK, (subject, clip, motion.style)


def test_the_view_is_the_turn_of_the_skeleton():
    c = render_clip("dance", 7, 701, 20, 64)
    for t, frame in enumerate(c.frames):
        assert -np.pi <= frame.view < np.pi
        assert frame.view == pytest.approx(float(wrap_angle(yaw_at(c.motion, t / 15))), abs=1e-9)
        # facing away, the face keypoints (nose, eyes) are hidden
        if abs(frame.view) > BACK:
            assert frame.points[[0, 14, 15], 2].max() == 0


def _colour_histogram(pixels: np.ndarray) -> np.ndarray:
    bins = (pixels // 64).astype(int)
    return np.bincount(bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2], minlength=64) / len(bins)


@pytest.mark.parametrize("split", ["train", "test"])
def test_front_and_back_of_a_dancer_differ_in_the_torso(split):
    """The torso's colours (part label 2) in the most frontal and the most-behind frame: their 4x4x4-bin colour
    histograms overlap by less than 65 % (same look from both sides: about 100 %)."""
    torso = PART_NAMES.index("torso")
    for subject in split_subject_seeds("dance", split, 12):
        frames = _views(subject, 0)
        turned = np.abs([f.view for f in frames])
        front, back = frames[int(turned.argmin())], frames[int(turned.argmax())]
        hists = [_colour_histogram(f.rgb[f.layers["parts"] == torso]) for f in (front, back)]
        assert 0.5 * np.abs(hists[0] - hists[1]).sum() > 0.35, subject


def _share_of_colour(frame, color) -> float:
    """Share of the torso's pixels within 40 of ``color`` in every channel."""
    torso = frame.rgb[frame.layers["parts"] == PART_NAMES.index("torso")].astype(float)
    return float((np.abs(torso - np.asarray(color, float)).max(axis=1) < 40).mean())


def test_the_back_of_the_top_has_its_own_colour():
    """Seen from behind, the back's colour covers much of the torso (less where a backpack hides it); from the
    front, it hardly shows."""
    for subject in range(1, 7):
        c = render_clip("dance", subject, clip_motion_seed(subject, 0), 16, 128)
        frames = list(c.frames)
        turned = np.abs([f.view for f in frames])
        behind, front = (_share_of_colour(frames[int(pick)], c.appearance.back_color)
                         for pick in (turned.argmax(), turned.argmin()))
        assert behind > 0.1 and front < behind / 3, (subject, behind, front)


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-9), 0, 1)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)
