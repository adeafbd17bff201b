"""Metric functions on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fsvid2vid.eval.metrics import (
    frechet_distance,
    keypoint_error,
    l1,
    psnr,
    segmentation_scores,
    ssim,
    warping_error,
)


def test_identical_videos_have_zero_error_and_perfect_similarity():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert l1(x, x) == 0 and psnr(x, x) == math.inf
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-6)
    assert abs(ssim(x, torch.rand_like(x) * 2 - 1)) < 0.1  # independent noise: no structure in common


def test_psnr_and_l1_of_a_known_offset():
    x = torch.zeros(3, 8, 8)
    assert l1(x, x + 0.5) == pytest.approx(0.5)
    assert psnr(x, x + 0.2) == pytest.approx(10 * math.log10(4 / 0.04))


def test_frechet_distance_is_zero_for_the_same_features_and_the_squared_mean_shift_for_a_translation():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 8))
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-6)
    shift = np.full(8, 0.5)
    assert frechet_distance(f, f + shift) == pytest.approx(float((shift**2).sum()), rel=1e-6)
    with pytest.raises(ValueError):
        frechet_distance(f, f[:, :4])


def test_keypoint_error_of_a_shifted_pose_is_the_shift():
    rng = np.random.default_rng(1)
    kp = np.concatenate([rng.uniform(0, 64, (10, 18, 2)), np.ones((10, 18, 1))], axis=-1)
    moved = kp.copy()
    moved[..., 0] += 3
    moved[..., 1] += 4
    assert keypoint_error(moved, kp) == pytest.approx(5.0)
    moved[..., 0, 2] = 0  # an invisible point is left out
    moved[..., 0, :2] += 100
    assert keypoint_error(moved, kp) == pytest.approx(5.0)
    assert math.isnan(keypoint_error(kp * [1, 1, 0], kp))


def test_segmentation_of_a_constant_prediction():
    target = np.zeros((10, 10), np.int64)
    target[:, 5:] = 1  # half class 0, half class 1
    constant = np.zeros_like(target)
    scores = segmentation_scores(constant, target, num_classes=3)
    assert scores["pixel_accuracy"] == pytest.approx(0.5)
    assert scores["mean_iou"] == pytest.approx((0.5 + 0.0) / 2)  # class 0: 50/100, class 1: 0/50; class 2 absent
    perfect = segmentation_scores(target, target, num_classes=3)
    assert perfect == {"pixel_accuracy": 1.0, "mean_iou": 1.0}


def test_warping_error_is_zero_under_the_true_motion():
    base = torch.rand(3, 40, 40) * 2 - 1
    frames = torch.stack([torch.roll(base, shifts=t, dims=-1) for t in range(4)])  # moves 1 px right per frame
    flows = torch.zeros(3, 2, 40, 40)
    flows[:, 0] = -1.0  # backward flow: x_t[p] = x_{t-1}[p - 1]
    inner = torch.zeros(3, 1, 40, 40)
    inner[..., 2:-2, 2:-2] = 1
    assert warping_error(frames, flows, inner) == pytest.approx(0.0, abs=1e-6)
    assert warping_error(frames, torch.zeros_like(flows), inner) > 0.1
