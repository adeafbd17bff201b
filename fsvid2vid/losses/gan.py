"""Hinge GAN losses and the discriminator feature-matching loss over multi-scale discriminator outputs.

A discriminator returns :data:`Features`: one entry per scale, each the list of that scale's intermediate feature
maps, the LAST being the patch logits (B, 1, h, w). The adversarial losses read only the logits; feature matching
reads every other entry.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from fsvid2vid.models.discriminators import Features

__all__ = ["Features", "discriminator_hinge", "feature_matching", "generator_hinge"]


def _check_scales(*outputs: Features) -> int:
    """The number of scales, after checking that every output has the same non-zero count."""
    counts = {len(output) for output in outputs}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"discriminator outputs must have the same, non-zero number of scales; got {sorted(counts)}")
    return counts.pop()


def discriminator_hinge(real: Features, fake: Features) -> tuple[Tensor, Tensor]:
    """The discriminator's hinge losses ``(mean relu(1 - D(real)), mean relu(1 + D(fake)))``, each averaged over scales.

    real, fake: per scale, the features of the real and of the (detached) generated input; only the last entry of
    each scale, the patch logits (B, 1, h_s, w_s), is used. Returns two scalars; the D loss is their sum.
    """
    n = _check_scales(real, fake)
    loss_real = sum(F.relu(1 - scale[-1]).mean() for scale in real) / n
    loss_fake = sum(F.relu(1 + scale[-1]).mean() for scale in fake) / n
    return loss_real, loss_fake


def generator_hinge(fake: Features) -> Tensor:
    """The generator's hinge loss ``-mean D(fake)``, averaged over scales (logits: the last entry of each scale)."""
    n = _check_scales(fake)
    return -sum(scale[-1].mean() for scale in fake) / n


def feature_matching(fake: Features, real: Features) -> Tensor:
    """L1 between the discriminator features of the generated and the real input, every entry but the logits.

    The real side is detached, so the gradient reaches only the generator through ``fake``. The per-layer L1 means
    are averaged over the layers of a scale, then over the scales. (The official code sums over the layers instead of
    averaging, so its weight lambda_feat = 10 corresponds to 10 x the number of layers here.)
    Returns a scalar.
    """
    n = _check_scales(fake, real)
    total = 0.0
    for fake_scale, real_scale in zip(fake, real, strict=True):
        if len(fake_scale) != len(real_scale) or len(fake_scale) < 2:
            raise ValueError("feature matching needs the same number (at least 2) of features per scale on both sides")
        layers = [F.l1_loss(f, r.detach()) for f, r in zip(fake_scale[:-1], real_scale[:-1], strict=True)]
        total = total + sum(layers) / len(layers)
    return total / n
