"""The clip-folder layout and the few-shot dataset over it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from fsvid2vid.cli import main
from fsvid2vid.data.dataset import AugmentConfig, FewShotBatchSampler, FewShotVideoDataset, SampleKey
from fsvid2vid.data.layout import ClipMeta, ClipWriter, find_clips, read_image, read_meta
from fsvid2vid.data.semantics import SemanticLayer
from fsvid2vid.data.synth import render_clip
from fsvid2vid.data.synth.export import plan_split, write_jobs
from fsvid2vid.data.synth.version import BENCHMARK_VERSION
from fsvid2vid.errors import UserError
from tests.conftest import make_version_1


def test_layout_on_disk(dance_dir):
    clips = find_clips(dance_dir)
    assert len(clips) == 3 * 2 + 3
    index = json.loads((dance_dir / "dataset.json").read_text())
    assert index["task"] == "dance" and sorted(index["clips"]) == sorted(c.name for c in clips)
    meta = read_meta(clips[0])
    assert (meta.task, meta.height, meta.width, meta.n_frames) == ("dance", 64, 48, 12)
    assert {"subject", "shape", "motion"} <= set(meta.seeds)
    for sub in ("rgb", "pose", "parts"):
        assert len(list((clips[0] / sub).glob("*.png"))) == 12
    points = json.loads((clips[0] / "keypoints.json").read_text())
    assert points["format"] == "coco18" and np.asarray(points["frames"]).shape == (12, 18, 3)
    assert index["benchmark_version"] == BENCHMARK_VERSION == 3 and meta.benchmark_version == 3


def test_views_round_trip_through_meta_json(dance_dir, face_dir, tmp_path):
    for clip in find_clips(dance_dir):
        meta = read_meta(clip)
        rendered = render_clip("dance", meta.seeds["subject"], meta.seeds["motion"], meta.n_frames, meta.height,
                               meta.seeds["shape"])
        assert meta.views == pytest.approx([f.view for f in rendered.frames], abs=1e-6)
    # Real footage has none; a meta.json with views of the wrong length is refused in one line.
    meta = read_meta(find_clips(dance_dir)[0])
    meta.source, meta.views, meta.benchmark_version = "real", None, None
    with ClipWriter(tmp_path, "real", meta) as writer:
        writer.add(np.zeros((64, 48, 3), np.uint8), {"pose": np.zeros((64, 48, 3), np.uint8),
                                                     "parts": np.zeros((64, 48), np.uint8)}, np.zeros((18, 3)))
    assert "views" in json.loads((tmp_path / "real" / "meta.json").read_text())
    assert read_meta(tmp_path / "real").views is None
    data = json.loads((tmp_path / "real" / "meta.json").read_text())
    data["views"] = [0.1, 0.2]
    (tmp_path / "real" / "meta.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="views must be one finite yaw in radians per frame") as info:
        read_meta(tmp_path / "real")
    assert "\n" not in str(info.value) and str(tmp_path / "real" / "meta.json") in str(info.value)


def test_an_old_benchmark_version_is_refused_with_the_command_that_re_renders_it(dance_dir, tmp_path, capsys):
    old = make_version_1(Path(shutil.copytree(dance_dir, tmp_path / "old")))
    with pytest.raises(UserError) as info:
        FewShotVideoDataset(old, T=2, K=1)
    message = str(info.value)
    command = (f"fsvid2vid data synth --task dance --split train --subjects 3 --clips-per-subject 2 "
               f"--cross-identity 1 --frames 12 --size 64 --out {old} --overwrite")
    assert "\n" not in message and message.startswith(f"{old}: holds benchmark version 1 clips") and command in message
    # Running the command makes the folder current again (every clip replaced, same names).
    assert main(command.split()[1:] + ["--quiet"]) == 0
    assert sorted(p.name for p in find_clips(old)) == sorted(p.name for p in find_clips(dance_dir))
    assert len(FewShotVideoDataset(old, T=2, K=1)) == 9
    # Adding version-2 clips to a version-1 folder without replacing its clips is refused.
    make_version_1(old)
    with pytest.raises(UserError, match="holds benchmark version 1 clips .* that this run would not replace"):
        write_jobs(plan_split("dance", "train", 1, 1, 12, 64), old, overwrite=True, progress=False)
    # One clip folder of version 1: re-rendered with data render --like.
    clip = find_clips(old)[0]
    with pytest.raises(UserError, match=re.escape(f"`fsvid2vid data render --like {clip} --subject 0 --out {clip} "
                                                  "--overwrite`")):
        FewShotVideoDataset(clip)
    cross = next(c for c in find_clips(old) if "_x" in c.name)
    with pytest.raises(UserError) as info:
        FewShotVideoDataset(cross)
    command = str(info.value).split("`")[1]
    assert main(command.split()[1:]) == 0 and read_meta(cross).benchmark_version == 3
    FewShotVideoDataset(cross)
    # A folder whose dataset.json says version 1 while its clips say 2, and data of a newer version.
    write_jobs(plan_split("dance", "train", 1, 1, 12, 64), tmp_path / "new", progress=False)
    index = tmp_path / "new" / "dataset.json"
    index.write_text(json.dumps({k: v for k, v in json.loads(index.read_text()).items() if k != "benchmark_version"}))
    with pytest.raises(UserError, match="holds benchmark version 1 clips"):
        FewShotVideoDataset(tmp_path / "new")
    index.write_text(json.dumps({**json.loads(index.read_text()), "benchmark_version": 4}))
    with pytest.raises(UserError, match="benchmark version 4 data, newer than this fsvid2vid .* upgrade fsvid2vid"):
        FewShotVideoDataset(tmp_path / "new")


def test_prepared_real_footage_is_not_a_benchmark_and_is_not_refused(dance_dir, tmp_path):
    real = make_version_1(Path(shutil.copytree(dance_dir, tmp_path / "real")))
    for meta_file in real.glob("*/meta.json"):
        meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "source": "real"}))
    assert len(FewShotVideoDataset(real, T=2, K=1)) == 9


def test_cross_identity_clip_shares_semantics_with_the_source_clip(dance_dir):
    """The skeleton is the source clip's; the part map too, but for what each look wears beyond the body (benchmark
    version 3: hair labelled head, a backpack or skirt torso), which follows the cross clip's look."""
    clips = {c.name: c for c in find_clips(dance_dir)}
    cross = next(n for n in clips if "_x" in n)
    source = "s" + cross.split("_x")[1]  # "s0000000_x0000001_c00" performs "s0000001_c00"
    for name in ("000000.png", "000011.png"):
        assert (clips[cross] / "pose" / name).read_bytes() == (clips[source] / "pose" / name).read_bytes()
        assert (clips[cross] / "rgb" / name).read_bytes() != (clips[source] / "rgb" / name).read_bytes()
        mine, theirs = (read_image(clips[c] / "parts" / name, 1, (64, 48)) for c in (cross, source))
        differ = mine != theirs
        worn = (mine == 0) | (theirs == 0)  # one of the two labels background there: the other's worn item
        assert (worn | ~differ).all() and set(np.unique(np.maximum(mine, theirs)[differ])) <= {1, 2}
        assert differ.mean() < 0.05
    assert read_meta(clips[cross]).subject != read_meta(clips[source]).subject


