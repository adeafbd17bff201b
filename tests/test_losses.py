"""fsvid2vid.losses: GAN hinge and feature matching, ground-truth flow, flow/warp/mask losses, VGG19 perceptual loss."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from fsvid2vid.errors import UserError
from fsvid2vid.losses import (
    VGGPerceptualLoss,
    discriminator_hinge,
    feature_matching,
    flow_loss,
    generator_hinge,
    ground_truth_flow,
    label_warp_losses,
    load_vgg19,
    mask_loss,
    masked_l1,
    vgg19_features,
    warp_confidence,
    warp_loss,
)
from fsvid2vid.models.layers import warp

# ---------------------------------------------------------------------------------------------------- GAN losses


def features(logit: float, scales: int = 2, requires_grad: bool = False) -> list[list[torch.Tensor]]:
    """Per scale: two intermediate feature maps and constant logits."""
    out = []
    for s in range(scales):
        size = 8 >> s
        out.append([torch.randn(2, 4, size, size, requires_grad=requires_grad),
                    torch.randn(2, 8, size // 2, size // 2, requires_grad=requires_grad),
                    torch.full((2, 1, size // 2, size // 2), logit, requires_grad=requires_grad)])
    return out


@pytest.mark.parametrize(("real", "fake", "expected"), [(2.0, -2.0, (0.0, 0.0)), (0.0, 0.0, (1.0, 1.0)),
                                                        (-1.0, 1.0, (2.0, 2.0)), (0.5, -0.25, (0.5, 0.75))])
def test_discriminator_hinge_known_logits(real, fake, expected):
    loss_real, loss_fake = discriminator_hinge(features(real), features(fake))
    assert loss_real.item() == pytest.approx(expected[0])
    assert loss_fake.item() == pytest.approx(expected[1])


def test_discriminator_hinge_averages_scales_and_uses_only_logits():
    real = features(2.0)
    real[1][-1] = torch.zeros_like(real[1][-1])  # scale 0: loss 0, scale 1: loss 1 -> mean 0.5
    real[0][0] = real[0][0] + 100  # intermediate features must not matter
    loss_real, _ = discriminator_hinge(real, features(-2.0))
    assert loss_real.item() == pytest.approx(0.5)


def test_generator_hinge_sign():
    fake = features(3.0, requires_grad=True)
    loss = generator_hinge(fake)
    assert loss.item() == pytest.approx(-3.0)
    loss.backward()
    assert (fake[0][-1].grad < 0).all()  # raising D(fake) lowers the generator loss
    assert generator_hinge(features(-1.5)).item() == pytest.approx(1.5)


def test_feature_matching_zero_for_identical_and_grad_only_to_fake():
    real = features(0.0, requires_grad=True)
    fake = [[f.detach().clone().requires_grad_(True) for f in scale] for scale in real]
    assert feature_matching(fake, real).item() == 0.0
    with torch.no_grad():
        fake[0][0].add_(1.0)  # one of 2 layers at one of 2 scales off by 1 -> 1 / 2 / 2
        fake[1][-1].add_(5.0)  # logits are ignored
    loss = feature_matching(fake, real)
    assert loss.item() == pytest.approx(0.25)
    loss.backward()
    assert fake[0][0].grad is not None and fake[0][0].grad.abs().sum() > 0
    assert all(f.grad is None for scale in real for f in scale)


# ------------------------------------------------------------------------------------------ ground-truth flow


def texture(h: int, w: int, seed: int = 0, sigma: float = 1.5) -> np.ndarray:
    """A smooth random RGB texture (H, W, 3) float32 in [-1, 1]."""
    noise = np.random.default_rng(seed).standard_normal((h, w, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigma)
    return (2 * (noise - noise.min()) / (noise.max() - noise.min()) - 1).astype(np.float32)


def to_tensor(*images: np.ndarray) -> torch.Tensor:
    """(H, W, 3) arrays -> (B, 3, H, W)."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def shifted_pair(dx: int, dy: int, size: int = 64, margin: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(target, source), each (1, 3, size, size), with target[p] = source[p - (dx, dy)]: backward flow (-dx, -dy)."""
    big = texture(size + 2 * margin, size + 2 * margin, seed)
    source = big[margin:-margin, margin:-margin]
    target = np.roll(big, (dy, dx), axis=(0, 1))[margin:-margin, margin:-margin]
    return to_tensor(target), to_tensor(source)


