"""Building blocks shared by the networks: per-sample convolution, backward warping, SPADE and its residual block."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

LEAKY_SLOPE = 0.2


def act(x: Tensor) -> Tensor:
    """The nonlinearity sigma used everywhere: LeakyReLU(0.2)."""
    return F.leaky_relu(x, LEAKY_SLOPE)


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """``module`` with spectral normalisation of its weight when ``enabled``."""
    return spectral_norm(module) if enabled else module


def conv(in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    """A 'same'-padded convolution: odd ``kernel``; with stride 2 an n-pixel side becomes ceil(n / 2)."""
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, bias=bias)


def resize(x: Tensor, size: tuple[int, int] | torch.Size) -> Tensor:
    """Area-average ``x`` (B, C, h, w) to ``size``: thin skeleton lines and small classes survive downsampling."""
    return x if tuple(x.shape[-2:]) == tuple(size) else F.interpolate(x, size=tuple(size), mode="area")


@dataclass
class ConvWeights:
    """Per-sample weights of one generated convolution."""

    weight: Tensor  # (B, C_out, C_in, k, k)
    bias: Tensor  # (B, C_out)


def per_sample_conv(x: Tensor, theta: ConvWeights, stride: int = 1) -> Tensor:
    """Convolve sample b of ``x`` with its own kernel ``theta.weight[b]``, all samples in ONE grouped convolution.

    x: (B, C_in, H, W) -> (B, C_out, H', W'), 'same' padding (H' = ceil(H / stride)).
    """
    b, c_in, h, w = x.shape
    _, c_out, _, k, _ = theta.weight.shape
    out = F.conv2d(x.reshape(1, b * c_in, h, w),  # the batch becomes B groups of C_in channels
                   theta.weight.reshape(b * c_out, c_in, k, k), theta.bias.reshape(b * c_out),
                   stride=stride, padding=k // 2, groups=b)  # (1, B * C_out, H', W')
    return out.reshape(b, c_out, *out.shape[-2:])


def warp(image: Tensor, flow: Tensor) -> Tensor:
    """Backward warping: ``out[p] = image[p + flow[p]]`` with bilinear sampling and border padding.

    image: (B, C, H, W); flow: (B, 2, H, W) in pixels, channel 0 = dx (to the right), channel 1 = dy (down).
    Pixel centres sit at integer coordinates 0 … W-1, which is ``align_corners=True`` in normalised coordinates,
    so a constant flow of (dx, dy) shifts the image by exactly (-dx, -dy) pixels.
    """
    _, _, h, w = image.shape
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w) + flow[:, 0]  # (B, H, W)
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1) + flow[:, 1]  # (B, H, W)
    grid = torch.stack((2 * xs / (w - 1) - 1, 2 * ys / (h - 1) - 1), dim=-1)  # (B, H, W, 2) in [-1, 1]
    return F.grid_sample(image, grid.to(image.dtype), mode="bilinear", padding_mode="border", align_corners=True)


class SPADE(nn.Module):
    """Spatially-adaptive denormalisation of ``channels`` feature maps (eq. 9-10).

    gamma and beta come from the semantic features p_S through theta_gamma, theta_beta: learned convolutions, or,
    at the generated levels, per-sample weights passed to ``forward`` (one grouped conv computes both maps).
    With ``adain_dim`` > 0 (the AdaIN baseline) an AdaIN layer follows, its scale and bias from a style vector.
    """

    def __init__(self, channels: int, hidden: int, kernel: int, generated: bool, adain_dim: int = 0):
        super().__init__()
        self.channels, self.hidden, self.kernel = channels, hidden, kernel
        self.norm = nn.InstanceNorm2d(channels, affine=False)  # parameter-free (docs/model.md: why instance norm)
        self.gamma_beta = None if generated else conv(hidden, 2 * channels, kernel)  # theta_gamma, theta_beta
        self.adain = nn.Linear(adain_dim, 2 * channels) if adain_dim else None

    def generated_shape(self) -> tuple[int, ...]:
        """Shape of the generated theta_gamma and theta_beta (stacked on the output axis), per sample."""
        return (2 * self.channels, self.hidden, self.kernel, self.kernel)

    def forward(self, x: Tensor, p_s: Tensor, theta: ConvWeights | None = None, style: Tensor | None = None) -> Tensor:
        """x: (B, channels, h, w); p_S: (B, hidden, h, w); theta: generated weights or None; style: (B, adain_dim)."""
        # Parameter-free normalisation.
        normalized = self.norm(x)
        # Scale and bias maps from the semantic features (eq. 9).
        gamma_beta = self.gamma_beta(p_s) if theta is None else per_sample_conv(p_s, theta)  # (B, 2 * channels, h, w)
        gamma, beta = gamma_beta.chunk(2, dim=1)
        out = normalized * (1 + gamma) + beta  # eq. 10
        if self.adain is not None:  # AdaIN baseline: re-normalise, then scale and shift by the example's style
            scale, shift = self.adain(style)[:, :, None, None].chunk(2, dim=1)  # (B, channels, 1, 1) each
            out = self.norm(out) * (1 + scale) + shift
        return out


class SPADEResBlock(nn.Module):
    """H's residual block at one level: (SPADE, sigma, conv) twice on the residual path, plus a shortcut.

    The first SPADE modulates the block input x; its output also feeds the learned 1x1 shortcut when the channel
    count changes (one modulation of x rather than two identical-looking ones: half the generated weights).
    """

    def __init__(self, fin: int, fout: int, hidden: int, kernel: int, generated: bool, spectral: bool,
                 adain_dim: int = 0):
        super().__init__()
        fmid = min(fin, fout)
        self.norm_in = SPADE(fin, hidden, kernel, generated, adain_dim)
        self.conv_0 = maybe_spectral_norm(conv(fin, fmid), spectral)
        self.norm_mid = SPADE(fmid, hidden, kernel, generated, adain_dim)
        self.conv_1 = maybe_spectral_norm(conv(fmid, fout), spectral)
        self.conv_s = maybe_spectral_norm(conv(fin, fout, 1, bias=False), spectral) if fin != fout else None

    def generated_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-sample shapes of the generated modulation weights of this block's two SPADEs."""
        return {"norm_in": self.norm_in.generated_shape(), "norm_mid": self.norm_mid.generated_shape()}

    def forward(self, x: Tensor, p_s: Tensor, theta: dict[str, ConvWeights] | None = None,
                style: Tensor | None = None) -> Tensor:
        """x: (B, fin, h, w), p_S: (B, hidden, h, w) -> (B, fout, h, w)."""
        theta = theta or {}
        x_mod = self.norm_in(x, p_s, theta.get("norm_in"), style)
        dx = self.conv_0(act(x_mod))
        dx = self.conv_1(act(self.norm_mid(dx, p_s, theta.get("norm_mid"), style)))
        shortcut = x if self.conv_s is None else self.conv_s(x_mod)
        return shortcut + dx