def test_item_shapes_and_ranges(dance_dir):
    ds = FewShotVideoDataset(dance_dir, T=4, K=3)
    item = ds[0]
    assert ds.semantic_channels == 18
    assert item["semantic"].shape == (4, 18, 64, 48)
    assert item["rgb"].shape == (4, 3, 64, 48)
    assert item["example_semantic"].shape == (3, 18, 64, 48)
    assert item["example_rgb"].shape == (3, 3, 64, 48)
    assert item["rgb"].min() >= -1 and item["rgb"].max() <= 1
    one_hot = item["semantic"][:, 3:]
    assert torch.all(one_hot.sum(dim=1) == 1), "the body-part channels are one-hot"


def test_examples_come_from_the_same_subject_outside_the_target_window(dance_dir):
    ds = FewShotVideoDataset(dance_dir, max_stride=3)
    for seed in range(30):
        key = SampleKey(seed % len(ds), T=1 + seed % 6, K=1 + seed % 4, seed=seed)
        item = ds[key]
        frames = item["frame_index"].tolist()
        assert len(frames) == key.T and len(set(np.diff(frames))) <= 1  # one stride
        for clip, frame in item["example_index"].tolist():
            assert ds.metas[clip].subject == ds.metas[key.index].subject
            if clip == key.index:
                assert not frames[0] <= frame <= frames[-1]


