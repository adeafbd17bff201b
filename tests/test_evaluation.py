"""The evaluation suite: heatmap decoding, the evaluator networks and their files, and `evaluate` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fsvid2vid.cli import main
from fsvid2vid.errors import UserError
from fsvid2vid.eval.evaluator import Evaluator, EvaluatorConfig, EvaluatorNet, load_evaluator, save_evaluator
from fsvid2vid.eval.heatmaps import decode_heatmaps, gaussian_logits, heatmap_loss
from fsvid2vid.eval.metrics import frechet_distance, keypoint_error, segmentation_scores
from fsvid2vid.eval.pairs import cross_pairs, example_indices
from fsvid2vid.eval.training import always_visible, augment, load_frames, train_evaluator
from fsvid2vid.models.checkpoint import latest_checkpoint
from fsvid2vid.train.trainer import train
from tests.conftest import make_version_1
from tests.test_train import tiny_config


def _random_points(n: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(1, n, 2, generator=g) * torch.tensor([w - 12.0, h - 12.0]) + 6.0
    return torch.cat([xy, torch.ones(1, n, 1)], dim=-1)  # (1, n, 3)


def test_a_gaussian_heatmap_decodes_to_its_centre_at_sub_pixel_precision():
    points = _random_points(18, 64, 48)
    logits = gaussian_logits(points, 32, 24, stride=2, sigma=1.0)
    decoded = decode_heatmaps(logits, stride=2)
    assert (decoded - points[..., :2]).abs().max() < 0.05


def test_a_shifted_video_has_the_shift_as_its_keypoint_error():
    # 4 frames of 18 points; the "generated" video is the same motion moved by (3, 4) px: a 5 px pose error.
    target = torch.cat([_random_points(18, 64, 48, seed=s) for s in range(4)])
    shifted = target.clone()
    shifted[..., :2] += torch.tensor([3.0, 4.0])
    decoded = decode_heatmaps(gaussian_logits(shifted, 32, 24, stride=2, sigma=1.0), stride=2)
    predicted = torch.cat([decoded, torch.ones(4, 18, 1)], dim=-1).numpy()
    assert keypoint_error(predicted, target.numpy()) == pytest.approx(5.0, abs=0.05)
    assert keypoint_error(always_visible(target.numpy()), target.numpy()) == 0.0


def test_heatmap_loss_is_lowest_at_the_target_and_ignores_hidden_points():
    points = _random_points(5, 64, 48)
    right = gaussian_logits(points, 32, 24, 2, 1.0) * 10
    wrong = gaussian_logits(points + torch.tensor([6.0, 0.0, 0.0]), 32, 24, 2, 1.0) * 10
    assert heatmap_loss(right, points, 2, 1.0) < heatmap_loss(wrong, points, 2, 1.0)
    hidden = points.clone()
    hidden[..., 2] = 0
    assert float(heatmap_loss(wrong, hidden, 2, 1.0)) == 0.0


def test_a_constant_segmentation_has_the_known_miou():
    # Target: left half class 0, right half class 1; a constant prediction of class 0: accuracy 1/2, IoU 1/2 and 0.
    target = np.zeros((8, 16), np.int64)
    target[:, 8:] = 1
    scores = segmentation_scores(np.zeros_like(target), target, num_classes=10)
    assert scores == {"pixel_accuracy": 0.5, "mean_iou": 0.25}


@pytest.fixture(scope="module")
def frames(dance_dir):
    return load_frames(dance_dir, max_clips=2)


def test_identical_videos_are_at_zero_fid_in_evaluator_feature_space(frames):
    torch.manual_seed(0)
    net = EvaluatorNet(EvaluatorConfig.for_task("dance", 64, 48)).eval()
    images = frames.rgb[:12].float() / 127.5 - 1
    with torch.no_grad():
        feats = net.features(images).numpy()
        other = net.features(-images).numpy()  # the negated video
    assert feats.shape == (12, sum(net.cfg.widths[2:]))
    assert frechet_distance(feats, other) > 0
    assert frechet_distance(feats, feats) <= 1e-6 * frechet_distance(feats, other)


def test_evaluator_file_round_trip_and_wrong_task(tmp_path, frames):
    torch.manual_seed(0)
    net = EvaluatorNet(EvaluatorConfig.for_task("dance", 64, 48)).eval()
    path = save_evaluator(net, tmp_path / "e.safetensors", {"steps": 7})
    ev = load_evaluator(path, "dance")
    assert ev.config == net.cfg and ev.info == {"steps": 7}
    images = frames.rgb[:4].float() / 127.5 - 1
    with torch.no_grad():
        assert torch.allclose(ev.net(images), net(images), atol=0.05)  # fp16 weights
    points = ev.points(images)
    assert points.shape == (4, 18, 3) and ((points[..., 2] >= 0) & (points[..., 2] <= 1)).all()
    with pytest.raises(UserError, match="is a dance evaluator"):
        load_evaluator(path, "street")
    (tmp_path / "junk.safetensors").write_bytes(b"not a file")
    with pytest.raises(UserError, match="not a safetensors"):
        load_evaluator(tmp_path / "junk.safetensors")
    with pytest.raises(UserError, match="not a point estimator"):
        load_evaluator(save_evaluator(EvaluatorNet(EvaluatorConfig.for_task("street", 64, 128)),
                                      tmp_path / "s.safetensors")).points(images)


def test_points_are_read_in_pixels_of_any_input_size():
    """A stand-in network that always 'sees' the same points in its 64 x 48 input: at 128 x 96 they double."""
    target = _random_points(18, 64, 48)

    class Fixed(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-2:] == (64, 48)
            heat = gaussian_logits(target.expand(len(x), -1, -1), 32, 24, 2, 1.0)
            return torch.cat([heat, torch.full_like(heat, 5.0)], dim=1)

    ev = Evaluator(Fixed(), EvaluatorConfig.for_task("dance", 64, 48))
    small, big = ev.points(torch.zeros(2, 3, 64, 48)), ev.points(torch.zeros(2, 3, 128, 96))
    assert torch.allclose(small[..., :2], target[..., :2], atol=0.02)
    assert torch.allclose(big[..., :2], (target[..., :2] + 0.5) * 2 - 0.5, atol=0.04)
    assert (big[..., 2] > 0.99).all()


def test_augmentation_moves_points_with_the_image():
    g = torch.Generator().manual_seed(1)
    images = torch.full((6, 3, 64, 48), -1.0)
    points = torch.zeros(6, 1, 3)
    points[:, 0] = torch.tensor([20.0, 30.0, 1.0])
    images[:, :, 29:32, 19:22] = 1.0  # a bright 3 x 3 block centred on the point
    out, moved, _ = augment(images, points, None, g)
    assert not torch.equal(moved, points)
    for i in range(6):
        # Blur and noise spread it, so read the brightest pixel's position back (to within a pixel).
        peak = int(out[i].mean(0).flatten().argmax())
        assert abs(peak % 48 - moved[i, 0, 0]) <= 1 and abs(peak // 48 - moved[i, 0, 1]) <= 1


def test_training_refuses_test_split_clips(tmp_path):
    from fsvid2vid.data.synth.export import plan_split, write_jobs

    write_jobs(plan_split("street", "test", 1, 1, 2, 64), tmp_path / "test", progress=False)
    with pytest.raises(UserError, match="test-split clip"):
        train_evaluator("street", tmp_path / "test", tmp_path / "e.safetensors", steps=1, progress=False)


def test_example_frames_are_spread_and_distinct():
    """Without views (version-1 benchmark data, real footage, tasks without a turning subject): the even spread."""
    assert example_indices(24, 2) == [8, 15]
    assert all(len(set(example_indices(n, k))) == k for n in range(1, 20) for k in range(1, n + 1))
    assert example_indices(24, 3, None) == example_indices(24, 3)


def test_example_frames_cover_the_views_front_first_then_back_then_spread():
    deg = np.radians
    views = deg([30, 10, -10, 60, 120, 170, -175, -150, -90, -40, 10, 105])
    assert example_indices(12, 1, views) == [1]  # the most frontal (|10| at frames 1, 2 and 10: the earliest)
    assert example_indices(12, 2, views) == [1, 6]  # then the most-behind (|-175|, closer to 180 than 170)
    # then farthest-point sampling on the circle: -90 (85 from the nearest chosen view, -175; 105 at most 80 from
    # -175), then 105 (80 from -175; 120 is 65 from it)
    assert example_indices(12, 3, views) == [1, 6, 8]
    assert example_indices(12, 4, views) == [1, 6, 8, 11]
    picks = example_indices(12, 12, views)
    assert sorted(picks) == list(range(12))  # all distinct
    # Identical views: still distinct frames, in frame order after the first two picks.
    assert example_indices(5, 5, [0.0] * 5) == [0, 1, 2, 3, 4]
    # Wrapping: +179 and -179 degrees are 2 degrees apart, so the third pick is the side view.
    assert example_indices(4, 3, deg([0, 179, -179, 90])) == [0, 1, 3]
    with pytest.raises(ValueError):
        example_indices(3, 4, [0.0, 1.0, 2.0])


def test_example_paths_follow_the_views_in_meta_json(dance_dir, tmp_path):
    from fsvid2vid.data.layout import read_meta
    from fsvid2vid.eval.pairs import example_paths

    own = cross_pairs(dance_dir)[0].own
    views = np.abs(read_meta(own).views)
    front, back = (int(p.stem) for p in example_paths(own, 2))
    assert views[front] == views.min() and views[back] == views.max() and views[back] > 3 * np.pi / 4
    old = make_version_1(Path(shutil.copytree(own, tmp_path / own.name)))
    assert [int(p.stem) for p in example_paths(old, 2)] == example_indices(read_meta(old).n_frames, 2)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, dance_dir):
    """A 1-step tiny dance model, a 2-step dance evaluator (through the CLI) and a street evaluator."""
    root = tmp_path_factory.mktemp("eval")
    train(tiny_config("dance", dance_dir, steps=1), root / "run", progress=False)
    status = main(["evaluator", "train", "--task", "dance", "--data", str(dance_dir), "--out",
                   str(root / "dance-ev.safetensors"), "--steps", "2", "--batch", "4", "--quiet"])
    assert status == 0
    save_evaluator(EvaluatorNet(EvaluatorConfig.for_task("street", 64, 128)), root / "street-ev.safetensors")

    class Mean(torch.nn.Module):  # a stand-in "Inception": per-channel means and stds of the 299 x 299 input
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-2:] == (299, 299)
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], dim=1)

    with pytest.warns(DeprecationWarning):  # TorchScript is deprecated in torch 2.13, still the portable format
        torch.jit.script(Mean()).save(str(root / "inception.pt"))
    return latest_checkpoint(root / "run"), root, dance_dir


@pytest.mark.filterwarnings("ignore:`torch.jit")
def test_evaluate_end_to_end(setup, tmp_path, capsys):
    ckpt, root, data = setup
    out = tmp_path / "report.json"
    status = main(["evaluate", "--checkpoint", str(ckpt), "--task", "dance", "--data", str(data), "--k", "1", "2",
                   "--max-clips", "2", "--frames", "4", "--evaluator", str(root / "dance-ev.safetensors"),
                   "--inception", str(root / "inception.pt"), "--out", str(out), "--score-height", "32", "--quiet"])
    assert status == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    assert report["k"] == [1, 2] and len(report["clips"]) == 2 and report["frames_per_clip"] == 4
    for key in ("command", "checkpoint", "machine", "date", "versions", "evaluator", "ground_truth"):
        assert key in report
    for k in ("1", "2"):
        entry = report["results"][k]
        for key in ("pose_error_px", "pose_error_px_ground_truth", "points_detected", "fid_dance_evaluator",
                    "fid_inception", "l1", "psnr", "ssim", "warping_error", "warping_error_ground_truth"):
            assert isinstance(entry[key], float), key
        assert len(entry["per_clip"]) == 2 and len(entry["per_clip"][0]["examples"]) == int(k)
        # the subject's own pixels (the dancer): farther from the truth than the whole frame, which is mostly room
        assert entry["subject_l1"] > entry["l1"] and entry["subject_psnr"] < entry["psnr"]
        assert 0 < entry["subject_ssim"] <= 1 and entry["per_clip"][0]["subject_pixels"] > 0
        assert 0 < entry["subject_color_distance"] < 1
        # the ghost region: where an example's dancer stood and the target's does not (the room in the truth)
        assert all(c["ghost_pixels"] > 0 for c in entry["per_clip"]) and 0 < entry["ghost_l1"] < 2
        assert 0 < entry["ghost_reference_l1"] < 2  # the examples' room copied there without a network
        # version-2 clips record views: subject L1 split into frames seen from the front and from behind
        clips = entry["per_clip"]
        assert sum(c["front_pixels"] + c["back_pixels"] for c in clips) <= sum(c["subject_pixels"] for c in clips)
        for side in ("front", "back"):
            assert (entry[f"subject_l1_{side}"] is None) == (not any(c[f"{side}_pixels"] for c in clips))
        # --score-height 32: the same pixel scores on the 64 x 48 frames averaged down to 32 x 24
        rescaled = entry["rescaled"]
        assert rescaled["size"] == [32, 24]
        for key in ("subject_l1", "subject_psnr", "subject_ssim", "ghost_l1", "ghost_reference_l1", "l1", "psnr",
                    "ssim"):
            assert isinstance(rescaled[key], float), key
        assert rescaled["subject_l1"] > rescaled["l1"] and abs(rescaled["l1"] - entry["l1"]) < 0.5 * entry["l1"]
        # where the subject's pixels come from: three shares summing to 1; x_t's L1 there is subject_l1
        sources = entry["sources"]["all"]
        shares = [sources[f"share_{name}"] for name in ("previous_frame", "examples", "h")]
        assert all(0 <= x <= 1 for x in shares) and sum(shares) == pytest.approx(1, abs=1e-4)
        assert sources["l1_x"] == pytest.approx(entry["subject_l1"], rel=0.02)  # (before and after uint8)
        assert sources["pixels"] == sum(c["subject_pixels"] for c in clips)
    assert report["metrics"][:8] == ["subject_l1", "subject_psnr", "subject_ssim", "subject_color_distance",
                                     "ghost_l1", "ghost_reference_l1", "subject_l1_front", "subject_l1_back"]
    assert report["ground_truth"]["warping_error"] >= 0
    assert report["splits"] == ["train"] and "not unseen" in capsys.readouterr().err  # the fixture is a train split
    sheet = cv2.imread(str(out.with_suffix(".png")))
    assert sheet is not None and sheet.shape[0] > 200
    assert report["clips"] == [p.cross.name for p in cross_pairs(data)[:2]]


def test_attention_of_back_view_targets_is_split_between_a_front_and_a_back_example(setup, tmp_path):
    """Figure 7(c): for back-view target frames, the torso's attention share of the back example, in [0, 1], per clip
    and pooled, and a sheet; region_attention weighs each target cell by its share of the region."""
    from fsvid2vid.eval.attention import attention_by_view, region_attention, write_attention_sheet
    from fsvid2vid.infer.synthesizer import Synthesizer

    ckpt, _, data = setup
    entry, rows, labels = attention_by_view(Synthesizer.from_checkpoint(ckpt, "cpu", "fp32"), cross_pairs(data), 12)
    assert entry is not None and entry["back_view_frames"] > 0 and entry["clips"] == len(entry["per_clip"])
    assert 0 <= entry["back_example_torso_share"] <= 1
    assert entry["front_view_frames"] > 0 and 0 <= entry["front_example_torso_share"] <= 1  # the check on it
    assert entry["view_choice"] == pytest.approx((entry["back_example_torso_share"]
                                                  + entry["front_example_torso_share"]) / 2)
    fits = entry["torso_warp_l1"]  # the tiny model warps one example (argmax): no per-example fit, or two numbers
    assert fits is None or all(v is None or (len(v) == 2 and all(0 <= x <= 2 for x in v)) for v in fits.values())
    assert rows and len(rows) == len(labels)
    assert write_attention_sheet(rows, labels, tmp_path / "attention.png").stat().st_size > 1000

    attention = torch.zeros(2, 2, 2, 2, 2)  # (h_a, w_a, K, h_a, w_a)
    attention[0, :, 1, 0, 0] = 1  # the top row attends to example 1's corner
    attention[1, :, 0, 1, 1] = 1  # the bottom row to example 0's corner
    top = np.zeros((8, 8), bool)
    top[:4] = True
    mass = region_attention(attention, top)
    assert mass.shape == (2, 2, 2) and mass[1, 0, 0] == pytest.approx(1) and mass.sum() == pytest.approx(1)
    assert region_attention(attention, np.zeros((8, 8), bool)) is None


def test_downsampled_scores_average_pixels_and_keep_masks_where_half_of_a_block_was_in_them():
    from fsvid2vid.eval.evaluate import ClipTruth, downsampled, pixel_scores, rescaled_entry

    truth_frames = torch.rand(2, 3, 16, 16) * 1.6 - 0.8
    subject = torch.zeros(2, 16, 16, dtype=torch.bool)
    subject[:, :8, :8] = True  # whole 2 x 2 blocks: whole pixels at half size
    subject[:, 8, 8] = True  # a quarter of a block: dropped
    subject[:, 12:14, 12] = True  # half of one: kept
    truth = ClipTruth(None, truth_frames, None, None, None, None, subject, None)
    generated = truth_frames + 0.2  # the same error everywhere: the same L1 at any size
    small_gen, small, ghost, _ = downsampled(generated, truth, subject, (8, 8))
    assert small_gen.shape == (2, 3, 8, 8) and small.frames.shape == (2, 3, 8, 8) and ghost.shape == (2, 8, 8)
    assert small.subject[0, :4, :4].all() and small.subject[0, 6, 6] and int(small.subject[0].sum()) == 17
    scores = pixel_scores(small_gen, small, ghost)
    assert scores["l1"] == pytest.approx(0.2, abs=1e-5) and scores["subject_l1"] == pytest.approx(0.2, abs=1e-5)
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None]) % 2 * 0.4 - 0.2  # +-0.2 on alternate pixels
    assert pixel_scores(generated - 0.2 + checker, truth, None)["l1"] == pytest.approx(0.2, abs=1e-5)
    small_gen, small, _, _ = downsampled(generated - 0.2 + checker, truth, None, (8, 8))
    assert pixel_scores(small_gen, small, None)["l1"] == pytest.approx(0, abs=1e-5)  # detail below the grid: forgiven
    entry = rescaled_entry((8, 8), [pixel_scores(*downsampled(truth_frames, truth, subject, (8, 8)))])
    assert entry["size"] == [8, 8] and entry["l1"] == 0 and entry["psnr"] is None  # a perfect clip: JSON-safe
    json.dumps(entry, allow_nan=False)


def test_room_reference_copies_the_room_an_example_shows_and_inpaints_what_none_shows():
    from fsvid2vid.eval.evaluate import ClipTruth, subject_scores
    from fsvid2vid.eval.subject import room_reference

    rng = np.random.default_rng(0)
    room = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)  # the room, the same behind both examples
    masks = np.zeros((2, 32, 32), bool)
    masks[0, 4:12, 4:12] = True  # the subject of example 0 ...
    masks[1, 20:28, 20:28] = True  # ... and of example 1, elsewhere
    examples = np.stack([room, room]).copy()
    examples[masks] = 255  # a white subject in each
    both = room_reference(examples, masks)
    assert np.array_equal(both, room)  # each example's subject is room the other one shows
    one = room_reference(examples[:1], masks[:1])
    assert np.array_equal(one[masks[1]], room[masks[1]])  # where the example shows the room: copied
    hole = one[6:10, 6:10].astype(float)  # behind the subject: inpainted from the room around, not the white subject
    assert hole.mean() < 200 and abs(hole.mean() - room.mean()) < 40
    everywhere = room_reference(examples[:1], np.ones((1, 32, 32), bool))
    assert np.array_equal(everywhere, examples[0])  # no room shown anywhere: the example as it is
    # ghost_reference_l1: that room's L1 on the ghost pixels; 0 where the room is the truth there
    truth_frames = torch.from_numpy(room).permute(2, 0, 1)[None].float().expand(3, -1, -1, -1) / 127.5 - 1
    subject = torch.zeros(3, 32, 32, dtype=torch.bool)
    subject[:, 28:, 28:] = True
    ghost = torch.from_numpy(masks.any(0))[None].expand(3, -1, -1) & ~subject
    truth = ClipTruth(None, truth_frames, None, None, None, None, subject, None)
    scores = subject_scores(truth_frames + 0.1, truth, ghost, truth_frames[0])
    assert scores["ghost_reference_l1"] == pytest.approx(0, abs=1e-6)
    assert scores["ghost_l1"] == pytest.approx(0.1, abs=1e-5)
    assert subject_scores(truth_frames, truth, ghost)["ghost_reference_l1"] is None  # no room given (street)
    # ghost_floor_l1: the room the clip itself shows, on the ghost pixels it covers: 0 for a room that never changes
    assert scores["ghost_floor_l1"] == pytest.approx(0, abs=1e-6) and 0 < scores["ghost_floor_pixels"] <= ghost.sum()
    assert subject_scores(truth_frames, truth, ghost)["ghost_floor_l1"] is None


def test_true_room_is_the_median_of_the_frames_that_show_it():
    """A subject that walks across a room: each pixel's room is the median of the frames whose (widened) subject is
    elsewhere, even when one frame flickers there; a pixel covered in every frame is unknown."""
    from fsvid2vid.eval.subject import true_room

    room = torch.rand(3, 16, 24) * 2 - 1
    frames, subject = room.repeat(5, 1, 1, 1), torch.zeros(5, 16, 24, dtype=torch.bool)
    for t in range(5):
        subject[t, 4:12, 4 * t:4 * t + 4] = True
        frames[t][:, subject[t]] = 0.9  # the subject, one colour
    subject[:, 0:2, 0:2] = True  # a corner the subject never leaves
    frames[2, :, 14, 20] += 0.5  # one frame's noise: the median ignores it
    seen, known = true_room(frames, subject)
    assert not known[0:2, 0:2].any() and known[4:12, 4:8].all()
    torch.testing.assert_close(seen[:, known], room[:, known])


@pytest.mark.parametrize("case, message", [
    ("missing", "no such checkpoint"),
    ("score height", "--score-height 64 is invalid"),
    ("other-task evaluator", "is a street evaluator"),
    ("K too large", "K = 20 is more than the 12 frames"),
    ("task mismatch", "is a dance model, not face"),
    ("bad --set", "expected model.generator.KEY=VALUE"),
    ("unknown --set field", "cannot set ['no_such_field']"),
])
def test_evaluate_errors_are_one_line(setup, tmp_path, capsys, case, message):
    ckpt, root, data = setup
    args = {"--checkpoint": str(ckpt), "--task": "dance", "--data": str(data), "--k": "1",
            "--evaluator": str(root / "dance-ev.safetensors"), "--out": str(tmp_path / "r.json")}
    if case == "missing":
        args["--checkpoint"] = str(tmp_path / "nope.safetensors")
    elif case == "other-task evaluator":
        args["--evaluator"] = str(root / "street-ev.safetensors")
    elif case == "K too large":
        args["--k"] = "20"
    elif case == "score height":
        args["--score-height"] = "64"
    elif case == "bad --set":
        args["--set"] = "example_mix=share"
    elif case == "unknown --set field":
        args["--set"] = "model.generator.no_such_field=1"
    else:
        args["--task"] = "face"
    status = main(["evaluate", *[x for kv in args.items() for x in kv], "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "r.json").exists()


def test_the_test_split_is_rendered_once_into_the_cache(tmp_path):
    from fsvid2vid.eval.evaluate import render_test_split

    old_cache = tmp_path / "dance-test-64-s2-f3"  # where version 1 cached the same render: never used
    old_cache.mkdir()
    (tmp_path / "dance-test-v2-64-s2-f3").mkdir()  # nor version 2's (its part maps lack hair, backpack, skirt)
    root = render_test_split("dance", 64, clips=2, frames=3, cache=tmp_path, progress=False)
    assert root.name == "dance-test-v3-64-s2-f3" and not list(old_cache.iterdir())
    pairs = cross_pairs(root)
    assert len(pairs) == 2 and all(p.own.name.startswith("s1") for p in pairs)  # test-split subjects
    stamp = (pairs[0].cross / "meta.json").stat().st_mtime_ns
    assert render_test_split("dance", 64, clips=2, frames=3, cache=tmp_path, progress=False) == root
    assert (pairs[0].cross / "meta.json").stat().st_mtime_ns == stamp
    # A version-1 render found at the cache's path is refused by the pairing, never silently used.
    make_version_1(root)
    with pytest.raises(UserError, match="holds benchmark version 1 clips.*--split test --subjects 2 "
                                        "--clips-per-subject 1 --cross-identity 1 --frames 3 --size 64"):
        cross_pairs(root)


@pytest.mark.filterwarnings("ignore:`torch.jit")
def test_evaluate_refuses_an_old_benchmark_version_in_one_line(setup, tmp_path, capsys):
    ckpt, root, data = setup
    old = make_version_1(Path(shutil.copytree(data, tmp_path / "old")))
    status = main(["evaluate", "--checkpoint", str(ckpt), "--task", "dance", "--data", str(old), "--k", "1",
                   "--evaluator", str(root / "dance-ev.safetensors"), "--out", str(tmp_path / "r.json"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert f"{old}: holds benchmark version 1 clips" in err
    assert (f"`fsvid2vid data synth --task dance --split train --subjects 3 --clips-per-subject 2 --cross-identity 1 "
            f"--frames 12 --size 64 --out {old} --overwrite`") in err
    assert not (tmp_path / "r.json").exists()


def test_task_scores_name_each_task_metric():
    from fsvid2vid.eval.evaluate import ClipTruth, Readout, task_scores

    labels = np.random.default_rng(0).integers(0, 10, (3, 8, 16))
    points = np.concatenate([_random_points(68, 64, 64, seed=s).numpy() for s in range(3)])
    truth = ClipTruth(None, torch.zeros(3, 3, 8, 16), torch.zeros(2, 2, 8, 16), torch.ones(2, 1, 8, 16), points,
                      labels)
    street = task_scores("street", Readout(labels=[labels]), [truth], 10, 0.5)
    assert street == {"pixel_accuracy": 1.0, "mean_iou": 1.0}
    moved = points.copy()
    moved[..., 0] += 2.0
    moved[..., 2] = 0.0  # the estimator's visibility does not matter
    face = task_scores("face", Readout(points=[moved]), [truth], 68, 0.5)
    assert face == {"landmark_error_px": pytest.approx(2.0), "points_detected": 0.0}


def test_class_weights_favour_thin_classes():
    from fsvid2vid.eval.training import class_weights

    labels = torch.zeros(1, 10, 10, dtype=torch.long)
    labels[0, :, 5:] = 1  # class 0 and 1: half each; class 2: 4 pixels of 100 (taken from class 1)
    labels[0, 0, 6:] = 2
    weights = class_weights(labels, 4)
    assert weights[2] > weights[1] > weights[0] * 0.99 and weights[3] == 10.0  # class 3 absent: the cap
    assert weights[2] == pytest.approx((0.46 / 0.04) ** 0.5)


def test_results_tables_mark_the_best_method_and_order_figure_7a(tmp_path):
    import json

    from fsvid2vid.eval import results

    def report(pose: float, ssim: float) -> dict:
        per_k = {"pose_error_px": pose, "pose_error_px_ground_truth": 1.0, "ssim": ssim, "l1": 0.1}
        return {"results": {"1": per_k, "2": {**per_k, "pose_error_px": pose - 0.5}}}

    for stem, pose, ssim in [("dance-ours", 2.0, 0.8), ("dance-adain", 3.0, 0.9), ("dance-ours-s5", 4.0, 0.5)]:
        (tmp_path / f"{stem}.json").write_text(json.dumps(report(pose, ssim)))
    reports = results.load_reports(tmp_path)
    table = results.table1(reports, "dance", "1").splitlines()
    # the subject columns come first ("–" where old reports lack them), then the pose error
    assert table[2].startswith("| Ours | – | – | – | – | – | **2.000**") and "| 0.800 |" in table[2]  # best pose
    assert table[3].startswith("| AdaIN | – | – | – | – | – | 3.000") and "**0.900**" in table[3]
    assert table[4].startswith("| ground truth | – | – | – | – | – | 1.000")
    assert [n for n, _ in results.figure7a(reports)] == [5, results.FULL_TRAINING_SUBJECTS]
    written = results.plot_figure7(reports, tmp_path)
    assert [p.name for p in written] == ["results-fig7a.png", "results-fig7b.png"]
    assert all(p.stat().st_size > 0 for p in written)
    (tmp_path / "dance-ours-s5.json").unlink()  # one training-set size: no Figure 7(a)
    only_full = results.plot_figure7(results.load_reports(tmp_path), tmp_path, prefix="x")
    assert [p.name for p in only_full] == ["x-fig7b.png"]
    # the command: a plots folder that does not exist is a one-line error and exit status 2, no traceback
    assert results.main([str(tmp_path), "--plots", str(tmp_path / "missing")]) == 2
    assert results.main([str(tmp_path)]) == 0
    # Figure 7(b) over seeds: the mean per K and the seeds' range, at the K that every seed's report has
    (tmp_path / "dance-ours-seed1.json").write_text(json.dumps({"results": {
        "1": {"pose_error_px": 4.0, "ssim": 0.6, "l1": None}, "2": {"pose_error_px": 1.0, "ssim": 0.6}}}))
    ks, mean, low, high = results.figure7b(list(results.seed_runs(results.load_reports(tmp_path), "dance")["ours"]
                                                .values()))
    assert ks == [1, 2] and mean[0]["pose_error_px"] == 3.0 and (low[0]["ssim"], high[0]["ssim"]) == (0.6, 0.8)
    assert "l1" not in mean[0] and mean[1]["pose_error_px"] == 1.25
    assert [p.name for p in results.plot_figure7(results.load_reports(tmp_path), tmp_path, prefix="y")] == [
        "y-fig7b.png"]


@pytest.mark.parametrize("task", ["dance", "face", "street"])
def test_subject_masks_cover_the_subject_and_not_the_whole_frame(task, request):
    from fsvid2vid.data.layout import find_clips, read_meta
    from fsvid2vid.eval.subject import subject_masks

    clip = find_clips(request.getfixturevalue(f"{task}_dir"))[0]
    meta = read_meta(clip)
    masks = subject_masks(clip, meta, 3)
    assert masks.shape == (3, meta.height, meta.width) and masks.dtype == bool
    if task != "street":  # a street clip need not show a car
        assert 0.02 < masks.mean() < 0.8


def test_masked_metrics_count_only_the_masked_pixels():
    from fsvid2vid.eval.metrics import masked_l1, masked_psnr, masked_ssim

    a = torch.zeros(3, 16, 16)
    b = a.clone()
    b[:, :, 8:] = 1.0  # the right half differs by 1
    left = torch.zeros(16, 16, dtype=torch.bool)
    left[:, :8] = True
    assert masked_l1(a, b, left) == 0 and masked_l1(a, b, ~left) == 1.0
    assert masked_psnr(a, b, left) == float("inf") and masked_psnr(a, b, ~left) == pytest.approx(10 * np.log10(4))
    assert masked_ssim(a, a, left) == pytest.approx(1.0)
    assert masked_l1(a, b, torch.zeros(16, 16, dtype=torch.bool)) is None


def test_colour_distance_sees_colour_and_not_the_arrangement():
    from fsvid2vid.eval.metrics import color_distance

    rng = np.random.default_rng(0)
    red = np.tile(np.array([[200, 30, 30]], np.uint8), (500, 1))
    blue = np.tile(np.array([[30, 30, 200]], np.uint8), (500, 1))
    mixed = rng.integers(0, 256, (1000, 3), dtype=np.uint8)
    assert color_distance(red, red) == pytest.approx(0.0, abs=1e-9)
    assert color_distance(mixed, mixed[::-1]) == pytest.approx(0.0, abs=1e-9)  # order of pixels does not matter
    assert color_distance(red, blue) == pytest.approx(1.0)
    assert 0 < color_distance(red, np.concatenate([red, blue])) < 1
    assert color_distance(red, red[:0]) is None


def test_seed_table_averages_each_methods_seeds_and_shows_their_spread():
    from fsvid2vid.eval import results

    def report(l1: float, share: float | None = None) -> dict:
        r = {"results": {"1": {"subject_l1": l1, "subject_psnr": 17.0, "ghost_l1": 0.1},
                         "4": {"subject_l1": l1 - 0.01, "subject_psnr": 17.5, "ghost_l1": None}}}
        if share is not None:
            r["attention_views"] = {"back_example_torso_share": share, "front_example_torso_share": 1 - share}
        return r

    reports = {"dance-ours": report(0.2, 0.8), "dance-ours-seed2": report(0.22, 0.7), "dance-adain": report(0.3),
               "dance-adain-seed1": report(0.31), "dance-ours-s5": report(0.5), "dance-encoder": report(0.4)}
    assert sorted(results.seed_runs(reports, "dance")["ours"]) == [0, 2]  # -s5 is a training-set size, not a seed
    lines = results.seed_table(reports, "dance").splitlines()
    assert lines[2] == ("| Ours | 0, 2 | 1 | 0.210 (0.020) | – | 17.00 (0.000) | 0.100 (0.000) | 0.75 (0.10) "
                        "| 0.25 (0.10) |")
    assert lines[3].startswith("| Ours | 0, 2 | 4 | 0.200 (0.020) | – | 17.50 (0.000) | – |")
    assert lines[4].startswith("| AdaIN | 0, 1 | 1 | 0.305 (0.010)") and lines[4].endswith("| – | – |")
    assert len(lines) == 6  # Encoder has one seed: no row
    assert "no face method" in results.seed_table(reports, "face")


def test_evaluations_started_at_once_share_one_whole_test_render(tmp_path):
    """Two evaluations rendering the same cache at the same time (it happened: one failed on the other's partial
    folder) both get the complete folder, and no temporary folder is left behind."""
    from concurrent.futures import ThreadPoolExecutor

    from fsvid2vid.eval.evaluate import render_test_split

    with ThreadPoolExecutor(2) as pool:
        roots = list(pool.map(lambda _: render_test_split("dance", 64, 2, 3, tmp_path, False), range(2)))
    assert roots[0] == roots[1] and len(cross_pairs(roots[0])) == 2
    assert [p.name for p in tmp_path.iterdir()] == [roots[0].name]
    assert render_test_split("dance", 64, 2, 3, tmp_path, False) == roots[0]  # reused


def test_torso_warp_fit_compares_each_examples_warp_with_the_truth_on_the_torso():
    from types import SimpleNamespace

    from fsvid2vid.eval.attention import _torso_warp_l1

    truth = np.zeros((4, 6, 3), np.uint8)  # black: -1 in [-1, 1]
    warped = -torch.ones(1, 2, 3, 4, 6)
    warped[0, 1, :, :, :2] = 1.0  # example 1 is white on the left third, which is the torso
    torso = np.zeros((4, 6), bool)
    torso[:, :2] = True
    result = SimpleNamespace(output=SimpleNamespace(warped_example=warped), driving=SimpleNamespace(rgb=truth))
    assert _torso_warp_l1(result, torso) == pytest.approx([0.0, 2.0])
    result.output.warped_example = warped[:, :1]  # one warped example (the argmax warp): nothing to compare
    assert _torso_warp_l1(result, torso) is None


def test_source_shares_follow_the_masks_and_the_l1_is_on_the_subject_only():
    """x_t = (1 - m_t) w(x_t-1) + m_t (e_t examples + (1 - e_t) h_t): with m_t = 0.25 and e_t = 0.5 the shares are
    0.75 / 0.125 / 0.125; the first frame (no previous frame) gives 0 / e_t / 1 - e_t; L1 counts subject pixels."""
    from fsvid2vid.eval.sources import SourceTally
    from fsvid2vid.models import FrameOutput

    h, w = 6, 5
    subject = torch.zeros(h, w, dtype=torch.bool)
    subject[1:4, 1:3] = True
    truth = torch.zeros(3, h, w)
    raw = torch.full((1, 3, h, w), 0.5)
    raw[..., 0, 0] = 9.0  # off the subject: must not count
    first = FrameOutput(frame=raw, raw=raw, raw_prime=raw, example_index=torch.zeros(1, dtype=torch.long),
                        example_weight=torch.full((1, 1, h, w), 0.5))
    later = FrameOutput(frame=raw, raw=raw, raw_prime=raw, example_index=torch.zeros(1, dtype=torch.long),
                        example_weight=torch.full((1, 1, h, w), 0.5), mask_prev=torch.full((1, 1, h, w), 0.25),
                        warped_prev=torch.full((1, 3, h, w), -0.2))
    tally = SourceTally()
    tally.add(first, truth, subject, ["all", "front"])
    tally.add(later, truth, subject, ["all", "back"])
    result = tally.result()
    assert result["front"]["share_previous_frame"] == 0 and result["front"]["share_examples"] == 0.5
    assert result["back"]["share_previous_frame"] == pytest.approx(0.75)
    assert result["back"]["share_examples"] == pytest.approx(0.125)
    assert result["back"]["share_h"] == pytest.approx(0.125)
    assert result["all"]["pixels"] == 12 and result["all"]["l1_h"] == pytest.approx(0.5)
    assert result["all"]["l1_warped_prev"] == pytest.approx(0.2) and result["front"]["l1_warped_prev"] is None
