"""The training objective for one batch: the discriminators' hinge losses and the generator's weighted terms.

    d_terms, real = discriminator_losses(image_d, temporal_d, batch, fake.detach(), use_temporal)
    g_terms = generator_losses(clip, batch, image_d, temporal_d, cfg.loss, label_slices, use_temporal, vgg,
                               real_features=real)   # feature matching against the real frames' features above
    total = weighted_total(g_terms, cfg.loss)       # each term times the LossConfig field of the same name

A new generator loss is one entry in :func:`generator_losses` and one field of :class:`LossConfig`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fsvid2vid.losses.config import LossConfig
from fsvid2vid.losses.flow import flow_loss, ground_truth_flow, label_warp_losses, mask_loss, warp_loss
from fsvid2vid.losses.gan import Features, discriminator_hinge, feature_matching, generator_hinge
from fsvid2vid.models.generator import widened_subject
from fsvid2vid.models.layers import warp
from fsvid2vid.models.rollout import ClipOutput

Batch = dict[str, Tensor]  # semantic (B, T, C_s, H, W), rgb (B, T, 3, H, W), example_rgb / example_semantic (B, K, ...)
Autocast = Callable[[], AbstractContextManager]


def image_d_inputs(batch: Batch, frames: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(s_t, e_1, s_e1, frame), each flattened over (B, T): the first example conditions the image discriminator."""
    b, t = frames.shape[:2]
    sem = batch["semantic"].flatten(0, 1)
    ex = batch["example_rgb"][:, :1].expand(b, t, -1, -1, -1).flatten(0, 1)
    ex_sem = batch["example_semantic"][:, :1].expand(b, t, -1, -1, -1).flatten(0, 1)
    return sem, ex, ex_sem, frames.flatten(0, 1)


@dataclass
class RealFeatures:
    """The discriminators' features of the real frames from the discriminator step, detached: the generator's feature
    matching compares with them instead of running both discriminators on the real frames again (as pix2pixHD and
    vid2vid do, whose one forward pass serves both losses)."""

    image: Features
    temporal: Features | None = None


def _detached(features: Features) -> Features:
    return [[f.detach() for f in scale] for scale in features]


def _halves(features: Features, n: int) -> tuple[Features, Features]:
    """Split the features of a concatenated (real, fake) batch into the two halves."""
    return [[f[:n] for f in scale] for scale in features], [[f[n:] for f in scale] for scale in features]


def discriminator_losses(image_d: nn.Module, temporal_d: nn.Module, batch: Batch, fake: Tensor, use_temporal: bool,
                         autocast: Autocast = nullcontext) -> tuple[dict[str, Tensor], RealFeatures]:
    """Hinge losses of both discriminators, real against ``fake`` (B, T, 3, H, W), detached by the caller, and the
    real frames' features (detached) for :func:`generator_losses`.

    Keys: ``image_real``, ``image_fake`` and, with ``use_temporal``, ``temporal_real``, ``temporal_fake``.
    """
    real = batch["rgb"]
    sem, ex, ex_sem, real_flat = image_d_inputs(batch, real)
    with autocast():  # the conditions once, for the real and the generated frames
        both = image_d(sem, ex, ex_sem, torch.cat((real_flat, fake.flatten(0, 1))))
    real_feats, fake_feats = _halves(both, len(sem))
    d_real, d_fake = discriminator_hinge(real_feats, fake_feats)
    terms = {"image_real": d_real, "image_fake": d_fake}
    features = RealFeatures(_detached(real_feats))
    if use_temporal:
        with autocast():
            both_v = temporal_d(torch.cat((real, fake)))
        real_v, fake_v = _halves(both_v, len(real))
        terms["temporal_real"], terms["temporal_fake"] = discriminator_hinge(real_v, fake_v)
        features.temporal = _detached(real_v)
    return terms, features


