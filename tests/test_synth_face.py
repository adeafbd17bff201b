"""Tests of the procedural talking-face task and of the dlib-68 face sketch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fsvid2vid.data.draw.face import FACE_PARTS, NUM_LANDMARKS, draw_face_sketch
from fsvid2vid.data.synth import render_clip, subject_appearance
from fsvid2vid.data.synth.face import RENDERER

SIZE = 128
N_FRAMES = 60


def _clip(subject: int, motion: int, n: int = N_FRAMES, size: int = SIZE, shape: int | None = None):
    c = render_clip("face", subject, motion, n, size, shape_seed=shape)
    return c, list(c.frames)


@pytest.fixture(scope="module")
def clips():
    return {s: _clip(s, s * 100 + 1) for s in (0, 3, 7)}


def _eye_height(pts: np.ndarray) -> float:
    """Mean vertical opening of both eyes (upper lid to lower lid landmarks)."""
    pairs = [(37, 41), (38, 40), (43, 47), (44, 46)]
    return float(np.mean([np.linalg.norm(pts[a, :2] - pts[b, :2]) for a, b in pairs]))


def test_renderer_attributes():
    assert RENDERER.name == "face" and RENDERER.task_id == 2 and RENDERER.fps == 15
    assert RENDERER.aspect == 1.0 and RENDERER.points_name == "landmarks" and RENDERER.points_format == "dlib68"
    assert [(layer.name, layer.kind) for layer in RENDERER.layers] == [("sketch", "gray")]


def test_frames_shapes_and_landmarks_inside(clips):
    for _, frames in clips.values():
        assert len(frames) == N_FRAMES
        for f in frames:
            assert f.rgb.shape == (SIZE, SIZE, 3) and f.rgb.dtype == np.uint8
            assert f.layers["sketch"].shape == (SIZE, SIZE) and f.layers["sketch"].dtype == np.uint8
            assert f.points.shape == (NUM_LANDMARKS, 3) and f.points.dtype == np.float32
            assert np.all(f.points[:, 2] == 1.0)
            xy = f.points[:, :2]
            assert np.all(xy >= 2.0) and np.all(xy <= SIZE - 3.0)


def test_sketch_lies_on_the_landmarks(clips):
    for _, frames in clips.values():
        for f in frames[::7]:
            sketch = f.layers["sketch"]
            assert set(np.unique(sketch)) <= {0, 255}
            # every landmark has a lit pixel within 2 px
            dist_to_lit = cv2.distanceTransform((sketch == 0).astype(np.uint8), cv2.DIST_L2, 5)
            xy = np.clip(np.round(f.points[:, :2]).astype(int), 0, SIZE - 1)
            assert np.all(dist_to_lit[xy[:, 1], xy[:, 0]] <= 2.0)
            # every lit pixel lies within 3 px of the straight polylines through the landmarks of each part
            ref = np.zeros_like(sketch)
            for idx, closed in FACE_PARTS.values():
                pts = np.round(f.points[list(idx), :2] * 16).astype(np.int32).reshape(-1, 1, 2)
                cv2.polylines(ref, [pts], closed, 255, 1, cv2.LINE_8, shift=4)
            dist_to_ref = cv2.distanceTransform((ref == 0).astype(np.uint8), cv2.DIST_L2, 5)
            assert np.all(dist_to_ref[sketch > 0] <= 3.0)


def test_eyes_close_during_a_blink():
    clip, frames = _clip(5, 42, n=45)
    t_blink = clip.motion.blinks[0]
    assert t_blink < 2.6  # every clip blinks within its first seconds
    i = int(round(t_blink * RENDERER.fps))
    heights = [_eye_height(f.points) for f in frames]
    window = heights[max(0, i - 2): i + 3]
    assert min(window) < 0.3 * max(heights)
    assert max(heights) > 2.0  # open eyes are clearly open at 128 px


def test_mouth_opens_and_closes(clips):
    for _, frames in clips.values():
        gaps = [float(np.linalg.norm(f.points[66, :2] - f.points[62, :2])) for f in frames]
        assert max(gaps) > 1.5
        assert min(gaps) < 0.5


def test_shapes_differ():
    _, a = _clip(11, 5, n=1)
    _, b = _clip(12, 5, n=1)
    assert np.mean(np.linalg.norm(a[0].points[:, :2] - b[0].points[:, :2], axis=1)) > 1.5


def test_cross_identity_semantics_depend_only_on_shape_and_motion():
    _, own = _clip(21, 2100, n=6)
    _, other = _clip(22, 2100, n=6, shape=21)
    assert subject_appearance("face", 21) != subject_appearance("face", 22)
    for fa, fb in zip(own, other):
        assert np.array_equal(fa.points, fb.points)
        assert np.array_equal(fa.layers["sketch"], fb.layers["sketch"])
        assert not np.array_equal(fa.rgb, fb.rgb)


def test_deterministic_and_independent_of_clip_length():
    _, a = _clip(4, 400, n=12)
    _, b = _clip(4, 400, n=20)
    for fa, fb in zip(a, b[:12]):
        assert np.array_equal(fa.rgb, fb.rgb)
        assert np.array_equal(fa.points, fb.points)
        assert np.array_equal(fa.layers["sketch"], fb.layers["sketch"])


def test_same_landmarks_at_every_size():
    _, small = _clip(9, 901, n=8, size=64)
    _, large = _clip(9, 901, n=8, size=256)
    for fs, fl in zip(small, large):
        np.testing.assert_allclose(fs.points[:, :2] * 4.0, fl.points[:, :2], atol=1e-3)
        assert fl.rgb.shape == (256, 256, 3)


def test_held_out_rate():
    held = [RENDERER.is_held_out(subject_appearance("face", s)) for s in range(400)]
    assert 0.03 < np.mean(held) < 0.16


def test_sketch_skips_parts_without_confidence(clips):
    pts = clips[0][1][0].points.copy()
    full = draw_face_sketch(pts, SIZE, SIZE)
    assert np.array_equal(full, draw_face_sketch(pts[:, :2], SIZE, SIZE))  # (68, 2) works the same
    pts[list(FACE_PARTS["right_eye"][0]), 2] = 0.0
    pts[40, 2] = 0.0
    pts[FACE_PARTS["jaw"][0][5], 2] = -1.0
    partial = draw_face_sketch(pts, SIZE, SIZE)
    assert np.all(partial <= full) and partial.sum() < full.sum()
    # what disappeared lies on the right eye or the jaw; nothing else changed
    keep = np.zeros_like(full)
    for name, (idx, _closed) in FACE_PARTS.items():
        if name in ("right_eye", "jaw"):
            continue
        keep = np.maximum(keep, draw_face_sketch(_only(pts, idx), SIZE, SIZE))
    assert np.array_equal(partial, keep)


def _only(pts: np.ndarray, idx: range) -> np.ndarray:
    """Landmarks with every part but ``idx`` switched off."""
    out = pts.copy()
    mask = np.ones(len(pts), bool)
    mask[list(idx)] = False
    out[mask, 2] = 0.0
    out[list(idx), 2] = 1.0
    return out


def test_sketch_default_thickness_scales():
    pts = np.column_stack([np.linspace(20, 230, 68), np.full(68, 128.0)])
    thin = draw_face_sketch(pts / 2.0, 128, 128)
    thick = draw_face_sketch(pts, 256, 256)
    assert thick.sum() > 3.0 * thin.sum()
    with pytest.raises(ValueError):
        draw_face_sketch(np.zeros((5, 2)), 64, 64)
