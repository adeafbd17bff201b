"""How the K examples steer H: the paper's network weight generation E (sec. 3), or one of the section-4 baselines.

    kind = conditioning_class(cfg.conditioning)
    H = ImageSynthesis(cfg, **kind.synthesis_inputs(cfg))
    E = kind(cfg, H)
    code = E.encode(example_rgb, example_semantic)     # once per example set
    cond = E(semantic_t, code)                         # per frame: a FrameCondition, handed to H

Every conditioning hands H a :class:`FrameCondition`. The paper's method fills in theta_H (eq. 7) and leaves the
three hooks as identities; each baseline instead leaves theta_H empty and overrides one hook:

- ``ours`` (:class:`WeightGeneration`): E_F, E_A, E_P generate the modulation weights of H's L finest levels;
- ``encoder``: the style vector, tiled, joins the semantic map at the input of H's main branch;
- ``concat_style``: the style vector, tiled, joins the semantic map at the input of the modulation branches;
- ``adain``: an AdaIN layer after every SPADE, its scale and bias computed from the style vector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsvid2vid.models.config import GeneratorConfig
from fsvid2vid.models.layers import Restyle, resize
from fsvid2vid.models.theta import ThetaH
from fsvid2vid.models.weights import (
    AttentionEncoder,
    ExampleEncoder,
    StyleEncoder,
    WeightPredictor,
    attend,
    pool_examples,
    region_mass,
    uniform_mass,
)


@dataclass
class ExampleCode:
    """What a conditioning keeps of one example set: computed once, reused for every frame."""

    features: list[Tensor] | None = None  # ours with attention: q_k^l per generated level, (B, K, C_l, h_l, w_l)
    keys: Tensor | None = None  # ours with attention: a_k, (B, K, C, h_a, w_a)
    theta: ThetaH | None = None  # ours without attention: theta_H, the same for every frame
    values: Tensor | None = None  # ours with example_aligned: each example's image and q at E_A's resolution,
    #                               (B, K, 3 + C, h_a, w_a), which the attention carries onto the frame
    style: Tensor | None = None  # baselines: the mean of the K style vectors, (B, style_dim)


@dataclass
class FrameCondition:
    """What H receives for one frame: theta_H and three hooks, identities unless a baseline overrides them."""

    theta: ThetaH = field(default_factory=list)  # generated weights of H's L finest levels (the paper's method)
    attention: Tensor | None = None  # alpha: (B, h_a, w_a, K, h_a, w_a), per target position a distribution over
    #                                  all positions of all examples (ours with attention)
    attention_mass: Tensor | None = None  # (B, K, h_a, w_a): alpha averaged over the target positions
    attention_share: Tensor | None = None  # (B, K, h_a, w_a): per target position, its attention's share on example k

    def modulation_input(self, semantic: Tensor) -> Tensor:
        """The input of H's modulation branches, from s_t (B, C_s, H, W)."""
        return semantic

    def main_input(self, semantic: Tensor) -> Tensor:
        """The input of H's main branch, from s_t at the bottleneck size (B, C_s, h_n, w_n)."""
        return semantic

    def restyle(self, level: int) -> Restyle | None:
        """A function applied to each SPADE output of H's block at ``level``, or None."""
        return None


@dataclass
class AlignedCondition(FrameCondition):
    """Ours with ``example_aligned``: H's modulation branches also read the examples' look carried onto the frame."""

    aligned: Tensor | None = None  # (B, 3 + C, h_a, w_a): sum_(k,j) alpha[i, (k, j)] v_k[j] per target position i

    def modulation_input(self, semantic: Tensor) -> Tensor:
        carried = F.interpolate(self.aligned.to(semantic.dtype), size=semantic.shape[-2:], mode="bilinear",
                                align_corners=False)
        return torch.cat((semantic, carried), dim=1)  # (B, C_s + 3 + C, H, W)


