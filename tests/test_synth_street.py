"""Tests of the procedural street-scene renderer (label maps, perspective, motion, resolution independence)."""

from __future__ import annotations

import numpy as np
import pytest

from fsvid2vid.data.synth import get_renderer, render_clip, subject_appearance
from fsvid2vid.data.synth.street import CLASSES

SKY, ROAD, LANE_MARKING, SIDEWALK, BUILDING, VEGETATION, POLE, CAR = range(8)


def _labels(subject: int, motion: int, n: int, size: int, shape_seed: int | None = None) -> np.ndarray:
    clip = render_clip("street", subject, motion, n, size, shape_seed=shape_seed)
    return np.stack([f.layers["labels"] for f in clip.frames])


@pytest.fixture(scope="module")
def clip128() -> list:
    clip = render_clip("street", 0, 0, 30, 128)
    return list(clip.frames)


def test_renderer_interface() -> None:
    r = get_renderer("street")
    assert (r.name, r.task_id, r.aspect, r.fps) == ("street", 3, 2.0, 15)
    assert r.points_name is None and r.points_format is None
    (layer,) = r.layers
    assert layer.kind == "label" and layer.num_classes == 10 and layer.class_names == CLASSES
    assert CLASSES[:4] == ("sky", "road", "lane_marking", "sidewalk") and CLASSES[-1] == "terrain"


def test_frame_format_and_label_range(clip128: list) -> None:
    for f in clip128:
        lab = f.layers["labels"]
        assert f.rgb.shape == (128, 256, 3) and f.rgb.dtype == np.uint8
        assert lab.shape == (128, 256) and lab.dtype == np.uint8
        assert lab.max() <= 9
        assert f.points is None


@pytest.mark.parametrize("seed", [0, 1])
def test_main_classes_appear(seed: int) -> None:
    labels = _labels(seed, seed, 30, 128)
    present = set(np.unique(labels).tolist())
    assert {SKY, ROAD, LANE_MARKING, SIDEWALK, BUILDING, VEGETATION, POLE, CAR} <= present


def test_camera_moves(clip128: list) -> None:
    labels = [f.layers["labels"] for f in clip128]
    changed = [float((a != b).mean()) for a, b in zip(labels, labels[1:])]
    assert min(changed) > 0.0
    assert float(np.mean(changed)) > 0.01


def test_perspective(clip128: list) -> None:
    labels = np.stack([f.layers["labels"] for f in clip128])
    h = labels.shape[1]
    road = np.isin(labels, (ROAD, LANE_MARKING)).mean(axis=(0, 2))  # road fraction per row
    # No road above the horizon, no sky in the lower half, and the road widens towards the bottom of the frame.
    assert road[: h // 3].max() == 0.0
    assert (labels[:, h // 2:] == SKY).sum() == 0
    rows = np.arange(h // 2 + 4, h, 4)
    assert np.all(np.diff(road[rows]) > -0.02)
    assert road[h - 1] > road[h // 2 + 4] + 0.3


def test_shape_changes_the_labels() -> None:
    a = _labels(7, 70, 3, 64)
    b = _labels(7, 70, 3, 64, shape_seed=8)
    assert (a != b).mean() > 0.05


def test_labels_independent_of_appearance_and_deterministic() -> None:
    a = render_clip("street", 3, 300, 4, 64)
    b = render_clip("street", 4, 300, 4, 64, shape_seed=3)
    c = render_clip("street", 3, 300, 4, 64)
    for fa, fb, fc in zip(a.frames, b.frames, c.frames):
        assert np.array_equal(fa.layers["labels"], fb.layers["labels"])
        assert not np.array_equal(fa.rgb, fb.rgb)
        assert np.array_equal(fa.rgb, fc.rgb) and np.array_equal(fa.layers["labels"], fc.layers["labels"])


def test_frames_do_not_depend_on_clip_length() -> None:
    short = list(render_clip("street", 2, 200, 3, 64).frames)
    long = list(render_clip("street", 2, 200, 6, 64).frames)
    for a, b in zip(short, long):
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.layers["labels"], b.layers["labels"])


def test_resolution_independent_geometry() -> None:
    lo = _labels(5, 500, 10, 64)[::3]
    hi = _labels(5, 500, 10, 128)[::3]
    agree = (lo == hi[:, ::2, ::2]).mean()
    assert agree > 0.9


def test_held_out_rate() -> None:
    r = get_renderer("street")
    rate = np.mean([r.is_held_out(subject_appearance("street", s)) for s in range(400)])
    assert 0.05 <= rate <= 0.15