def test_view_choice_spreads_the_examples_over_the_subjects_views(dance_dir):
    """example_choice "views": distinct frames of the subject outside the target window whose views are farther apart
    than random draws' (the first at random, each next farthest on the yaw circle), and still a function of the key."""
    from fsvid2vid.data.views import wrap_angle

    spread = FewShotVideoDataset(dance_dir, example_choice="views")
    plain = FewShotVideoDataset(dance_dir)

    def closest_pair(ds, item) -> float:
        yaw = np.array([ds.metas[c].views[f] for c, f in item["example_index"].tolist()])
        return float(np.abs(wrap_angle(yaw[:, None] - yaw[None, :]))[~np.eye(len(yaw), dtype=bool)].min())

    gaps = {"views": [], "random": []}
    for seed in range(24):
        key = SampleKey(seed % len(spread), T=2, K=2 + seed % 3, seed=seed)
        item = spread[key]
        pairs = [tuple(p) for p in item["example_index"].tolist()]
        assert len(set(pairs)) == key.K
        for clip, frame in pairs:
            assert spread.metas[clip].subject == spread.metas[key.index].subject
            if clip == key.index:
                assert not item["frame_index"][0] <= frame <= item["frame_index"][-1]
        assert torch.equal(spread[key]["example_index"], item["example_index"])
        gaps["views"].append(closest_pair(spread, item))
        gaps["random"].append(closest_pair(plain, plain[key]))
    assert np.mean(gaps["views"]) > 2 * np.mean(gaps["random"])
    with pytest.raises(UserError, match="unknown example choice"):
        FewShotVideoDataset(dance_dir, example_choice="best")


def test_front_views_choice_starts_from_a_frame_facing_the_camera(dance_dir):
    """example_choice "front_views": the first example (K = 1 too) faces the camera wherever the subject has such a
    frame, though "views" draws it at random and reaches the back often; later examples still spread the views."""
    from fsvid2vid.data.views import wrap_angle

    front = FewShotVideoDataset(dance_dir, example_choice="front_views")
    spread = FewShotVideoDataset(dance_dir, example_choice="views")

    def first_yaw(ds, key) -> float:
        clip, frame = ds[key]["example_index"][0].tolist()
        return float(np.abs(wrap_angle(ds.metas[clip].views[frame])))

    keys = [SampleKey(seed % len(front), T=1, K=1 + seed % 3, seed=seed) for seed in range(30)]
    assert all(first_yaw(front, key) < np.pi / 2 for key in keys)
    assert any(first_yaw(spread, key) >= np.pi / 2 for key in keys)  # the data has back views to avoid
    item = front[SampleKey(0, T=1, K=2, seed=5)]
    yaw = [front.metas[c].views[f] for c, f in item["example_index"].tolist()]
    assert np.abs(wrap_angle(yaw[1] - yaw[0])) > np.pi / 2  # the second covers the other side


def test_items_are_a_pure_function_of_their_key(dance_dir):
    ds = FewShotVideoDataset(dance_dir, augment=AugmentConfig())
    key = SampleKey(2, 3, 2, 1234)
    a, b = ds[key], ds[key]
    for name in a:
        assert torch.equal(a[name], b[name])
    others = [ds[SampleKey(2, 3, 2, s)] for s in range(5)]
    assert any(not torch.equal(o["rgb"], a["rgb"]) for o in others), "the seed changes window and augmentation"


def test_flip_swaps_body_part_labels_and_redraws_the_skeleton(dance_dir):
    plain = FewShotVideoDataset(dance_dir, augment=None)
    flipped = FewShotVideoDataset(dance_dir, augment=AugmentConfig(flip=True, max_zoom=1.0, color=0.0))
    for seed in range(20):
        key = SampleKey(0, 1, 1, seed)
        f = flipped[key]
        p = plain[key]
        if torch.equal(f["rgb"], p["rgb"]):
            continue  # this seed did not flip
        assert torch.equal(f["rgb"], p["rgb"].flip(-1))
        parts_f, parts_p = f["semantic"][0, 3:].argmax(0), p["semantic"][0, 3:].argmax(0).flip(-1)
        right_arm, left_arm = 3, 6
        assert torch.equal(parts_f == left_arm, parts_p == right_arm)
        return
    pytest.fail("no flipped item among 20 seeds")


def test_too_long_window_is_a_clear_error(dance_dir):
    ds = FewShotVideoDataset(dance_dir)
    with pytest.raises(UserError, match="fewer than T=13"):
        ds[SampleKey(0, 13, 1, 0)]
    with pytest.raises(UserError, match="K=0"):
        ds[SampleKey(0, 1, 0, 0)]


