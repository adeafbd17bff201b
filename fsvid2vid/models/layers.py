"""Building blocks shared by the networks: per-sample convolution, backward warping, SPADE and its residual block."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from fsvid2vid.models.theta import ConvWeights, LevelTheta

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


def per_sample_conv(x: Tensor, theta: ConvWeights, stride: int = 1) -> Tensor:
    """Convolve sample b of ``x`` with its own kernel ``theta.weight[b]``, all samples in ONE grouped convolution.

    x: (B, C_in, H, W) -> (B, C_out, H', W'), 'same' padding (H' = ceil(H / stride)). Two cases take another road to
    the same numbers, because oneDNN's grouped convolution is slow there on a CPU (docs/performance.md): a 1x1 kernel
    (the generated theta_gamma / theta_beta) is one batched matrix product, and where only the kernels need a
    gradient (x is a constant such as the semantic map s_t in training) each sample is one plain convolution.
    """
    b, c_in, h, w = x.shape
    _, c_out, _, k, _ = theta.weight.shape
    if k == 1 and stride == 1:
        out = torch.baddbmm(theta.bias[:, :, None], theta.weight.reshape(b, c_out, c_in), x.reshape(b, c_in, h * w))
        return out.reshape(b, c_out, h, w)
    if b > 1 and torch.is_grad_enabled() and theta.weight.requires_grad and not x.requires_grad:
        return torch.cat([F.conv2d(x[i:i + 1], theta.weight[i], theta.bias[i], stride=stride, padding=k // 2)
                          for i in range(b)])
    out = F.conv2d(x.reshape(1, b * c_in, h, w),  # the batch becomes B groups of C_in channels
                   theta.weight.reshape(b * c_out, c_in, k, k), theta.bias.reshape(b * c_out),
                   stride=stride, padding=k // 2, groups=b)  # (1, B * C_out, H', W')
    return out.reshape(b, c_out, *out.shape[-2:])


def warp(image: Tensor, flow: Tensor) -> Tensor:
    """Backward warping: ``out[p] = image[p + flow[p]]`` with bilinear sampling and border padding.

    image: (B, C, H, W); flow: (B, 2, H, W) in pixels, channel 0 = dx (to the right), channel 1 = dy (down).
    Pixel centres sit at integer coordinates 0 … W-1, which is ``align_corners=True`` in normalised coordinates,
    so a constant flow of (dx, dy) shifts the image by exactly (-dx, -dy) pixels.
    Coordinates and sampling run in fp32 whatever the dtype (bf16 would place a pixel 100 px in only to 0.5 px).
    """
    _, _, h, w = image.shape
    flow = flow.float()
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w) + flow[:, 0]  # (B, H, W)
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1) + flow[:, 1]  # (B, H, W)
    grid = torch.stack((2 * xs / (w - 1) - 1, 2 * ys / (h - 1) - 1), dim=-1)  # (B, H, W, 2) in [-1, 1]
    sampled = F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="border", align_corners=True)
    return sampled.to(image.dtype)


# A hook applied to each SPADE's output inside H: (output, "norm_in" | "norm_mid") -> output. Only the AdaIN
# baseline has one (fsvid2vid.models.conditioning); the paper's H runs without.
Restyle = Callable[[Tensor, str], Tensor]


class SPADE(nn.Module):
    """Spatially-adaptive denormalisation of ``channels`` feature maps (eq. 9-10).

    gamma and beta come from the semantic features p_S through theta_gamma, theta_beta: learned convolutions, or,
    at the generated levels, per-sample weights passed to ``forward`` (one grouped conv computes both maps).
    """

    def __init__(self, channels: int, hidden: int, kernel: int, generated: bool):
        super().__init__()
        self.channels, self.hidden, self.kernel = channels, hidden, kernel
        self.norm = nn.InstanceNorm2d(channels, affine=False)  # parameter-free (docs/model.md: why instance norm)
        self.gamma_beta = None if generated else conv(hidden, 2 * channels, kernel)  # theta_gamma, theta_beta

    def generated_shape(self) -> tuple[int, ...]:
        """Shape of the generated theta_gamma and theta_beta (stacked on the output axis), per sample."""
        return (2 * self.channels, self.hidden, self.kernel, self.kernel)

    def forward(self, x: Tensor, p_s: Tensor, theta: ConvWeights | None = None) -> Tensor:
        """x: (B, channels, h, w); p_S: (B, hidden, h, w); theta: generated weights, or None for learned ones."""
        # Parameter-free normalisation.
        normalized = self.norm(x)
        # Scale and bias maps from the semantic features (eq. 9).
        gamma_beta = self.gamma_beta(p_s) if theta is None else per_sample_conv(p_s, theta)  # (B, 2 * channels, h, w)
        return modulate(normalized, gamma_beta)  # eq. 10


def modulate(normalized: Tensor, gamma_beta: Tensor) -> Tensor:
    """Eq. 10: ``normalized * (1 + gamma) + beta`` with gamma, beta the two halves of ``gamma_beta``'s channels.

    normalized: (B, C, h, w); gamma_beta: (B, 2C, h, w) -> (B, C, h, w). The same numbers as those three operations
    on ``gamma_beta.chunk(2, 1)``, forward and backward; the backward writes the gradients of gamma and beta into one
    tensor, where autograd's ``chunk`` would join them with a ``cat`` of the whole (B, 2C, h, w) map, one more copy
    of the largest maps of a training step (docs/performance.md).
    """
    if normalized.shape[1] * 2 != gamma_beta.shape[1] or normalized.shape[2:] != gamma_beta.shape[2:] \
            or normalized.shape[0] != gamma_beta.shape[0]:
        raise ValueError(f"modulate: normalized {tuple(normalized.shape)} needs gamma_beta (B, 2C, h, w) of the same "
                         f"B, h, w; got {tuple(gamma_beta.shape)}")
    return _Modulate.apply(normalized, gamma_beta)


class _Modulate(torch.autograd.Function):
    """:func:`modulate`'s operations, with a backward that fills one gradient tensor for gamma and beta."""

    @staticmethod
    def forward(ctx, normalized: Tensor, gamma_beta: Tensor) -> Tensor:  # type: ignore[override]
        gamma, beta = gamma_beta.chunk(2, dim=1)
        scale = 1 + gamma
        ctx.save_for_backward(normalized if ctx.needs_input_grad[1] else None,
                              scale if ctx.needs_input_grad[0] else None)
        ctx.beta_dtype = beta.dtype
        return normalized * scale + beta

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:  # type: ignore[override]
        normalized, scale = ctx.saved_tensors
        grad_normalized = grad * scale if ctx.needs_input_grad[0] else None
        grad_gamma_beta = None
        if ctx.needs_input_grad[1]:
            c = grad.shape[1]
            grad_gamma_beta = grad.new_empty((grad.shape[0], 2 * c, *grad.shape[2:]), dtype=ctx.beta_dtype)
            torch.mul(grad, normalized, out=grad_gamma_beta[:, :c])  # d/d gamma
            grad_gamma_beta[:, c:].copy_(grad)  # d/d beta
        return grad_normalized, grad_gamma_beta


class SPADEResBlock(nn.Module):
    """H's residual block at one level: (SPADE, sigma, conv) twice on the residual path, plus a shortcut.

    The first SPADE modulates the block input x; its output also feeds the learned 1x1 shortcut when the channel
    count changes (one modulation of x rather than two identical-looking ones: half the generated weights).
    """

    def __init__(self, fin: int, fout: int, hidden: int, kernel: int, generated: bool, spectral: bool):
        super().__init__()
        fmid = min(fin, fout)
        self.norm_in = SPADE(fin, hidden, kernel, generated)
        self.conv_0 = maybe_spectral_norm(conv(fin, fmid), spectral)
        self.norm_mid = SPADE(fmid, hidden, kernel, generated)
        self.conv_1 = maybe_spectral_norm(conv(fmid, fout), spectral)
        self.conv_s = maybe_spectral_norm(conv(fin, fout, 1, bias=False), spectral) if fin != fout else None

    def spade_channels(self) -> dict[str, int]:
        """Feature channels each of the block's two SPADEs normalises."""
        return {"norm_in": self.norm_in.channels, "norm_mid": self.norm_mid.channels}

    def forward(self, x: Tensor, p_s: Tensor, theta: LevelTheta | None = None, restyle: Restyle | None = None
                ) -> Tensor:
        """x: (B, fin, h, w), p_S: (B, hidden, h, w) -> (B, fout, h, w); theta: this level's generated weights."""
        x_mod = self.norm_in(x, p_s, theta.norm_in if theta else None)
        if restyle is not None:
            x_mod = restyle(x_mod, "norm_in")
        dx = self.conv_0(act(x_mod))
        dx_mod = self.norm_mid(dx, p_s, theta.norm_mid if theta else None)
        if restyle is not None:
            dx_mod = restyle(dx_mod, "norm_mid")
        dx = self.conv_1(act(dx_mod))
        shortcut = x if self.conv_s is None else self.conv_s(x_mod)
        return shortcut + dx

