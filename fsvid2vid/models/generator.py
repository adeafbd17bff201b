"""F, the few-shot sequential generator (eq. 6): one call per frame.

    cache = G.encode_examples(example_rgb, example_semantic)        # once per example set
    out = G(semantic_t, None, None, cache)                          # first frame: x_1 = h'_1
    out = G(semantic_t, prev_frames, prev_semantics, cache)         # later frames, eq. 2
    out = G.matte(G.synthesize(semantic_t, cache), semantic_t, prev_frames, prev_semantics)   # the same, in two

Per frame: E gives H's modulation weights theta_H (eq. 7, with attention over the K examples), H synthesises h_t
(eq. 5, 8-10), the most attended example is warped to the frame and blended in (eq. 11; or every example, mixed per
pixel by the attention: ``example_warp: attention``), and the warped previous frame is matted with it (eq. 2-4).
:mod:`fsvid2vid.models.rollout` runs F over a whole clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsvid2vid.models.alignment import facing, opposite_facings, part_flow
from fsvid2vid.models.conditioning import ExampleCode, conditioning_class
from fsvid2vid.models.config import GeneratorConfig
from fsvid2vid.models.flow import FlowMaskNet
from fsvid2vid.models.layers import warp
from fsvid2vid.models.room import fill_holes_across
from fsvid2vid.models.synthesis import ImageSynthesis


@dataclass
class ExampleCache:
    """Everything that depends only on the examples: computed once per example set, reused for every frame."""

    example_rgb: Tensor  # e_1 … e_K: (B, K, 3, H, W) in [-1, 1]
    example_semantic: Tensor  # s_e1 … s_eK: (B, K, C_s, H, W)
    code: ExampleCode  # the conditioning's part (E_F features and E_A keys, or a style vector)
    room: Tensor | None = None  # with the example gate: each example with its subject filled in with the room (from
    #                             the other examples where they show it, else from around it): (B, K, 3, H, W), what
    #                             eq. 11 shows where the frame has background
    subject: Tensor | None = None  # with the gate: each example's subject (not background), grown by its
    #                                anti-aliased rim (B, K, 1, H, W) in [0, 1]
    facing: Tensor | None = None  # with example_facing: which way each example's subject faces (B, K), positive
    #                               from the front (models/alignment.py facing)


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
    # The example warp (None when it is off), one entry per warped example: E = 1 (the argmax example) or K
    # ("attention" warp, every example). example_share says how much of h'_t each one makes.
    flow_example: Tensor | None = None  # w_e: (B, E, 2, H, W) pixels
    mask_example: Tensor | None = None  # m_e: (B, E, 1, H, W), 1 = keep h_t, 0 = keep the warped example (gated)
    warped_example: Tensor | None = None  # w_e(e): (B, E, 3, H, W)
    example_share: Tensor | None = None  # (B, E, 1, H, W), summing to 1 over E: all ones for E = 1
    example_weight: Tensor | None = None  # (B, 1, H, W): how much of h'_t the warped examples make (the rest is h_t)
    room_weight: Tensor | None = None  # (B, 1, H, W): how much of h'_t is the room behind an example's subject
    #                                   (example_gate); eq. 2 takes h'_t there over the warped previous frame
    attention: Tensor | None = None  # alpha: (B, h_a, w_a, K, h_a, w_a); for each target position, a distribution
    #                                  over all positions of all examples ("ours" with attention; None where the
    #                                  generator was told not to keep it: conditioning.keep_attention)
    attention_share: Tensor | None = None  # (B, K, h_a, w_a): per target position, its attention's share on each
    #                                        example (alpha summed over the example's positions); with attention


def subject_rim(height: int) -> int:
    """How many pixels the RGB subject's soft edge reaches past its labels in a frame ``height`` high: the example
    gate widens the subject by it (and so does the evaluation's copy of the room, fsvid2vid.eval.subject)."""
    return max(1, height // 64)


def widened_subject(background: Tensor) -> Tensor:
    """The subject of a semantic map's background channel (N, 1, H, W): 1 - background, widened by
    :func:`subject_rim` pixels (the RGB subject's soft edge), as float (N, 1, H, W)."""
    rim = subject_rim(background.shape[-2])
    return F.max_pool2d(1 - background.float(), 2 * rim + 1, stride=1, padding=rim)


def agreement_mix(share: Tensor, mask: Tensor, warped: Tensor, h: Tensor, eps: float = 1e-6) -> Tensor:
    """h'_t of the attention warp mixed by agreement (``example_mix: agreement``; FewShotGenerator._warp_examples).

    share a_k, mask m_k: (B, E, 1, H, W); warped w_k(e_k): (B, E, 3, H, W); h: h_t (B, 3, H, W) -> (B, 3, H, W).
    Where every m_k is 1 the result is h_t; where exactly one example agrees (m_k = 0) it is that example's warp,
    whatever its share; K copies of one example give that example's eq. 11.
    """
    use = share * (1 - mask)  # u_k
    covered = 1 - mask.amin(dim=1)  # c: (B, 1, H, W)
    mixed = (use * warped).sum(dim=1) / use.sum(dim=1).clamp_min(eps)
    return covered * mixed + (1 - covered) * h


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
        learned_warp = cfg.warp_example and cfg.example_alignment != "parts_only"
        self.flow_example = FlowMaskNet(2 * c_s + 3, cfg) if learned_warp else None  # W_e, M_e: s_t, s_e, e
        self.register_load_state_dict_pre_hook(_adapt_loaded_keys)

    def encode_examples(self, example_rgb: Tensor, example_semantic: Tensor) -> ExampleCache:
        """The example-only part of E: run once per example set.

        example_rgb: (B, K, 3, H, W) in [-1, 1]; example_semantic: (B, K, C_s, H, W), the frame size of the video.
        """
        cache = ExampleCache(example_rgb, example_semantic, self.conditioning.encode(example_rgb, example_semantic))
        if self.cfg.example_gate:  # the room behind each example's subject (its background label is gate_channels[0]),
            b, k = example_rgb.shape[:2]  # from the other examples where they show it, else from around
            subject = widened_subject(example_semantic[:, :, self.cfg.gate_channels[0], None].flatten(0, 1))
            subject = subject.unflatten(0, (b, k))
            room = fill_holes_across(example_rgb.float(), 1 - subject)
            cache.room, cache.subject = room.to(example_rgb.dtype), subject.to(example_rgb.dtype)
            if self.cfg.example_facing != "off":
                labels = example_semantic[:, :, self.cfg.gate_channels].flatten(0, 1)
                cache.facing = facing(labels, self.cfg.part_sides).unflatten(0, (b, k))
        return cache

    def forward(self, semantic: Tensor, prev_frames: Tensor | None, prev_semantics: Tensor | None,
                cache: ExampleCache) -> FrameOutput:
        """Generate x_t: :meth:`synthesize` (eq. 5, 7-11), then :meth:`matte` (eq. 2-4).

        semantic: s_t (B, C_s, H, W).
        prev_frames: x_{t-tau} … x_{t-1} (B, T, 3, H, W), oldest first, or None for the first frame. Fewer than tau
            frames (T < tau, the start of a clip) are padded by repeating the oldest. Detach them when training
            without back-propagation through time.
        prev_semantics: s_{t-tau} … s_{t-1} (B, T, C_s, H, W), matching ``prev_frames``.
        cache: :meth:`encode_examples` of this sample's examples.
        """
        return self.matte(self.synthesize(semantic, cache), semantic, prev_frames, prev_semantics)

    def synthesize(self, semantic: Tensor, cache: ExampleCache) -> FrameOutput:
        """h'_t from s_t (B, C_s, H, W) and the examples: everything of a frame that does not depend on the frames
        before it, so inference may compute it for several frames at once. ``frame`` is h'_t, which is x_1."""
        # E (eq. 7): H's modulation weights for this frame; with attention they depend on s_t through the query.
        cond = self.conditioning(semantic, cache.code)

        # H (eq. 5, 8-10): the intermediate image.
        h = self.synthesis(semantic, cond)  # (B, 3, H, W)

        # Example warping (eq. 11): h'_t = (1 - m_e) * w_e(e) + m_e * h_t.
        index = self._pick_example(semantic, cache, cond.attention_mass)
        out = FrameOutput(frame=h, raw=h, raw_prime=h, example_index=index, attention=cond.attention,
                          attention_share=cond.attention_share)
        if self.cfg.warp_example:
            self._warp_examples(out, semantic, cache)
        out.frame = out.raw_prime
        return out

    def matte(self, out: FrameOutput, semantic: Tensor, prev_frames: Tensor | None, prev_semantics: Tensor | None
              ) -> FrameOutput:
        """Eq. 2-4 on :meth:`synthesize`'s ``out`` (in place, returned): x_t = (1 - m_t) * w_{t-1}(x_{t-1}) +
        m_t * h'_t, with the flow w and mask m from W/M; the first frame (``prev_frames`` None) is x_1 = h'_1.
        Arguments as for :meth:`forward`."""
        if prev_frames is None:
            return out
        if prev_semantics is None:
            raise ValueError("prev_frames needs prev_semantics, their semantic maps (B, T, C_s, H, W)")
        prev_frames, prev_semantics = self._last_tau(prev_frames), self._last_tau(prev_semantics)
        w_m_input = torch.cat((semantic, prev_semantics.flatten(1, 2), prev_frames.flatten(1, 2)), dim=1)
        out.flow_prev, out.mask_prev = self.flow_prev(w_m_input)
        if out.room_weight is not None:  # where h'_t is the gate's room, the frame is too: m_t = 1 - (1 - m)(1 - r)
            out.mask_prev = 1 - (1 - out.mask_prev) * (1 - out.room_weight.to(out.mask_prev.dtype))
        out.warped_prev = warp(prev_frames[:, -1], out.flow_prev)
        out.frame = (1 - out.mask_prev) * out.warped_prev + out.mask_prev * out.raw_prime
        return out

    def _warp_examples(self, out: FrameOutput, semantic: Tensor, cache: ExampleCache) -> None:
        """Eq. 11, filling ``out``'s example-warp fields and h'_t (``out.raw_prime``) from h_t (``out.raw``).

        "argmax": h'_t = (1 - m_e) * w_e(e_1) + m_e * h_t with e_1 the example of ``out.example_index``.
        "attention": every example k is warped and blended alike, and the K blends are mixed per pixel by the
        share of that pixel's attention falling on example k, a_k(i) = sum_j alpha[i, (k, j)] (upsampled from E_A's
        resolution; the shares sum to 1): h'_t = sum_k a_k * ((1 - m_k) * w_k(e_k) + m_k * h_t). With ``example_mix:
        agreement`` the shares are reweighted per pixel by each example's agreement, so that h_t fills in only where
        no example's warp fits: u_k = a_k * (1 - m_k), c = 1 - min_k m_k (the best agreement),
        h'_t = c * sum_k u_k * w_k(e_k) / sum_k u_k + (1 - c) * h_t. For K = 1 all three are eq. 11.
        The example gate compares the example's one-hot labels, warped by the same flow, with s_t's (a rule, no
        gradient): where the example's subject lands on the frame's background, the warped image shows the room
        behind the subject instead (``cache.room``) and is kept (g_k in [0, 1]: the warped subject on the frame's
        background), and wherever else they disagree (d_k in [0, 1]) h_t is kept: m_k becomes
        (1 - g_k) * (1 - (1 - m_k) * (1 - max(d_k - g_k, 0))). With ``example_facing``, d_k is 1 on the frame's head
        and torso when the example is seen from the other side (front against back; "unmatched": only when every
        example of the set is, :meth:`_turned_examples`). ``out.room_weight`` is the part
        of h'_t that is the room (each example's part of h'_t times g_k), which :meth:`matte` keeps.
        """
        h, b = out.raw, semantic.shape[0]
        if self.cfg.example_warp == "attention":
            pick = slice(None)  # every example: (B, K, ...)
            share = F.interpolate(out.attention_share, size=h.shape[-2:], mode="bilinear",
                                  align_corners=False)[:, :, None]  # a_k: (B, K, 1, H, W)
        else:
            pick = (torch.arange(b, device=out.example_index.device), out.example_index, None)  # the one: (B, 1, ...)
            share = None
        e, s_e = cache.example_rgb[pick], cache.example_semantic[pick]  # (B, E, 3 | C_s, H, W)
        k = e.shape[1]
        s_t = semantic[:, None].expand(-1, k, -1, -1, -1)
        if self.cfg.example_alignment != "none":  # the flow that carries each body part onto the frame's
            labels = self.cfg.gate_channels
            start = part_flow(s_t.flatten(0, 1)[:, labels], s_e.flatten(0, 1)[:, labels], self.cfg.part_parents)
        if self.cfg.example_alignment == "parts_only":  # that flow alone; the mask is the gate's rule
            flow = start.to(e.dtype)
            mask = torch.zeros_like(flow[:, :1])
        elif self.cfg.example_alignment == "parts":  # W_e refines it
            aligned = warp(torch.cat((s_e, e), dim=2).flatten(0, 1), start).unflatten(0, (b, k))
            delta, mask = self.flow_example(torch.cat((s_t, aligned), dim=2).flatten(0, 1))
            flow = start.to(delta.dtype) + delta  # (B * E, 2, H, W)
        else:
            flow, mask = self.flow_example(torch.cat((s_t, s_e, e), dim=2).flatten(0, 1))  # (B * E, 2 | 1, H, W)
        ghost = None
        if not self.cfg.example_gate:
            warped = warp(e.flatten(0, 1), flow)
        else:  # one warp for the image, the room behind its subject, its labels and its subject
            labels = self.cfg.gate_channels
            stacked = torch.cat((e, cache.room[pick], s_e[:, :, labels], cache.subject[pick]), dim=2)
            warped, room, warped_labels, warped_subject = warp(stacked.flatten(0, 1), flow).split(
                [3, 3, len(labels), 1], dim=1)
            frame_labels = s_t.flatten(0, 1)[:, labels]
            disagree = (0.5 * (warped_labels - frame_labels).abs().sum(1, keepdim=True)).clamp(0, 1).detach()
            if self.cfg.example_facing != "off":  # seen from the other side, the midline parts' front and back differ
                sides = self.cfg.part_sides
                turned = self._turned_examples(semantic, cache)  # (B, K) over the whole set
                turned = turned if share is not None else turned.gather(1, out.example_index[:, None])
                turned = turned.flatten()  # (B * E,)
                midline = frame_labels[:, [i for i, side in enumerate(sides) if side == 0 and i > 0]].sum(1, True)
                disagree = torch.maximum(disagree, turned.to(disagree.dtype)[:, None, None, None] * midline)
            ghost = (warped_subject * frame_labels[:, :1]).clamp(0, 1).detach()  # the example's subject on background
            ghost, disagree = ghost.to(mask.dtype), disagree.to(mask.dtype)
            warped = (1 - ghost) * warped + ghost * room
            if self.cfg.example_mask == "labels":  # the rule alone: M_e's opinion is not asked
                mask = torch.zeros_like(mask)
            mask = (1 - ghost) * (1 - (1 - mask) * (1 - (disagree - ghost).clamp(0, 1)))
        out.flow_example, out.mask_example = flow.unflatten(0, (b, k)), mask.unflatten(0, (b, k))
        out.warped_example = warped.unflatten(0, (b, k))
        out.example_share = torch.ones_like(mask).unflatten(0, (b, k)) if share is None else share.to(h.dtype)
        if share is not None and self.cfg.example_mix == "agreement":
            out.raw_prime = agreement_mix(out.example_share, out.mask_example, out.warped_example, h)
            out.example_weight = 1 - out.mask_example.amin(dim=1)  # c
            use = out.example_share * (1 - out.mask_example)  # u_k
            part = out.example_weight[:, None] * use / use.sum(dim=1, keepdim=True).clamp_min(1e-6)
        else:  # eq. 11 per example: (B, E, 3, H, W), then the one example, or mixed by the shares
            blend = ((1 - mask) * warped + mask * h.repeat_interleave(k, dim=0)).unflatten(0, (b, k))
            out.raw_prime = blend[:, 0] if share is None else (out.example_share * blend).sum(dim=1)
            part = out.example_share * (1 - out.mask_example)  # (B, E, 1, H, W): each example's part of h'_t
            out.example_weight = part.sum(dim=1)
        if ghost is not None:  # the part of h'_t that is the room behind an example's subject
            out.room_weight = (part * ghost.unflatten(0, (b, k))).sum(dim=1).clamp(0, 1)

    def _turned_examples(self, semantic: Tensor, cache: ExampleCache) -> Tensor:
        """(B, K) bool: which examples of the set ``example_facing`` hands to h_t on the head and torso: each example
        seen from the other side than the frame s_t (B, C_s, H, W) (models/alignment.py ``facing``); "unmatched":
        only where every example of the set is (no example shows the side the frame shows)."""
        frame = facing(semantic[:, self.cfg.gate_channels], self.cfg.part_sides)  # (B,)
        turned = opposite_facings(frame[:, None], cache.facing)  # cache.facing: (B, K), from encode_examples
        if self.cfg.example_facing == "unmatched":
            turned = turned & turned.all(dim=1, keepdim=True)
        return turned

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
          "conditioning.aligned_projection": "E_F", "flow_example": "W_e, M_e"}

# State-dict names before E became one module (files written up to 2026-12-01): E's parts sat on F itself and the
# AdaIN baseline's layers inside H's SPADEs.
_LEGACY = [(re.compile(r"(example_encoder|weight_predictor|attention|style_encoder)\."), r"conditioning.\1."),
           (re.compile(r"synthesis\.blocks\.(\d+)\.(norm_in|norm_mid)\.adain\."), r"conditioning.adain.\1.\2.")]


def _adapt_loaded_keys(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """load_state_dict pre-hook: rename a legacy generator file's keys to today's, in place; without W_e
    (``example_alignment: parts_only``) a file's W_e weights are left out."""
    if module.flow_example is None:
        for key in [k for k in state_dict if k.startswith(prefix + "flow_example.")]:
            del state_dict[key]
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix):]
        for pattern, replacement in _LEGACY:
            if pattern.match(rest):
                state_dict[prefix + pattern.sub(replacement, rest, count=1)] = state_dict.pop(key)
                break
