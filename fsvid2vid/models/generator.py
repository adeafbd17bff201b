"""F, the few-shot sequential generator (eq. 6): one call per frame.

    cache = G.encode_examples(example_rgb, example_semantic)        # once per example set
    out = G(semantic_t, None, None, cache)                          # first frame: x_1 = h'_1
    out = G(semantic_t, prev_frames, prev_semantics, cache)         # later frames, eq. 2

Per frame: E gives H's modulation weights theta_H (eq. 7, with attention over the K examples), H synthesises h_t
(eq. 5, 8-10), the most attended example is warped to the frame and blended in (eq. 11), and the warped previous
frame is matted with it (eq. 2-4). :mod:`fsvid2vid.models.rollout` runs F over a whole clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fsvid2vid.models.conditioning import ExampleCode, conditioning_class
from fsvid2vid.models.config import GeneratorConfig
from fsvid2vid.models.flow import FlowMaskNet
from fsvid2vid.models.layers import warp
from fsvid2vid.models.synthesis import ImageSynthesis


@dataclass
class ExampleCache:
    """Everything that depends only on the examples: computed once per example set, reused for every frame."""

    example_rgb: Tensor  # e_1 … e_K: (B, K, 3, H, W) in [-1, 1]
    example_semantic: Tensor  # s_e1 … s_eK: (B, K, C_s, H, W)
    code: ExampleCode  # the conditioning's part (E_F features and E_A keys, or a style vector)


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


class FewShotGenerator(nn.Module):
    """F: E (E_F, E_P, E_A) or a baseline style encoder, H, W/M for the previous frame and W_e/M_e for the example."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        c_s, tau = cfg.semantic_nc, cfg.n_prev_frames
        kind = conditioning_class(cfg.conditioning)
        self.synthesis = ImageSynthesis(cfg, **kind.synthesis_inputs(cfg))  # H
        self.conditioning = kind(cfg, self.synthesis)  # E = (E_F, E_P, E_A), or a baseline's style encoder
        self.flow_prev = FlowMaskNet(c_s * (tau + 1) + 3 * tau, cfg)  # W, M: s_t, s_{t-tau..t-1}, x_{t-tau..t-1}
        self.flow_example = FlowMaskNet(2 * c_s + 3, cfg) if cfg.warp_example else None  # W_e, M_e: s_t, s_e, e
        self.register_load_state_dict_pre_hook(_rename_legacy_keys)

    def encode_examples(self, example_rgb: Tensor, example_semantic: Tensor) -> ExampleCache:
        """The example-only part of E: run once per example set.

        example_rgb: (B, K, 3, H, W) in [-1, 1]; example_semantic: (B, K, C_s, H, W), the frame size of the video.
        """
        return ExampleCache(example_rgb, example_semantic, self.conditioning.encode(example_rgb, example_semantic))

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
        cond = self.conditioning(semantic, cache.code)

        # H (eq. 5, 8-10): the intermediate image.
        h = self.synthesis(semantic, cond)  # (B, 3, H, W)

        # Example warping (eq. 11): h'_t = (1 - m_e) * w_e(e) + m_e * h_t.
        index = self._pick_example(semantic, cache, cond.attention_mass)
        out = FrameOutput(frame=h, raw=h, raw_prime=h, example_index=index, attention=cond.attention)
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
        """Trainable parameters per part of F (H split into main branch and learned modulation) and in total."""
        counts: dict[str, int] = {}
        for name, p in self.named_parameters():
            if p.requires_grad:
                top, sub = name.split(".")[:2]
                part = _PARTS.get(f"{top}.{sub}", _PARTS.get(top))
                if part == "H":
                    part = ("H modulation (learned)" if ".modulation." in f".{name}" or ".gamma_beta." in name
                            else "H main branch")
                counts[part] = counts.get(part, 0) + p.numel()
        counts["total"] = sum(counts.values())
        return counts


_PARTS = {"synthesis": "H", "conditioning.example_encoder": "E_F", "conditioning.weight_predictor": "E_P",
          "conditioning.attention": "E_A", "conditioning.regions": "E regions",
          "conditioning.style_encoder": "style encoder", "conditioning.adain": "AdaIN layers", "flow_prev": "W, M",
          "flow_example": "W_e, M_e"}

# State-dict names before E became one module (files written up to 2026-12-01): E's parts sat on F itself and the
# AdaIN baseline's layers inside H's SPADEs.
_LEGACY = [(re.compile(r"(example_encoder|weight_predictor|attention|style_encoder)\."), r"conditioning.\1."),
           (re.compile(r"synthesis\.blocks\.(\d+)\.(norm_in|norm_mid)\.adain\."), r"conditioning.adain.\1.\2.")]


def _rename_legacy_keys(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """load_state_dict pre-hook: rename a legacy generator file's keys to today's, in place."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix):]
        for pattern, replacement in _LEGACY:
            if pattern.match(rest):
                state_dict[prefix + pattern.sub(replacement, rest, count=1)] = state_dict.pop(key)
                break
