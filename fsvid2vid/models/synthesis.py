"""H, the intermediate image synthesis network (eq. 5): a SPADE generator whose modulation weights may be generated.

Levels are numbered by resolution: level i works at 1 / 2**i of the frame (each side ceil-halved per level, so any
frame size works), level 0 is full resolution and level n = n_downsample is the bottleneck. The paper's layer index
l (finest first, l = 1 … L generated) is level l - 1 here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsvid2vid.models.config import GeneratorConfig
from fsvid2vid.models.layers import SPADEResBlock, act, conv, per_sample_conv, resize
from fsvid2vid.models.theta import LevelShapes, ThetaH


class ModulationBranch(nn.Module):
    """The shared layers theta_S of H's spatial modulation branches (eq. 8), one per level.

    p_S^0 = sigma(theta_S^0 * s_t) at full resolution and p_S^i = sigma(theta_S^i *_2 p_S^{i-1}), a stride-2
    convolution, at level i: the chain of eq. 8, finest first, matching E_F's order. Levels listed in ``generated``
    have no weights of their own; theirs come from E_P with every frame.
    """

    def __init__(self, cfg: GeneratorConfig, in_channels: int, generated: range):
        super().__init__()
        self.n_levels, self.generated = cfg.n_downsample + 1, generated
        self.in_channels = [in_channels] + [cfg.modulation_channels(i) for i in range(self.n_levels - 1)]
        self.out_channels = [cfg.modulation_channels(i) for i in range(self.n_levels)]
        self.kernel = cfg.shared_kernel
        self.shared = nn.ModuleDict({
            str(i): conv(self.in_channels[i], self.out_channels[i], self.kernel, stride=1 if i == 0 else 2)
            for i in range(self.n_levels) if i not in generated
        })

    def generated_shape(self, level: int) -> tuple[int, ...]:
        """Per-sample shape of the generated theta_S at ``level``."""
        return (self.out_channels[level], self.in_channels[level], self.kernel, self.kernel)

    def forward(self, s: Tensor, theta: ThetaH) -> list[Tensor]:
        """s: (B, C_in, H, W) -> [p_S^0 (B, e_0, H, W), …, p_S^n (B, e_n, h_n, w_n)]."""
        p_s, x = [], s
        for i in range(self.n_levels):
            stride = 1 if i == 0 else 2
            x = act(per_sample_conv(x, theta[i].shared, stride) if i in self.generated else self.shared[str(i)](x))
            p_s.append(x)
        return p_s


class ImageSynthesis(nn.Module):
    """H: the SPADE generator producing the intermediate image h_t from the semantic map s_t (eq. 5).

    Main branch: a convolution of s_t area-downsampled to the bottleneck, then one SPADE residual block per level
    (bottleneck to full resolution) with nearest upsampling in between, then sigma, a 3x3 conv and tanh.
    Modulation branches: p_S^i from :class:`ModulationBranch`, and per SPADE theta_gamma, theta_beta (eq. 9-10).
    The weights of the ``generated_levels`` (the paper's L finest) come with every frame as theta_H.

    How the examples reach H is the business of a conditioning (:mod:`fsvid2vid.models.conditioning`): H only
    receives theta_H and, for the section-4 baselines, three hooks (its inputs widened by ``extra_modulation`` and
    ``extra_main`` channels, and an optional restyling of each SPADE's output). With the paper's method the hooks
    are identities.
    """

    def __init__(self, cfg: GeneratorConfig, generated_levels: range, extra_modulation: int = 0,
                 extra_main: int = 0):
        super().__init__()
        n, c_s = cfg.n_downsample, cfg.semantic_nc
        self.generated_levels = generated_levels
        self.modulation = ModulationBranch(cfg, c_s + extra_modulation, generated_levels)
        self.input_conv = conv(c_s + extra_main, cfg.channels(n + 1))
        self.blocks = nn.ModuleList(
            SPADEResBlock(cfg.channels(i + 1), cfg.channels(i), cfg.modulation_channels(i), cfg.gamma_beta_kernel,
                          generated=i in generated_levels, spectral=cfg.spectral_norm)
            for i in range(n + 1))  # blocks[i] works at level i: ch[i + 1] -> ch[i]
        self.to_rgb = conv(cfg.channels(0), 3)

    def generated_shapes(self) -> list[LevelShapes]:
        """Per generated level (finest first): the per-sample shapes E_P must produce (theta_H^l)."""
        return [LevelShapes(shared=self.modulation.generated_shape(i),
                            norm_in=self.blocks[i].norm_in.generated_shape(),
                            norm_mid=self.blocks[i].norm_mid.generated_shape()) for i in self.generated_levels]

    def forward(self, semantic: Tensor, cond) -> Tensor:
        """semantic: s_t (B, C_s, H, W); cond: this frame's :class:`~fsvid2vid.models.conditioning.FrameCondition`
        (theta_H and the hooks). Returns h_t: (B, 3, H, W) in [-1, 1]."""
        theta: ThetaH = cond.theta
        p_s = self.modulation(cond.modulation_input(semantic), theta)  # eq. 8, [level 0, …, level n]

        main_input = resize(semantic, p_s[-1].shape[-2:])  # (B, C_s, h_n, w_n)
        x = self.input_conv(cond.main_input(main_input))  # (B, ch[n + 1], h_n, w_n)
        for i in reversed(range(len(self.blocks))):
            theta_i = theta[i] if i in self.generated_levels else None
            x = self.blocks[i](x, p_s[i], theta_i, cond.restyle(i))  # eq. 9-10: (B, ch[i], h_i, w_i)
            if i > 0:
                x = F.interpolate(x, size=p_s[i - 1].shape[-2:], mode="nearest")
        return torch.tanh(self.to_rgb(act(x)))