def generator_losses(clip: ClipOutput, batch: Batch, image_d: nn.Module, temporal_d: nn.Module, cfg: LossConfig,
                     label_slices: list[slice], use_temporal: bool, vgg: nn.Module | None = None,
                     autocast: Autocast = nullcontext, background: int | None = None,
                     real_features: RealFeatures | None = None) -> dict[str, Tensor]:
    """The generator's loss terms, each named as its weight in :class:`LossConfig`.

    clip: the generator's outputs for the batch; the discriminators are called as they are (frozen by the caller).
    real_features: the real frames' features from :func:`discriminator_losses` (None: computed here).
    - ``gan``, ``feature_matching``: the conditional image discriminator on every frame;
    - ``temporal_gan``, ``temporal_feature_matching``: the temporal discriminator on the sequence (``use_temporal``);
    - ``l1``: L1 of x_t and of h'_t to the real frames; ``vgg``: the perceptual loss when ``vgg`` is given;
    - ``raw`` (when its weight is not 0): L1 of h_t on the subject (:func:`subject_weight`; ``background``: the
      channel of s_t that marks the background, None for the whole frame);
    - ``flow``, ``warp``, ``mask``: W and M on the previous frame (t >= 1) against OpenCV ground-truth flow, and
      ``warp``, ``mask`` of the example warp (eq. 11) added in;
    - ``part_warp``, ``part_mask``: the example warp on the one-hot label layers at ``label_slices`` (anti-ghost).
    The example warp's ``mask`` and part terms are left out where nothing trains through them (the closed-form part
    flow and the label rule's mask of ``example_alignment: parts_only``): they would be constants.
    """
    real = batch["rgb"]  # (B, T, 3, H, W)
    fake = clip.frame.float()
    sem, ex, ex_sem, real_flat = image_d_inputs(batch, real)
    with autocast():
        fake_feats = image_d(sem, ex, ex_sem, fake.flatten(0, 1))
        if real_features is None:
            with torch.no_grad():
                real_features = RealFeatures(image_d(sem, ex, ex_sem, real_flat))
        g = {"gan": generator_hinge(fake_feats), "feature_matching": feature_matching(fake_feats, real_features.image)}
        if use_temporal:
            fake_v = temporal_d(fake)
            real_v = real_features.temporal
            if real_v is None:
                with torch.no_grad():
                    real_v = temporal_d(real)
            g["temporal_gan"] = generator_hinge(fake_v)
            g["temporal_feature_matching"] = feature_matching(fake_v, real_v)
    g["l1"] = (fake - real).abs().mean() + (clip.raw_prime.float() - real).abs().mean()
    if cfg.raw > 0:  # H's own image on the subject: E's weights must carry the subject's look, not only the warp
        subject = subject_weight(batch["semantic"], background)
        g["raw"] = (subject * (clip.raw.float() - real).abs()).mean()
    if vgg is not None:
        g["vgg"] = vgg(fake.flatten(0, 1), real.flatten(0, 1))
    if clip.flow_prev is not None:  # W, M on the previous frame (t >= 1), supervised with the real frames
        cur, prev = real[:, 1:].flatten(0, 1), real[:, :-1].flatten(0, 1)
        flow = clip.flow_prev.float().flatten(0, 1)
        gt_flow, confidence = ground_truth_flow(cur, prev, method=cfg.flow_method)
        warped_real = warp(prev, flow)
        g["flow"] = flow_loss(flow, gt_flow, confidence)
        g["warp"] = warp_loss(warped_real, cur)
        g["mask"] = mask_loss(clip.mask_prev.float().flatten(0, 1), warped_real, cur)
    if clip.warped_example is not None:  # the example warp of eq. 11: E warped examples per frame (1 or K)
        e = clip.warped_example.shape[2]
        cur = real[:, :, None].expand(-1, -1, e, -1, -1, -1).flatten(0, 2)  # (B * T * E, 3, H, W)
        warped, share = clip.warped_example.float().flatten(0, 2), clip.example_share.float().flatten(0, 2)
        # Each example's warp error counts by its share of h'_t: with the attention warp, this is what teaches E_A
        # which example shows each part of the frame.
        error = (warped - cur).abs()  # (B * T * E, 3, H, W)
        g["warp"] = g.get("warp", 0) + e * (share * error).mean()
        if e > 1 and cfg.example_share > 0:
            g["example_share"] = share_choice_loss(share, error.mean(dim=1, keepdim=True), e)
        # A closed-form flow and mask (example_alignment: parts_only): their terms would be constants.
        if clip.flow_example.requires_grad or clip.mask_example.requires_grad:
            mask_e = clip.mask_example.float().flatten(0, 2)
            g["mask"] = g.get("mask", 0) + mask_loss(mask_e, warped, cur)
            if e == 1:
                rows = torch.arange(len(real), device=real.device)[:, None]
                s_e = batch["example_semantic"][rows, clip.example_index].flatten(0, 1)  # the warped examples' maps
            else:
                s_e = batch["example_semantic"][:, None].expand(-1, real.shape[1], -1, -1, -1, -1).flatten(0, 2)
            flow_e = clip.flow_example.float().flatten(0, 2)
            s_t = batch["semantic"][:, :, None].expand(-1, -1, e, -1, -1, -1).flatten(0, 2)
            for part in label_slices:  # one-hot part / label layers: keep the example's pose from ghosting
                part_warp, part_mask = label_warp_losses(warp(s_e[:, part], flow_e), s_t[:, part], mask_e)
                g["part_warp"] = g.get("part_warp", 0) + part_warp
                g["part_mask"] = g.get("part_mask", 0) + part_mask
    return g


def subject_weight(semantic: Tensor, background: int | None) -> Tensor | float:
    """Where the raw loss counts: 1 on the subject, i.e. off s_t's background channel ``background`` widened by the
    subject's rim (its hair and clothes reach past the labels), 0 elsewhere; 1 everywhere without a background channel.

    semantic: (B, T, C_s, H, W) -> (B, T, 1, H, W), or the number 1.0 when ``background`` is None.
    """
    if background is None:
        return 1.0
    return widened_subject(semantic[:, :, background, None].flatten(0, 1)).unflatten(0, semantic.shape[:2])


SHARE_TEMPERATURE = 0.1  # of the softmin over the examples' per-pixel warp errors (L1 on [-1, 1] images)


def share_choice_loss(share: Tensor, error: Tensor, e: int) -> Tensor:
    """Teach E_A which example to use where: at every pixel, the cross-entropy of the E examples' shares against the
    softmin of their warp errors there (no gradient through the target). Pixels where the examples' warps agree (the
    room) ask for nothing in particular; where one example's warp shows the frame and another's does not (the front
    of a garment against its back), the share is pulled to the one that does.

    share, error: (N * E, 1, H, W), example-minor (each group of E rows is one frame's examples); shares sum to 1
    over each group.
    """
    target = torch.softmax(-error.detach().unflatten(0, (-1, e)) / SHARE_TEMPERATURE, dim=1)  # (N, E, 1, H, W)
    return -(target * share.unflatten(0, (-1, e)).clamp_min(1e-6).log()).sum(dim=1).mean()


def weighted_total(terms: dict[str, Tensor], cfg: LossConfig) -> Tensor:
    """sum_term weight(term) * term, the weights read from ``cfg`` by name."""
    return sum(cfg.weight(name) * value for name, value in terms.items())
