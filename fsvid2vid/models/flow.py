"""W and M: the flow and soft occlusion mask networks (eq. 3-4), one trunk with two heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsvid2vid.models.config import GeneratorConfig
from fsvid2vid.models.layers import act, conv


class ConvNormAct(nn.Module):
    """conv -> instance norm (affine) -> LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv = conv(in_channels, out_channels, stride=stride, bias=False)
        self.norm = nn.InstanceNorm2d(out_channels, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        return act(self.norm(self.conv(x)))


class ResBlock(nn.Module):
    """x + conv(norm(sigma(conv(x)))) at constant width."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(ConvNormAct(channels, channels), conv(channels, channels, bias=False),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class FlowMaskNet(nn.Module):
    """W and M sharing a trunk: an encoder-decoder with additive skips, a flow head and a mask head.

    Input: images and semantic maps stacked on channels (see FewShotGenerator for which). Output: a backward flow
    in pixels (dx, dy), to be used with :func:`fsvid2vid.models.layers.warp`, and a soft mask in (0, 1) (1: keep
    the synthesised pixel, 0: keep the warped one). The flow head starts at zero, so warping starts as the identity.
    With ``cfg.flow_stride`` 2 the stem has stride 2 and both come out at half resolution, then are upsampled
    bilinearly to the input's size (the flow's pixels rescaled with it).
    """

    def __init__(self, in_channels: int, cfg: GeneratorConfig):
        super().__init__()
        ch = [min(cfg.flow_max_channels, cfg.flow_ngf * 2**i) for i in range(cfg.flow_n_downsample + 1)]
        self.flow_scale = cfg.flow_scale
        self.stem = ConvNormAct(in_channels, ch[0], stride=cfg.flow_stride)
        self.down = nn.ModuleList(ConvNormAct(ch[i], ch[i + 1], stride=2) for i in range(len(ch) - 1))
        self.res_blocks = nn.Sequential(*(ResBlock(ch[-1]) for _ in range(cfg.flow_n_res_blocks)))
        self.up = nn.ModuleList(ConvNormAct(ch[i + 1], ch[i]) for i in reversed(range(len(ch) - 1)))
        self.flow_head = conv(ch[0], 2)
        self.mask_head = conv(ch[0], 1)
        nn.init.zeros_(self.flow_head.weight)
        nn.init.zeros_(self.flow_head.bias)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x: (B, C_in, H, W) -> flow (B, 2, H, W) in pixels, mask (B, 1, H, W) in (0, 1)."""
        y, skips = self.stem(x), []
        for down in self.down:
            skips.append(y)
            y = down(y)
        y = self.res_blocks(y)
        for up, skip in zip(self.up, reversed(skips), strict=True):
            y = up(F.interpolate(y, size=skip.shape[-2:], mode="nearest")) + skip
        flow, mask_logit = self.flow_head(y) * self.flow_scale, self.mask_head(y)
        if flow.shape[-2:] != x.shape[-2:]:  # predicted at half resolution: upsample, in the input's pixels
            (h, w), (big_h, big_w) = flow.shape[-2:], x.shape[-2:]
            pixels = flow.new_tensor([(big_w - 1) / max(w - 1, 1), (big_h - 1) / max(h - 1, 1)]).view(1, 2, 1, 1)
            flow = F.interpolate(flow, size=(big_h, big_w), mode="bilinear", align_corners=True) * pixels
            mask_logit = F.interpolate(mask_logit, size=(big_h, big_w), mode="bilinear", align_corners=True)
        return flow, torch.sigmoid(mask_logit)