class WeightGeneration(nn.Module):
    """E, the paper's network weight generation module (eq. 7): E_F, E_P and, optionally, E_A.

    E_F encodes each example (image and semantic map) into features q_k^l; E_A compares the current semantic map
    with each example's (keys a_k, query a_t) and weighs the examples' positions; E_P turns the attention-pooled
    features of each of H's L finest levels into that level's modulation weights theta_H^l.
    """

    @staticmethod
    def synthesis_inputs(cfg: GeneratorConfig) -> dict[str, Any]:
        """What H must know before E exists: which of its levels take generated weights."""
        return {"generated_levels": range(cfg.n_adaptive_layers), "extra_modulation": cfg.aligned_channels}

    def __init__(self, cfg: GeneratorConfig, synthesis: nn.Module):
        super().__init__()
        n_levels, c_s = cfg.n_adaptive_layers, cfg.semantic_nc
        self.aligned_level = cfg.aligned_level if cfg.example_aligned else None
        self.aligned_projection = (nn.Conv2d(cfg.channels(cfg.aligned_level), cfg.aligned_width, 1)
                                   if cfg.example_aligned and cfg.aligned_width else None)
        n_regions = cfg.pooling_regions if cfg.example_pooling == "regions" else 1
        # E_F level l + 1 feeds H's generated level l (the official code's pairing: one stride-2 conv deeper).
        self.example_encoder = ExampleEncoder(3 + c_s, [cfg.channels(i) for i in range(n_levels + 1)])  # E_F
        self.weight_predictor = WeightPredictor([cfg.channels(i + 1) * n_regions for i in range(n_levels)],
                                                synthesis.generated_shapes(), cfg.fc_hidden, cfg.n_fc_layers)  # E_P
        self.attention = (AttentionEncoder(c_s, cfg.attention_channels, cfg.attention_downsample)
                          if cfg.attention else None)  # E_A
        # Region pooling: R soft regions of a semantic map (a softmax over R channels per position), at E_A's size.
        self.regions = (AttentionEncoder(c_s, n_regions, cfg.attention_downsample)
                        if cfg.example_pooling == "regions" else None)
        # Whether each frame's FrameCondition carries alpha itself (B x N x K N numbers) besides its sums; inference
        # turns it off unless a picture of the attention is asked for (models/precision.inference_generator).
        self.keep_attention = True

    def soft_regions(self, semantic: Tensor) -> Tensor:
        """rho: (N, C_s, H, W) -> (N, R, h_a, w_a), a distribution over the R regions at every position."""
        return torch.softmax(self.regions(semantic), dim=1, dtype=torch.float32)

    def encode(self, example_rgb: Tensor, example_semantic: Tensor) -> ExampleCode:
        """example_rgb: (B, K, 3, H, W) in [-1, 1]; example_semantic: (B, K, C_s, H, W)."""
        b, k = example_rgb.shape[:2]
        stacked = torch.cat((example_rgb, example_semantic), dim=2).flatten(0, 1)  # (B * K, 3 + C_s, H, W)
        features = [q.unflatten(0, (b, k)) for q in self.example_encoder(stacked)]  # q_k^l: (B, K, C_l, h_l, w_l)
        if self.attention is None:  # no frame dependence: theta_H is computed once per example set
            if self.regions is None:
                mass = uniform_mass(b, k, *features[-1].shape[-2:], like=features[-1])
            else:
                mass = region_mass(self.soft_regions(example_semantic.flatten(0, 1)), None, k)
            return ExampleCode(theta=self.weight_predictor([pool_examples(q, mass) for q in features]))
        keys = self.attention(example_semantic.flatten(0, 1)).unflatten(0, (b, k))  # a_k: (B, K, C, h_a, w_a)
        values = None
        if self.aligned_level is not None:  # each example's image and q at E_A's size: what the attention carries
            size = keys.shape[-2:]
            q = resize(features[self.aligned_level - 1].flatten(0, 1), size)
            q = q if self.aligned_projection is None else self.aligned_projection(q)
            values = torch.cat((resize(example_rgb.flatten(0, 1).to(q.dtype), size), q), dim=1)
            values = values.unflatten(0, (b, k))  # (B, K, 3 + C, h_a, w_a)
        return ExampleCode(features=features, keys=keys, values=values)

    def forward(self, semantic: Tensor, code: ExampleCode) -> FrameCondition:
        """theta_H for the frame whose semantic map is ``semantic`` (B, C_s, H, W)."""
        if code.keys is None:
            return FrameCondition(theta=code.theta)
        a_t = self.attention(semantic)  # query: (B, C, h_a, w_a)
        regions = None if self.regions is None else self.soft_regions(semantic)  # rho_t: (B, R, h_a, w_a)
        attention = attend(a_t, code.keys, regions, keep_alpha=self.keep_attention,
                           values=code.values)  # alpha, its sums and (example_aligned) the carried look
        pooling_mass = (attention.mass[:, :, None] if regions is None
                        else attention.region_mass)  # (B, K, R, h_a, w_a)
        theta = self.weight_predictor([pool_examples(q, pooling_mass) for q in code.features])
        b, k, _, h_a, w_a = code.keys.shape
        alpha = None if attention.alpha is None else attention.alpha.view(b, h_a, w_a, k, h_a, w_a)
        if attention.aligned is not None:
            return AlignedCondition(theta=theta, attention=alpha, attention_mass=attention.mass,
                                    attention_share=attention.share, aligned=attention.aligned)
        return FrameCondition(theta=theta, attention=alpha, attention_mass=attention.mass,
                              attention_share=attention.share)