def test_batch_sampler_varies_k_per_batch_follows_the_t_schedule_and_splits_ranks(dance_dir):
    ds = FewShotVideoDataset(dance_dir)
    sampler = FewShotBatchSampler(len(ds), batch_size=2, T=lambda step: 1 if step < 3 else 4, K_max=4, seed=1,
                                  num_steps=8)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 8
    assert all(len({k.K for k in b}) == 1 and 1 <= b[0].K <= 4 for b in batches)
    assert len({b[0].K for b in batches}) > 1
    assert [b[0].T for b in batches] == [1, 1, 1, 4, 4, 4, 4, 4]
    assert all(len({k.index for k in b}) == 2 for b in batches), "no clip twice in one batch"
    resumed = list(FewShotBatchSampler(len(ds), 2, T=lambda step: 1 if step < 3 else 4, K_max=4, seed=1,
                                       num_steps=8, start_step=5))
    assert resumed == batches[5:]
    ranks = [FewShotBatchSampler(len(ds), 2, seed=1, num_steps=3, rank=r, world_size=2).batch(2) for r in range(2)]
    assert not {k.index for k in ranks[0]} & {k.index for k in ranks[1]}
    loader = DataLoader(ds, batch_sampler=sampler)
    batch = next(iter(loader))
    assert batch["rgb"].shape[:2] == (2, 1) and batch["example_rgb"].shape[0] == 2


def test_corrupt_and_mismatched_frames_are_named(dance_dir, tmp_path):
    import shutil

    clip = tmp_path / "clip"
    shutil.copytree(find_clips(dance_dir)[0], clip)
    ds = FewShotVideoDataset(clip)
    (clip / "rgb" / "000000.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"rgb/000000.png: not a readable image"):
        ds.load_frame(0, 0, None)
    import cv2

    cv2.imwrite(str(clip / "rgb" / "000001.png"), np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(UserError, match=r"000001.png: is 32x32, expected 48x64"):
        ds.load_frame(0, 1, None)
    cv2.imwrite(str(clip / "parts" / "000002.png"), np.zeros((64, 48, 3), np.uint8))
    with pytest.raises(UserError, match=r"parts/000002.png: has 3 channel\(s\), expected 1"):
        ds.load_frame(0, 2, None)
    (clip / "meta.json").write_text("{")
    with pytest.raises(UserError, match="meta.json: unreadable"):
        FewShotVideoDataset(clip)


def test_interrupted_clip_leaves_nothing_behind(tmp_path):
    meta = ClipMeta("face", "train", "x", 8, 8, 15, 0, (SemanticLayer("sketch", "gray"),))
    with pytest.raises(RuntimeError):
        with ClipWriter(tmp_path, "clip", meta) as writer:
            writer.add(np.zeros((8, 8, 3), np.uint8), {"sketch": np.zeros((8, 8), np.uint8)})
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_view_sheet_shows_each_subject_turning(dance_dir):
    from fsvid2vid.data.preview import view_sheet

    sheet = view_sheet(dance_dir, subjects=2, frames=4)
    # 2 rows of (64 px frame + 14 px caption), 4 px apart; a caption panel and 4 frames of 48 px, 2 px apart
    assert sheet.shape == (2 * (64 + 14) + 4, 120 + 4 * (48 + 2), 3) and sheet.dtype == np.uint8
    with pytest.raises(UserError, match="at least 1 subject"):
        view_sheet(dance_dir, subjects=0)


def _set_version(folder: Path, version: int) -> Path:
    for path in [folder / "dataset.json", *folder.glob("*/meta.json")]:
        path.write_text(json.dumps({**json.loads(path.read_text()), "benchmark_version": version}))
    return folder


def test_version_3_changed_only_the_dance_task(dance_dir, face_dir, tmp_path):
    """Face clips of version 2 are what version 3 renders: kept; dance clips of version 2 (no hair, backpack or skirt
    in the part map) are refused with the command that renders them again."""
    face = _set_version(Path(shutil.copytree(face_dir, tmp_path / "face")), 2)
    assert len(FewShotVideoDataset(face, T=2, K=1)) > 0
    dance = _set_version(Path(shutil.copytree(dance_dir, tmp_path / "dance")), 2)
    with pytest.raises(UserError, match=r"holds benchmark version 2 clips, rendered before version 3 \(dance part "
                                        r"maps that label the hair, backpack and skirt\); re-render it with "):
        FewShotVideoDataset(dance, T=2, K=1)
