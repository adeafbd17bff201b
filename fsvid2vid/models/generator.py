"""F, the few-shot sequential generator (eq. 6): one call per frame.

    cache = G.encode_examples(example_rgb, example_semantic)        # once per example set
    out = G(semantic_t, None, None, cache)                          # first frame: x_1 = h'_1
    out = G(semantic_t, prev_frames, prev_semantics, cache)         # later frames, eq. 2

Per frame: E gives H's modulation weights theta_H (eq. 7, with attention over the K examples), H synthesises h_t
(eq. 5, 8-10), the most attended example is warped to the frame and blended in (eq. 11), and the warped previous
frame is matted with it (eq. 2-4).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fsvid2vid.models.config import GeneratorConfig
from fsvid2vid.models.flow import FlowMaskNet
from fsvid2vid.models.layers import warp
from fsvid2vid.models.synthesis import ImageSynthesis, LevelWeights
from fsvid2vid.models.weights import (
    AttentionEncoder,
    ExampleEncoder,
    StyleEncoder,
    WeightPredictor,
    attention_weights,
    pool_examples,
)


@dataclass
class ExampleCache:
    """Everything that depends only on the examples: computed once per example set, reused for every frame."""

    example_rgb: Tensor  # e_1 … e_K: (B, K, 3, H, W) in [-1, 1]
    example_semantic: Tensor  # s_e1 … s_eK: (B, K, C_s, H, W)
    features: list[Tensor] | None = None  # "ours" with attention: q_k^l per generated level, (B, K, C_l, h_l, w_l)
    keys: Tensor | None = None  # "ours" with attention: a_k, (B, K, C, h_a, w_a)
    theta: list[LevelWeights] | None = None  # "ours" without attention: theta_H, the same for every frame
    style: Tensor | None = None  # baselines: the mean of the K style vectors, (B, style_dim)


@dataclass
class FrameOutput:
    """One generated frame and the intermediate quantities the losses and visualisations need."""

    frame: Tensor  # x_t (B, 3, H, W) in [-1, 1] (eq. 2)
    raw: Tensor  # h_t, H's output (B, 3, H, W) (eq. 5)
    raw_prime: Tensor  # h'_t (B, 3, H, W): h_t blended with the warped example (eq. 11); raw when that is off
    example_index: Tensor  # (B,) long: the example warped in eq. 11 (most attention mass, or nearest s_e)
    flow_prev: Tensor | None = None  # w_{t-1}: (B, 2, H, W) pixels (dx, dy); None on the first frame
    mask_prev: Tensor | None = None  # m_t: (B, 1, H, W), 1 = keep h'_t, 0 = keep the warped previous frame
    warped_prev: Tensor | None = None  # w_{t-1}(x_{t-1}): (B, 3, H, W)
    flow_example: Tensor | None = None  # w_e: (B, 2, H, W) pixels; None when example warping is off
    mask_example: Tensor | None = None  # m_e: (B, 1, H, W), 1 = keep h_t, 0 = keep the warped example
    warped_example: Tensor | None = None  # w_e(e): (B, 3, H, W)
    attention: Tensor | None = None  # alpha: (B, h_a, w_a, K, h_a, w_a); for each target position, a distribution
    #                                  over all positions of all examples ("ours" with attention only)


def append_history(history: Tensor | None, item: Tensor, tau: int) -> Tensor:
    """The last ``tau`` entries of ``history`` (B, T, ...) followed by ``item`` (B, ...), as (B, <= tau, ...)."""
    item = item[:, None]
    return item if history is None else torch.cat((history, item), dim=1)[:, -tau:]


class FewShotGenerator(nn.Module):
    """F: E (E_F, E_P, E_A) or a baseline style encoder, H, W/M for the previous frame and W_e/M_e for the example."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        c_s, tau = cfg.semantic_nc, cfg.n_prev_frames
        self.synthesis = ImageSynthesis(cfg)  # H
        self.example_encoder = self.weight_predictor = self.attention = self.style_encoder = None
        if cfg.conditioning == "ours":
            n_levels = cfg.n_adaptive_layers
            # E_F level l + 1 feeds H's generated level l (the official code's pairing: one stride-2 conv deeper).
            self.example_encoder = ExampleEncoder(3 + c_s, [cfg.channels(i) for i in range(n_levels + 1)])  # E_F
            self.weight_predictor = WeightPredictor([cfg.channels(i + 1) for i in range(n_levels)],
                                                    self.synthesis.generated_shapes(), cfg.fc_hidden,
                                                    cfg.n_fc_layers)  # E_P
            if cfg.attention:
                self.attention = AttentionEncoder(c_s, cfg.attention_channels, cfg.attention_downsample)  # E_A
        else:
            self.style_encoder = StyleEncoder(3 + c_s, [cfg.channels(i) for i in range(cfg.n_downsample + 1)],
                                              cfg.style_dim)
        self.flow_prev = FlowMaskNet(c_s * (tau + 1) + 3 * tau, cfg)  # W, M: s_t, s_{t-tau..t-1}, x_{t-tau..t-1}
        self.flow_example = FlowMaskNet(2 * c_s + 3, cfg) if cfg.warp_example else None  # W_e, M_e: s_t, s_e, e

    def encode_examples(self, example_rgb: Tensor, example_semantic: Tensor) -> ExampleCache:
        """The example-only part of E: run once per example set.

        example_rgb: (B, K, 3, H, W) in [-1, 1]; example_semantic: (B, K, C_s, H, W), the frame size of the video.
        """
        b, k = example_rgb.shape[:2]
        cache = ExampleCache(example_rgb, example_semantic)
        stacked = torch.cat((example_rgb, example_semantic), dim=2).flatten(0, 1)  # (B * K, 3 + C_s, H, W)
        if self.style_encoder is not None:  # baselines: K style vectors, averaged
            cache.style = self.style_encoder(stacked).unflatten(0, (b, k)).mean(dim=1)  # (B, style_dim)
            return cache
        features = [q.unflatten(0, (b, k)) for q in self.example_encoder(stacked)]  # q_k^l: (B, K, C_l, h_l, w_l)
        if self.attention is None:
            cache.theta = self.weight_predictor([pool_examples(q, None) for q in features])
        else:
            cache.features = features
            cache.keys = self.attention(example_semantic.flatten(0, 1)).unflatten(0, (b, k))  # a_k
        return cache

    def forward(self, semantic: Tensor, prev_frames: Tensor | None, prev_semantics: Tensor | None,
                cache: ExampleCache) -> FrameOutput:
        """Generate x_t.

        semantic: s_t (B, C_s, H, W).
        prev_frames: x_{t-tau} … x_{t-1} (B, T, 3, H, W), oldest first, or None for the first frame. Fewer than tau
            frames (T < tau, the start of a clip) are padded by repeating the oldest. Detach them when training
            without back-propagation through time.
        prev_semantics: s_{t-tau} … s_{t-1} (B, T, C_s, H, W), matching ``prev_frames``.
        cache: :meth:`encode_examples` of this sample's examples.
        """
        # E (eq. 7): H's modulation weights for this frame; with attention they depend on s_t through the query.
        theta, alpha, mass = cache.theta, None, None
        if cache.keys is not None:
            a_t = self.attention(semantic)  # query: (B, C, h_a, w_a)
            alpha = attention_weights(a_t, cache.keys)  # (B, N, K * N)
            b, k, _, h_a, w_a = cache.keys.shape
            mass = alpha.mean(dim=1).view(b, k, h_a, w_a)  # attention mass of each example position
            theta = self.weight_predictor([pool_examples(q, mass) for q in cache.features])
            alpha = alpha.view(b, h_a, w_a, k, h_a, w_a)

        # H (eq. 5, 8-10): the intermediate image.
        h = self.synthesis(semantic, theta, cache.style)  # (B, 3, H, W)

        # Example warping (eq. 11): h'_t = (1 - m_e) * w_e(e) + m_e * h_t.
        index = self._pick_example(semantic, cache, mass)
        out = FrameOutput(frame=h, raw=h, raw_prime=h, example_index=index, attention=alpha)
        if self.flow_example is not None:
            rows = torch.arange(len(index), device=index.device)
            e, s_e = cache.example_rgb[rows, index], cache.example_semantic[rows, index]  # (B, 3 | C_s, H, W)
            out.flow_example, out.mask_example = self.flow_example(torch.cat((semantic, s_e, e), dim=1))
            out.warped_example = warp(e, out.flow_example)
            out.raw_prime = (1 - out.mask_example) * out.warped_example + out.mask_example * h

        # Matting with the warped previous frame (eq. 2-4): x_t = (1 - m_t) * w_{t-1}(x_{t-1}) + m_t * h'_t.
        # The first frame has no previous frame: x_1 = h'_1.
        out.frame = out.raw_prime
        if prev_frames is not None:
            if prev_semantics is None:
                raise ValueError("prev_frames needs prev_semantics, their semantic maps (B, T, C_s, H, W)")
            prev_frames, prev_semantics = self._last_tau(prev_frames), self._last_tau(prev_semantics)
            w_m_input = torch.cat((semantic, prev_semantics.flatten(1, 2), prev_frames.flatten(1, 2)), dim=1)
            out.flow_prev, out.mask_prev = self.flow_prev(w_m_input)
            out.warped_prev = warp(prev_frames[:, -1], out.flow_prev)
            out.frame = (1 - out.mask_prev) * out.warped_prev + out.mask_prev * out.raw_prime
        return out

    def _pick_example(self, semantic: Tensor, cache: ExampleCache, mass: Tensor | None) -> Tensor:
        """The example with the largest attention mass, or (no attention) the one whose s_e is nearest s_t in L1."""
        if mass is not None:
            return mass.sum(dim=(2, 3)).argmax(dim=1)  # (B,)
        distance = (cache.example_semantic - semantic[:, None]).abs().mean(dim=(2, 3, 4))  # (B, K)
        return distance.argmin(dim=1)

    def _last_tau(self, seq: Tensor) -> Tensor:
        """The last tau entries of (B, T, C, H, W), the oldest repeated when T < tau."""
        tau = self.cfg.n_prev_frames
        if seq.shape[1] < tau:
            seq = torch.cat((seq[:, :1].expand(-1, tau - seq.shape[1], -1, -1, -1), seq), dim=1)
        return seq[:, -tau:]

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters per part of F (H split into main branch, learned modulation, AdaIN) and in total."""
        counts: dict[str, int] = {}
        for name, p in self.named_parameters():
            if p.requires_grad:
                part = _PARTS[name.split(".")[0]]
                if part == "H":
                    part = ("H modulation (learned)" if ".modulation." in f".{name}" or ".gamma_beta." in name
                            else "H AdaIN" if ".adain." in name else "H main branch")
                counts[part] = counts.get(part, 0) + p.numel()
        counts["total"] = sum(counts.values())
        return counts


_PARTS = {"synthesis": "H", "example_encoder": "E_F", "weight_predictor": "E_P", "attention": "E_A",
          "style_encoder": "style encoder", "flow_prev": "W, M", "flow_example": "W_e, M_e"}
