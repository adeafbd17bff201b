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
from fsvid2vid.models.layers import ConvWeights, SPADEResBlock, act, conv, per_sample_conv, resize

# Per generated level: name of a generated convolution -> its per-sample weight shape (C_out, C_in, k, k).
GeneratedShapes = dict[str, tuple[int, ...]]
# Per generated level: name -> that sample's weights (the output of E_P).
LevelWeights = dict[str, ConvWeights]


def tile(style: Tensor, like: Tensor) -> Tensor:
    """Broadcast a style vector (B, D) over the spatial size of ``like`` (B, C, H, W) -> (B, D, H, W)."""
    return style[:, :, None, None].expand(-1, -1, *like.shape[-2:])


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

    def forward(self, s: Tensor, theta: list[LevelWeights]) -> list[Tensor]:
        """s: (B, C_in, H, W) -> [p_S^0 (B, e_0, H, W), …, p_S^n (B, e_n, h_n, w_n)]."""
        p_s, x = [], s
        for i in range(self.n_levels):
            stride = 1 if i == 0 else 2
            x = act(per_sample_conv(x, theta[i]["shared"], stride) if i in self.generated else self.shared[str(i)](x))
            p_s.append(x)
        return p_s


class ImageSynthesis(nn.Module):
    """H: the SPADE generator producing the intermediate image h_t from the semantic map s_t (eq. 5).

    Main branch: a convolution of s_t area-downsampled to the bottleneck, then one SPADE residual block per level
    (bottleneck to full resolution) with nearest upsampling in between, then sigma, a 3x3 conv and tanh.
    Modulation branches: p_S^i from :class:`ModulationBranch`, and per SPADE theta_gamma, theta_beta (eq. 9-10).

    How the examples enter depends on ``cfg.conditioning`` (the rest of H is identical):

    - ``ours``: the L finest levels' theta_S, theta_gamma, theta_beta are generated per sample by E (``theta``);
    - ``encoder``: the main branch starts from the style vector tiled over the bottleneck (next to s_t);
    - ``concat_style``: the style vector, tiled, is concatenated to s_t at the input of the modulation branches;
    - ``adain``: an AdaIN layer after every SPADE, its parameters computed from the style vector.
    """

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        n, c_s = cfg.n_downsample, cfg.semantic_nc
        self.conditioning = cfg.conditioning
        self.generated_levels = range(cfg.n_adaptive_layers if cfg.conditioning == "ours" else 0)
        # Style-vector channels each baseline adds (0 unless that baseline is selected).
        concat_dim, encoder_dim, adain_dim = (cfg.style_dim if cfg.conditioning == name else 0
                                              for name in ("concat_style", "encoder", "adain"))
        self.modulation = ModulationBranch(cfg, c_s + concat_dim, self.generated_levels)
        self.input_conv = conv(c_s + encoder_dim, cfg.channels(n + 1))
        self.blocks = nn.ModuleList(
            SPADEResBlock(cfg.channels(i + 1), cfg.channels(i), cfg.modulation_channels(i), cfg.gamma_beta_kernel,
                          generated=i in self.generated_levels, spectral=cfg.spectral_norm, adain_dim=adain_dim)
            for i in range(n + 1))  # blocks[i] works at level i: ch[i + 1] -> ch[i]
        self.to_rgb = conv(cfg.channels(0), 3)

    def generated_shapes(self) -> list[GeneratedShapes]:
        """Per generated level (finest first): the per-sample shapes E_P must produce (theta_H^l)."""
        return [{"shared": self.modulation.generated_shape(i), **self.blocks[i].generated_shapes()}
                for i in self.generated_levels]

    def forward(self, semantic: Tensor, theta: list[LevelWeights] | None = None,
                style: Tensor | None = None) -> Tensor:
        """semantic: (B, C_s, H, W); theta: E_P's weights ("ours"); style: (B, style_dim) (baselines).

        Returns h_t: (B, 3, H, W) in [-1, 1].
        """
        theta = theta or []
        modulation_input = semantic
        if self.conditioning == "concat_style":
            modulation_input = torch.cat((semantic, tile(style, semantic)), dim=1)  # (B, C_s + D, H, W)
        p_s = self.modulation(modulation_input, theta)  # eq. 8, [level 0, …, level n]

        main_input = resize(semantic, p_s[-1].shape[-2:])  # (B, C_s, h_n, w_n)
        if self.conditioning == "encoder":
            main_input = torch.cat((main_input, tile(style, main_input)), dim=1)  # (B, C_s + D, h_n, w_n)
        x = self.input_conv(main_input)  # (B, ch[n + 1], h_n, w_n)
        for i in reversed(range(len(self.blocks))):
            x = self.blocks[i](x, p_s[i], theta[i] if i in self.generated_levels else None, style)  # (B, ch[i], ...)
            if i > 0:
                x = F.interpolate(x, size=p_s[i - 1].shape[-2:], mode="nearest")
        return torch.tanh(self.to_rgb(act(x)))