@pytest.mark.parametrize("method", ["dis", "farneback"])
@pytest.mark.parametrize(("dx", "dy"), [(3, -2), (-2, 3)])
def test_ground_truth_flow_recovers_integer_shift(method, dx, dy):
    target, source = shifted_pair(dx, dy)
    flow, confidence = ground_truth_flow(target, source, method)
    assert flow.shape == (1, 2, 64, 64) and confidence.shape == (1, 1, 64, 64)
    assert flow.dtype == confidence.dtype == torch.float32
    assert set(confidence.unique().tolist()) <= {0.0, 1.0}
    interior = (slice(None), slice(None), slice(8, -8), slice(8, -8))
    error = (flow - torch.tensor([-dx, -dy], dtype=torch.float32).view(1, 2, 1, 1)).norm(dim=1, keepdim=True)
    assert error[interior].median() < 0.3
    conf = confidence[interior]
    assert conf.mean() > 0.9
    warp_error = (warp(source, flow) - target).abs().mean(1, keepdim=True)[interior]
    assert (warp_error * conf).sum() / conf.sum() < 0.03
    # The band that entered the view (no correspondence in the source) is not confident, even without the
    # photometric check: the flow points out of the source there.
    _, geometric = ground_truth_flow(target, source, method, photometric_threshold=None)
    for conf in (confidence, geometric):
        band = conf[:, :, :, :dx] if dx > 0 else conf[:, :, :, dx:]
        assert band.mean() < 0.5


def test_ground_truth_flow_identical_images_and_batches():
    target, source = shifted_pair(3, -2)
    same = to_tensor(texture(64, 64, seed=5))
    flow, confidence = ground_truth_flow(torch.cat([same, target]), torch.cat([same, source]))
    assert torch.equal(flow[0], torch.zeros(2, 64, 64)) and torch.equal(confidence[0], torch.ones(1, 64, 64))
    single, _ = ground_truth_flow(target, source)
    assert torch.equal(flow[1:], single)  # pairs are independent of their batch neighbours
    flat = torch.zeros(1, 3, 48, 64)
    flow, confidence = ground_truth_flow(flat, flat.clone(), "farneback")
    assert flow.abs().max() == 0 and confidence.min() == 1


def test_ground_truth_flow_deterministic_and_device():
    target, source = shifted_pair(2, 3, seed=3)
    a = ground_truth_flow(target, source)
    b = ground_truth_flow(target.clone(), source.clone())
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0].device == target.device
    gray_flow, _ = ground_truth_flow(target.mean(1, keepdim=True), source.mean(1, keepdim=True))
    assert gray_flow.shape == (1, 2, 64, 64)
    with pytest.raises(ValueError, match="unknown flow method"):
        ground_truth_flow(target, source, "flownet2")
    with pytest.raises(ValueError, match="must both be"):
        ground_truth_flow(target, source[:, :, :32])


def test_ground_truth_flow_changed_and_occluded_regions_lose_confidence():
    background, square = texture(64, 64, seed=1), texture(64, 64, seed=2, sigma=1.0)
    source = background.copy()
    changed = background.copy()
    changed[20:40, 20:40] = square[20:40, 20:40]  # new content: no correspondence in the source
    _, confidence = ground_truth_flow(to_tensor(changed), to_tensor(source))
    assert confidence[0, 0, 20:40, 20:40].mean() < 0.5
    outside = torch.ones(64, 64, dtype=torch.bool)
    outside[12:48, 12:48] = False
    assert confidence[0, 0][outside].mean() > 0.95
    # An object moving over a static background: the forward-backward check alone flags the (dis)occlusions.
    source, target = background.copy(), background.copy()
    source[20:40, 16:36] = square[20:40, 16:36]
    target[20:40, 22:42] = square[20:40, 16:36]  # moved right by 6 px
    _, fb_only = ground_truth_flow(to_tensor(target), to_tensor(source), photometric_threshold=None)
    assert (fb_only[0, 0, 18:42, 14:44] == 0).sum() >= 20


# ----------------------------------------------------------------------------------- flow, warp and mask losses


