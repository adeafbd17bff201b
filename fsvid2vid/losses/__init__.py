"""Training losses: hinge GAN and feature matching, ground-truth flow and the flow/warp/mask losses, VGG19 perceptual.

    loss_real, loss_fake = discriminator_hinge(D(real), D(fake.detach()))
    g_gan, g_fm = generator_hinge(D(fake)), feature_matching(D(fake), D(real))
    gt_flow, conf = ground_truth_flow(target_frame, previous_frame)     # OpenCV DIS on the CPU, no gradient
    f_flow = flow_loss(pred_flow, gt_flow, conf)
    f_warp = warp_loss(warp(previous_frame, pred_flow), target_frame)
    f_mask = mask_loss(mask, warp(previous_frame, pred_flow), target_frame)  # mask 1 = synthesise, 0 = warp
    e_warp, e_mask = label_warp_losses(warp(example_parts, flow_e), frame_parts, mask_e)  # one-hot label layers
    vgg = load_vgg19("vgg19.safetensors"); g_vgg = vgg(fake, real)

The whole objective of a training step, weighted by :class:`LossConfig`: :mod:`fsvid2vid.losses.objective`.
"""

from fsvid2vid.losses.config import LossConfig
from fsvid2vid.losses.flow import (
    FLOW_METHODS,
    flow_loss,
    ground_truth_flow,
    label_warp_losses,
    mask_loss,
    masked_l1,
    warp_confidence,
    warp_loss,
)
from fsvid2vid.losses.gan import Features, discriminator_hinge, feature_matching, generator_hinge
from fsvid2vid.losses.perceptual import VGGPerceptualLoss, load_vgg19, vgg19_features

__all__ = [
    "FLOW_METHODS",
    "Features",
    "LossConfig",
    "VGGPerceptualLoss",
    "discriminator_hinge",
    "feature_matching",
    "flow_loss",
    "generator_hinge",
    "ground_truth_flow",
    "label_warp_losses",
    "load_vgg19",
    "mask_loss",
    "masked_l1",
    "vgg19_features",
    "warp_confidence",
    "warp_loss",
]