# ----------------------------------------------------------------------------------------------------------------
# The section-4 baselines: one style vector per example set
# ----------------------------------------------------------------------------------------------------------------


def tile(style: Tensor, like: Tensor) -> Tensor:
    """Broadcast a style vector (B, D) over the spatial size of ``like`` (B, C, H, W) -> (B, D, H, W)."""
    return style[:, :, None, None].expand(-1, -1, *like.shape[-2:])


@dataclass
class StyleCondition(FrameCondition):
    """A baseline's frame condition: the examples' style vector (B, style_dim)."""

    style: Tensor | None = None


class StyleConditioning(nn.Module):
    """The baselines' common part: each example to a style vector (E_F's ladder, pooled), averaged over K."""

    condition_type: type[StyleCondition] = StyleCondition

    @staticmethod
    def synthesis_inputs(cfg: GeneratorConfig) -> dict[str, Any]:
        return {"generated_levels": range(0)}

    def __init__(self, cfg: GeneratorConfig, synthesis: nn.Module):
        super().__init__()
        self.style_encoder = StyleEncoder(3 + cfg.semantic_nc, [cfg.channels(i) for i in range(cfg.n_downsample + 1)],
                                          cfg.style_dim)

    def encode(self, example_rgb: Tensor, example_semantic: Tensor) -> ExampleCode:
        b, k = example_rgb.shape[:2]
        stacked = torch.cat((example_rgb, example_semantic), dim=2).flatten(0, 1)  # (B * K, 3 + C_s, H, W)
        return ExampleCode(style=self.style_encoder(stacked).unflatten(0, (b, k)).mean(dim=1))  # (B, style_dim)

    def forward(self, semantic: Tensor, code: ExampleCode) -> StyleCondition:
        return self.condition_type(style=code.style)


@dataclass
class EncoderCondition(StyleCondition):
    def main_input(self, semantic: Tensor) -> Tensor:
        return torch.cat((semantic, tile(self.style, semantic)), dim=1)  # (B, C_s + D, h_n, w_n)


class EncoderBaseline(StyleConditioning):
    """``encoder``: H's main branch starts from the style vector tiled over the bottleneck, next to s_t."""

    condition_type = EncoderCondition

    @staticmethod
    def synthesis_inputs(cfg: GeneratorConfig) -> dict[str, Any]:
        return {"generated_levels": range(0), "extra_main": cfg.style_dim}


@dataclass
class ConcatStyleCondition(StyleCondition):
    def modulation_input(self, semantic: Tensor) -> Tensor:
        return torch.cat((semantic, tile(self.style, semantic)), dim=1)  # (B, C_s + D, H, W)


class ConcatStyleBaseline(StyleConditioning):
    """``concat_style``: the tiled style vector joins s_t at the input of H's modulation branches."""

    condition_type = ConcatStyleCondition

    @staticmethod
    def synthesis_inputs(cfg: GeneratorConfig) -> dict[str, Any]:
        return {"generated_levels": range(0), "extra_modulation": cfg.style_dim}


@dataclass
class AdaINCondition(StyleCondition):
    layers: nn.ModuleList | None = None  # per level of H: {"norm_in": Linear, "norm_mid": Linear}

    def restyle(self, level: int) -> Restyle:
        def adain(x: Tensor, spade: str) -> Tensor:  # re-normalise, then scale and shift by the example's style
            scale, shift = self.layers[level][spade](self.style)[:, :, None, None].chunk(2, dim=1)  # (B, C, 1, 1)
            return F.instance_norm(x) * (1 + scale) + shift

        return adain


class AdaINBaseline(StyleConditioning):
    """``adain``: an AdaIN layer after every SPADE of H, its scale and bias a Linear of the style vector."""

    def __init__(self, cfg: GeneratorConfig, synthesis: nn.Module):
        super().__init__(cfg, synthesis)
        self.adain = nn.ModuleList(
            nn.ModuleDict({name: nn.Linear(cfg.style_dim, 2 * channels)
                           for name, channels in block.spade_channels().items()})
            for block in synthesis.blocks)

    def forward(self, semantic: Tensor, code: ExampleCode) -> AdaINCondition:
        return AdaINCondition(style=code.style, layers=self.adain)


_CLASSES: dict[str, Callable[..., nn.Module]] = {"ours": WeightGeneration, "encoder": EncoderBaseline,
                                                 "concat_style": ConcatStyleBaseline, "adain": AdaINBaseline}


def conditioning_class(name: str) -> Any:
    """The conditioning class of ``cfg.conditioning`` (validated by :class:`GeneratorConfig`)."""
    return _CLASSES[name]