def test_masked_l1_normalised_by_mask_area():
    pred = torch.zeros(2, 3, 4, 6)
    target = torch.zeros_like(pred)
    target[..., :3] = 2.0  # error 2 in the left half
    target[..., 3:] = torch.arange(3.0)  # errors 0, 1, 2 in the right half: mean 1
    left = torch.zeros(2, 1, 4, 6)
    left[..., :3] = 1
    assert masked_l1(pred, target, left).item() == pytest.approx(2.0)
    assert masked_l1(pred, target, 1 - left).item() == pytest.approx(1.0)
    assert masked_l1(pred, target, left.expand(2, 3, 4, 6)).item() == pytest.approx(2.0)  # per-channel mask
    assert masked_l1(pred, target, torch.ones_like(left)).item() == pytest.approx(1.5)
    assert masked_l1(pred, 2.0, left).item() == pytest.approx(2.0)  # a number as the target


def test_masked_l1_empty_mask_is_zero_with_grad():
    pred = torch.randn(1, 2, 5, 5, requires_grad=True)
    loss = masked_l1(pred, torch.zeros_like(pred), torch.zeros(1, 1, 5, 5))
    assert loss.item() == 0.0 and torch.isfinite(loss)
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() == 0


def test_flow_and_warp_losses():
    pred = torch.zeros(1, 2, 4, 4, requires_grad=True)
    gt = torch.full((1, 2, 4, 4), 3.0)
    confidence = torch.zeros(1, 1, 4, 4)
    confidence[..., :2, :] = 1
    gt[..., 2:, :] = 100.0  # unconfident: ignored
    loss = flow_loss(pred, gt, confidence)
    assert loss.item() == pytest.approx(3.0)
    loss.backward()
    assert pred.grad[..., 2:, :].abs().sum() == 0
    image = torch.rand(1, 3, 4, 4)
    assert warp_loss(image + 0.5, image).item() == pytest.approx(0.5)


def test_mask_loss_prefers_the_right_mask():
    target = torch.rand(1, 3, 8, 8) * 2 - 1
    warped = target.clone()
    warped[..., 4:] = warped[..., 4:] + 1.0  # the warp is right on the left, wrong on the right
    confidence = warp_confidence(warped, target)
    assert confidence[..., :4].min() == 1 and confidence[..., 4:].max() == 0
    assert warp_confidence(target + 0.25, target).mean().item() == pytest.approx(0.5)
    right = torch.zeros(1, 1, 8, 8)
    right[..., 4:] = 1  # synthesise (1) where the warp is wrong, keep the warp (0) where it is right
    assert mask_loss(right, warped, target).item() == pytest.approx(0.0)
    assert mask_loss(1 - right, warped, target).item() == pytest.approx(2.0)
    assert mask_loss(torch.full_like(right, 0.5), warped, target).item() == pytest.approx(1.0)
    mask = torch.full_like(right, 0.5, requires_grad=True)
    mask_loss(mask, warped, target).backward()
    assert (mask.grad[..., :4] > 0).all() and (mask.grad[..., 4:] < 0).all()


def test_label_warp_losses_flag_parts_that_the_warp_gets_wrong():
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[:, 2:6, 1:3] = 1  # a limb at columns 1-2
    target = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float()
    moved = torch.roll(target, shifts=3, dims=3)  # the example's limb sits 3 px to the right (columns 4-5)
    zero_flow = torch.zeros(1, 2, 8, 8)
    keep_h = torch.ones(1, 1, 8, 8)
    warp_term, mask_term = label_warp_losses(warp(target, zero_flow), target, torch.zeros(1, 1, 8, 8))
    assert warp_term.item() == pytest.approx(0.0, abs=1e-6) and mask_term.item() == pytest.approx(0.0, abs=1e-6)
    warp_term, mask_term = label_warp_losses(warp(moved, zero_flow), target, keep_h)
    assert warp_term.item() > 0 and mask_term.item() == pytest.approx(0.0, abs=1e-6)  # m_e = 1 already
    mask = torch.zeros(1, 1, 8, 8, requires_grad=True)  # m_e = 0: the example's misplaced limb would show
    _, mask_term = label_warp_losses(moved, target, mask)
    assert mask_term.item() == pytest.approx(1.0)
    mask_term.backward()
    disagree = (moved.argmax(1) != target.argmax(1))[:, None]
    assert (mask.grad[disagree] < 0).all() and (mask.grad[~disagree] == 0).all()
    flow = torch.zeros(1, 2, 8, 8)
    flow[:, 0] = 3.0  # sampling 3 px to the right brings the example's limb onto the frame's limb
    assert label_warp_losses(warp(moved, flow), target, keep_h)[0].item() < 0.05


# --------------------------------------------------------------------------------------------- perceptual loss


