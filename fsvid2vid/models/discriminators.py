"""Discriminators: the conditional multi-scale patch image discriminator and the multi-scale temporal discriminator.

Both return a list with one entry per scale; each entry is the list of that scale's intermediate features, the last
being the patch logits (B, 1, h, w). The feature-matching loss uses every entry but the last.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsvid2vid.models.config import DiscriminatorConfig
from fsvid2vid.models.layers import LEAKY_SLOPE, maybe_spectral_norm

Features = list[list[Tensor]]


class PatchDiscriminator(nn.Module):
    """One scale: ``n_layers`` stride-2 4x4 convolutions, one stride-1, then a 1-channel logit convolution.

    Spectral norm on every convolution, instance norm on all but the first and the last, LeakyReLU(0.2).
    """

    def __init__(self, in_channels: int, ndf: int, max_channels: int, n_layers: int, spectral: bool,
                 instance_norm: bool):
        super().__init__()
        widths = [in_channels] + [min(max_channels, ndf * 2**i) for i in range(n_layers + 1)]
        self.blocks = nn.ModuleList()
        for i in range(n_layers + 1):
            layers: list[nn.Module] = [maybe_spectral_norm(
                nn.Conv2d(widths[i], widths[i + 1], 4, stride=2 if i < n_layers else 1, padding=2), spectral)]
            if instance_norm and i > 0:
                layers.append(nn.InstanceNorm2d(widths[i + 1], affine=True))
            layers.append(nn.LeakyReLU(LEAKY_SLOPE))
            self.blocks.append(nn.Sequential(*layers))
        self.blocks.append(maybe_spectral_norm(nn.Conv2d(widths[-1], 1, 4, stride=1, padding=2), spectral))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> list[Tensor]:
        """x: (N, C_x, H, W) -> [n_layers + 1 feature maps, logits (N, 1, h, w)].

        condition: None (C_x = in_channels), or (N / r, C_c, H, W) stacked before x on the channels and repeated r
        times over the batch (C_c + C_x = in_channels): see :func:`_stacked_conv`.
        """
        features = []
        for i, block in enumerate(self.blocks):
            x = block[1:](_stacked_conv(block[0], condition, x)) if i == 0 and condition is not None else block(x)
            features.append(x)
        return features


def _stacked_conv(conv: nn.Conv2d, condition: Tensor, x: Tensor) -> Tensor:
    """``conv`` of the condition (N / r, C_c, H, W), repeated r times over the batch, stacked before x (N, C_x, H, W).

    A convolution is a sum over its input channels, so this is conv_c(condition), repeated, plus conv_x(x), where
    conv_c and conv_x hold the kernels' first C_c and last C_x input channels: the same numbers as stacking first,
    but the condition's part is computed once per condition and back-propagates to the kernels only, where a stacked
    input would carry a gradient over all its channels (on a CPU that was the largest convolution of a training step).
    """
    repeats, c = len(x) // len(condition), condition.shape[1]
    if repeats * len(condition) != len(x):
        raise ValueError(f"a batch of {len(x)} images is not a multiple of {len(condition)} conditions")
    weight = conv.weight  # read once: with spectral norm, each read is one power iteration
    args = conv.stride, conv.padding, conv.dilation, conv.groups
    own = F.conv2d(x, weight[:, c:], conv.bias, *args)
    return own + F.conv2d(condition, weight[:, :c], None, *args).repeat(repeats, 1, 1, 1)


class MultiscaleDiscriminator(nn.Module):
    """``num_scales`` patch discriminators, scale s seeing the input average-pooled by 2**s."""

    def __init__(self, in_channels: int, num_scales: int, **patch_kwargs):
        super().__init__()
        self.scales = nn.ModuleList(PatchDiscriminator(in_channels, **patch_kwargs) for _ in range(num_scales))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Features:
        """x: (N, C_x, H, W); condition: (N / r, C_c, H, W) or None, stacked before x on the channels at every scale
        and repeated r times over the batch (e.g. the same conditions for a batch of real and one of generated
        frames): the same as stacking them first, but each condition is pooled and convolved once and only x is
        pooled and convolved with a gradient."""
        features = []
        for i, discriminator in enumerate(self.scales):
            if i > 0:
                x = _half(x)
                condition = None if condition is None else _half(condition)
            features.append(discriminator(x, condition))
        return features


def _half(x: Tensor) -> Tensor:
    """The next scale's input: a 3x3 average with stride 2 (padding left out of the average)."""
    return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)


