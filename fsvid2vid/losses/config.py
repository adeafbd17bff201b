"""The weights of the generator's loss terms: one field per term, named as :func:`generator_losses` names it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class LossConfig:
    """Weights of the generator's loss terms (the vid2vid objective the paper reuses)."""

    gan: float = 1.0  # hinge GAN on the conditional image discriminator
    feature_matching: float = 10.0  # L1 between image-discriminator features of real and generated frames
    temporal_gan: float = 1.0  # hinge GAN on the temporal discriminator (on by default; the anchors left it off)
    temporal_feature_matching: float = 10.0  # feature matching on the temporal discriminator
    l1: float = 10.0  # L1 between generated and real frames (final frame x_t and intermediate image h'_t)
    raw: float = 0.0  # L1 of H's own image h_t against the real frame on the subject (dance: the body-part map's
    #                   non-background, widened by the rim; whole frame for tasks without one), averaged over the
    #                   frame: H must render the examples' subject itself, not only where the warped example fails
    flow: float = 10.0  # L1 between W's flow and OpenCV ground-truth flow where the latter is consistent
    warp: float = 10.0  # L1 between real frames and the real previous frame / example warped by the predicted flows
    mask: float = 10.0  # soft occlusion masks: 0 where the warp is right, 1 where it is wrong
    part_warp: float = 10.0  # label layers: L1 between the example's one-hot map warped by W_e's flow and the frame's
    part_mask: float = 10.0  # label layers: m_e pushed to 1 where the warped example's labels disagree (anti-ghost)
    example_share: float = 0.0  # attention warp, K >= 2: cross-entropy of E_A's per-pixel shares against the softmin
    #                             of the examples' warp errors there (which example's warp shows the frame best)
    vgg: float = 10.0  # VGG19 perceptual loss; used only when vgg_weights is set
    vgg_weights: str | None = None  # path of VGG19 weights as safetensors (torchvision key names); None: no VGG
    flow_method: Literal["dis", "farneback"] = "dis"  # OpenCV ground-truth flow: "dis" or "farneback"

    def weight(self, term: str) -> float:
        """The weight of the loss term ``term`` (a field name)."""
        value = getattr(self, term, None)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise KeyError(f"no loss weight for the term {term!r}: add a LossConfig field named {term}")
        return float(value)