@pytest.fixture(scope="module")
def vgg_state() -> dict[str, torch.Tensor]:
    """A randomly initialised VGG19 features state dict with torchvision keys."""
    torch.manual_seed(0)
    return {f"features.{key}": value for key, value in vgg19_features().state_dict().items()}


@pytest.fixture(scope="module")
def vgg_file(vgg_state, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vgg") / "vgg19.safetensors"
    save_file(vgg_state, str(path))
    return path


def reference_features(state: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    """relu1_1 … relu5_1 of x (ImageNet-normalised by hand) computed directly with F.conv2d from the state dict."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = ((x + 1) / 2 - mean) / std
    convs = sorted({int(key.split(".")[1]) for key in state})
    pools = {4, 9, 18, 27}
    taps = []
    for index in range(30):
        if index in convs:
            x = torch.relu(torch.nn.functional.conv2d(x, state[f"features.{index}.weight"],
                                                      state[f"features.{index}.bias"], padding=1))
            if index + 1 in (1, 6, 11, 20, 29):
                taps.append(x)
        elif index in pools:
            x = torch.nn.functional.max_pool2d(x, 2)
    return taps


def test_perceptual_round_trip(vgg_state, vgg_file):
    loss = load_vgg19(vgg_file)
    assert isinstance(loss, VGGPerceptualLoss)
    assert not loss.training and all(not p.requires_grad for p in loss.parameters())
    loss.train()
    assert not loss.training
    x = torch.rand(1, 3, 16, 16) * 2 - 1  # relu5_1 at 1x1
    for mine, ref in zip(loss.extract(x), reference_features(vgg_state, x), strict=True):
        torch.testing.assert_close(mine, ref, rtol=1e-4, atol=1e-5)
    assert loss(x, x).item() == 0.0
    pred = x.clone().requires_grad_(True)
    target = (torch.rand(1, 3, 16, 16) * 2 - 1).requires_grad_(True)
    value = loss(pred, target)
    weights = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
    expected = sum(w * (a - b).abs().mean() for w, a, b in zip(
        weights, reference_features(vgg_state, x), reference_features(vgg_state, target.detach()), strict=True))
    assert value.item() == pytest.approx(expected.item(), rel=1e-4)
    value.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0 and target.grad is None


def test_perceptual_accepts_whole_model_export(vgg_state, tmp_path):
    path = tmp_path / "whole.safetensors"
    save_file({**vgg_state, "classifier.0.weight": torch.zeros(4, 4)}, str(path))
    assert isinstance(load_vgg19(path), VGGPerceptualLoss)


def check_user_error(path: Path, match: str) -> None:
    with pytest.raises(UserError, match=match) as info:
        load_vgg19(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_perceptual_bad_files(vgg_state, tmp_path):
    check_user_error(tmp_path / "absent.safetensors", "not found")
    check_user_error(tmp_path, "not found")  # a directory
    (tmp_path / "empty.safetensors").write_bytes(b"")
    check_user_error(tmp_path / "empty.safetensors", "not a readable safetensors file")
    (tmp_path / "garbage.safetensors").write_bytes(os.urandom(64))
    check_user_error(tmp_path / "garbage.safetensors", "not a readable safetensors file")
    # A pickle (what torch.save writes) must be refused without being unpickled: loading it would create `marker`.
    marker = tmp_path / "unpickled"
    (tmp_path / "vgg19.pth").write_bytes(pickle.dumps(_MkdirOnLoad(str(marker))))
    check_user_error(tmp_path / "vgg19.pth", "not a readable safetensors file")
    assert not marker.exists()
    # Wrong keys, missing keys, unexpected keys (checked before the shapes: tiny tensors will do), wrong shapes, dtype.
    tiny = {key: torch.zeros(1) for key in vgg_state}
    renamed = {key.replace("features.", "vgg."): value for key, value in tiny.items()}
    save_file(renamed, str(tmp_path / "renamed.safetensors"))
    check_user_error(tmp_path / "renamed.safetensors", "not VGG19 weights.*missing.*unexpected")
    partial = {key: value for key, value in tiny.items() if not key.startswith("features.34.")}
    save_file(partial, str(tmp_path / "partial.safetensors"))
    check_user_error(tmp_path / "partial.safetensors", "missing features.34.bias, features.34.weight")
    save_file({**tiny, "features.36.weight": torch.zeros(1)}, str(tmp_path / "extra.safetensors"))
    check_user_error(tmp_path / "extra.safetensors", "unexpected features.36.weight")
    wrong = {**vgg_state, "features.2.weight": torch.zeros(64, 64, 1, 1)}
    save_file(wrong, str(tmp_path / "shape.safetensors"))
    check_user_error(tmp_path / "shape.safetensors", r"features.2.weight has shape \(64, 64, 1, 1\)")
    ints = {**vgg_state, "features.0.bias": torch.zeros(64, dtype=torch.int64)}
    save_file(ints, str(tmp_path / "dtype.safetensors"))
    check_user_error(tmp_path / "dtype.safetensors", "floating-point")


class _MkdirOnLoad:
    """Unpickling an instance creates a directory (a harmless stand-in for arbitrary code in a pickle)."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_share_choice_loss_pulls_each_pixels_share_to_the_example_whose_warp_fits_there():
    from fsvid2vid.losses.objective import share_choice_loss

    n, e, h, w = 2, 3, 4, 5
    logits = torch.zeros(n, e, 1, h, w, requires_grad=True)
    error = torch.full((n, e, 1, h, w), 0.5)
    error[:, 2, :, :, :2] = 0.0  # example 2's warp fits the left two columns; elsewhere all are equally wrong
    share = torch.softmax(logits, dim=1)
    loss = share_choice_loss(share.flatten(0, 1), error.flatten(0, 1), e)
    loss.backward()
    grad = logits.grad
    assert (grad[:, 2, :, :, :2] < 0).all() and (grad[:, :2, :, :, :2] > 0).all()  # descent raises example 2 there
    torch.testing.assert_close(grad[..., 2:], torch.zeros_like(grad[..., 2:]))  # equal errors: uniform is right
    error_grad = torch.zeros_like(error, requires_grad=True)
    assert not share_choice_loss(share.detach().flatten(0, 1), error_grad.flatten(0, 1), e).requires_grad  # target


class _MeanDiscriminator(torch.nn.Module):
    """A stand-in discriminator: one scale, the frame's channel mean as its feature and as its logit."""

    def forward(self, *inputs: torch.Tensor) -> list[list[torch.Tensor]]:
        mean = inputs[-1].mean(dim=-3, keepdim=True)
        return [[mean, mean]]


def test_background_channel_of_each_task():
    from fsvid2vid.data.encode import background_channel
    from fsvid2vid.data.semantics import task_layers

    assert background_channel(task_layers("dance")) == 3  # after the 3 skeleton channels, the parts' label 0
    assert background_channel(task_layers("face")) is None  # a sketch has no background class
    assert background_channel(task_layers("street")) is None  # sky is not "background"


@pytest.mark.parametrize("background", [3, None])
def test_raw_loss_counts_h_t_on_the_subject_and_its_rim_only(background):
    from fsvid2vid.losses.config import LossConfig
    from fsvid2vid.losses.objective import generator_losses
    from fsvid2vid.models.rollout import ClipOutput

    b, t, h, w = 1, 2, 64, 48  # subject_rim(64) = 1 pixel
    semantic = torch.zeros(b, t, 18, h, w)
    semantic[:, :, 3] = 1  # background everywhere ...
    semantic[:, :, 3, 20:40, 10:30] = 0  # ... but a torso
    semantic[:, :, 5, 20:40, 10:30] = 1
    real = torch.rand(b, t, 3, h, w) * 2 - 1
    raw = torch.zeros(b, t, 3, h, w, requires_grad=True)
    clip = ClipOutput(frame=real.clone(), raw_prime=real.clone(), raw=raw, example_index=torch.zeros(b, t).long())
    batch = {"semantic": semantic, "rgb": real, "example_rgb": real[:, :1], "example_semantic": semantic[:, :1]}
    d = _MeanDiscriminator()
    off = generator_losses(clip, batch, d, d, LossConfig(), [slice(3, 18)], False, background=background)
    assert "raw" not in off  # weight 0: the term is not computed
    terms = generator_losses(clip, batch, d, d, LossConfig(raw=10.0), [slice(3, 18)], False, background=background)
    terms["raw"].backward()
    grad = raw.grad.abs().sum(dim=2)  # (B, T, H, W)
    assert (grad[:, :, 19:41, 9:31] > 0).all()  # the torso and its 1-pixel rim
    if background is None:
        assert (grad > 0).all()  # no background channel: the whole frame
    else:
        outside = torch.ones(h, w, dtype=torch.bool)
        outside[19:41, 9:31] = False
        assert (grad[:, :, outside] == 0).all()
        expected = (real[:, :, :, 19:41, 9:31].abs().sum() / real.numel()).item()
        assert terms["raw"].item() == pytest.approx(expected, rel=1e-5)


def test_generator_feature_matching_reuses_the_discriminator_steps_real_features():
    """discriminator_losses hands back the real frames' features, detached; generator_losses given them computes every
    term as when it runs both discriminators on the real frames itself."""
    from fsvid2vid.losses.config import LossConfig
    from fsvid2vid.losses.objective import discriminator_losses, generator_losses
    from fsvid2vid.models import ImageDiscriminator, TemporalDiscriminator, model_preset
    from fsvid2vid.models.rollout import ClipOutput

    torch.manual_seed(0)
    cfg = model_preset("dance", "tiny")
    image_d = ImageDiscriminator(cfg.discriminator, 18).eval()
    temporal_d = TemporalDiscriminator(cfg.discriminator).eval()
    b, t, h, w = 2, 2, cfg.height, cfg.width
    semantic = torch.rand(b, t, 18, h, w)
    real, fake = torch.rand(b, t, 3, h, w) * 2 - 1, torch.rand(b, t, 3, h, w) * 2 - 1
    batch = {"semantic": semantic, "rgb": real, "example_rgb": real[:, :1], "example_semantic": semantic[:, :1]}
    d_terms, features = discriminator_losses(image_d, temporal_d, batch, fake, True)
    assert set(d_terms) == {"image_real", "image_fake", "temporal_real", "temporal_fake"}
    assert features.temporal is not None
    assert not any(f.requires_grad for scale in features.image + features.temporal for f in scale)

    def g_terms(real_features):
        fake_leaf = fake.clone().requires_grad_(True)
        clip = ClipOutput(frame=fake_leaf, raw_prime=fake_leaf, raw=fake_leaf, example_index=torch.zeros(b, t).long())
        terms = generator_losses(clip, batch, image_d, temporal_d, LossConfig(), [slice(3, 18)], True,
                                 real_features=real_features)
        terms["feature_matching"].backward()
        return terms, fake_leaf.grad

    reused, reused_grad = g_terms(features)
    fresh, fresh_grad = g_terms(None)
    assert reused.keys() == fresh.keys()
    for name in ("gan", "feature_matching", "temporal_gan", "temporal_feature_matching", "l1"):
        assert torch.allclose(reused[name], fresh[name], atol=1e-6), name
    assert torch.allclose(reused_grad, fresh_grad, atol=1e-7)
    assert reused["feature_matching"] > 0


@pytest.mark.parametrize("learned", [True, False])
def test_example_warp_terms_with_no_gradient_are_left_out(learned):
    """The example warp's mask and part terms are computed when its flow or mask trains (W_e / M_e), and left out when
    both are closed-form (example_alignment: parts_only), where they would be constants; the share-weighted warp term,
    which trains E_A, stays."""
    from fsvid2vid.losses.config import LossConfig
    from fsvid2vid.losses.objective import generator_losses
    from fsvid2vid.models.rollout import ClipOutput

    torch.manual_seed(0)
    b, t, e, h, w = 1, 1, 2, 32, 24
    semantic = torch.rand(b, t, 18, h, w)
    real = torch.rand(b, t, 3, h, w) * 2 - 1
    share = torch.full((b, t, e, 1, h, w), 0.5, requires_grad=True)
    flow = torch.zeros(b, t, e, 2, h, w, requires_grad=learned)
    clip = ClipOutput(frame=real.clone(), raw_prime=real.clone(), raw=real.clone(),
                      example_index=torch.zeros(b, t).long(), flow_example=flow,
                      mask_example=torch.zeros(b, t, e, 1, h, w), warped_example=torch.rand(b, t, e, 3, h, w),
                      example_share=share)
    batch = {"semantic": semantic, "rgb": real, "example_rgb": real.expand(b, e, 3, h, w),
             "example_semantic": semantic.expand(b, e, 18, h, w)}
    d = _MeanDiscriminator()
    terms = generator_losses(clip, batch, d, d, LossConfig(example_share=10.0), [slice(3, 18)], False)
    assert ("part_warp" in terms) == ("part_mask" in terms) == ("mask" in terms) == learned
    assert "example_share" in terms
    terms["warp"].backward()
    assert share.grad is not None and share.grad.abs().sum() > 0