class ImageDiscriminator(nn.Module):
    """D_I: is ``image`` a real frame for semantic map s_t, given one example e and its map s_e (conditional)?"""

    def __init__(self, cfg: DiscriminatorConfig, semantic_nc: int):
        super().__init__()
        c_s = semantic_nc  # C_s, the generator's (GeneratorConfig.semantic_nc)
        self.net = MultiscaleDiscriminator(
            2 * c_s + 6, cfg.num_scales, ndf=cfg.ndf, max_channels=cfg.max_channels, n_layers=cfg.n_layers,
            spectral=cfg.spectral_norm, instance_norm=cfg.instance_norm)

    def forward(self, semantic: Tensor, example_rgb: Tensor, example_semantic: Tensor, image: Tensor) -> Features:
        """semantic s_t: (B, C_s, H, W); example e: (B, 3, H, W); its map s_e: (B, C_s, H, W); image: (r B, 3, H, W),
        r >= 1 images per condition (e.g. real and generated frames of the same conditions, r = 2): the input of
        image i is (s_t, e, s_e) of condition i mod B stacked with it, (2 C_s + 6, H, W)."""
        return self.net(image, torch.cat((semantic, example_rgb, example_semantic), dim=1))


class TemporalDiscriminator(nn.Module):
    """D_V: are T_D consecutive frames (stacked on channels) a real video? One patch discriminator per temporal scale.

    Temporal scale s looks at T_D frames taken with stride T_D**s, ending at the latest frame (vid2vid's scheme: stride
    1, T_D, T_D**2, …), so it needs (T_D - 1) * T_D**s + 1 frames. Optional per-frame conditions (a flow, a semantic
    map) are stacked with their frames.
    """

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.n_frames = cfg.temporal_frames
        self.condition_channels = cfg.temporal_condition_channels
        in_channels = self.n_frames * (3 + self.condition_channels)
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, cfg.ndf, cfg.max_channels, cfg.temporal_n_layers, cfg.spectral_norm,
                               cfg.instance_norm)
            for _ in range(cfg.temporal_scales))

    def frames_needed(self, scale: int) -> int:
        """Frames a clip needs for temporal scale ``scale``."""
        return (self.n_frames - 1) * self.n_frames**scale + 1

    def forward(self, frames: Tensor, conditions: Tensor | None = None) -> Features:
        """frames: (B, T, 3, H, W); conditions: (B, T, temporal_condition_channels, H, W) or None.

        Returns one entry per temporal scale that fits in T frames (scales needing more frames are left out, so the
        list is shorter for short clips; it is empty when T < T_D).
        """
        if (conditions is None) != (self.condition_channels == 0):
            raise ValueError(f"this temporal discriminator expects {self.condition_channels} condition channels per "
                             f"frame, got conditions={None if conditions is None else tuple(conditions.shape)}")
        stacked = frames if conditions is None else torch.cat((frames, conditions), dim=2)  # (B, T, C, H, W)
        t = stacked.shape[1]
        features = []
        for scale, discriminator in enumerate(self.scales):
            if self.frames_needed(scale) > t:
                break
            stride = self.n_frames**scale
            picked = stacked[:, t - 1 - stride * (self.n_frames - 1)::stride]  # (B, T_D, C, H, W), oldest first
            features.append(discriminator(picked.flatten(1, 2)))
        return features
