"""Typed configuration of the networks: every default lives in the dataclass fields, presets only override.

``model_preset(task, size)`` gives a :class:`ModelConfig` for one of the three tasks ("dance", "face", "street") at
one of the sizes ``tiny`` (unit tests), ``64``, ``128``, ``256`` or ``paper`` (the paper's channel ladder 32 … 1024
with 5 downsamplings). ``ModelConfig.to_dict`` / ``ModelConfig.from_dict`` round-trip through plain dicts, so YAML
files can hold a preset's overrides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from fsvid2vid.data.encode import label_channel_slices
from fsvid2vid.data.semantics import DANCE_PART_PARENTS, DANCE_PART_SIDES, TASKS, frame_size, task_aspect, task_layers
from fsvid2vid.errors import UserError
from fsvid2vid.fields import checked_values

SIZES = ("tiny", "64", "128", "256", "paper")
CONDITIONINGS = ("ours", "encoder", "concat_style", "adain")
POOLINGS = ("mean", "regions")
EXAMPLE_WARPS = ("argmax", "attention")
ALIGNMENTS = ("none", "parts", "parts_only")
FACINGS = ("off", "always", "unmatched")  # example_facing


@dataclass
class GeneratorConfig:
    """The sequential generator F = (E, H, W, M) of one task."""

    # --- inputs ---
    semantic_nc: int = 18  # channels C_s of a semantic map s_t (dance 18, face 1, street 10: see task_spec)
    conditioning: str = "ours"  # how the examples steer H: "ours" (generated SPADE weights, sec. 3) or a sec. 4
    #                              baseline: "encoder", "concat_style", "adain"
    # --- H: the SPADE image synthesis network (eq. 5, 8-10) ---
    ngf: int = 32  # channels of H at full resolution; level i has ch[i] = min(max_channels, ngf * 2**i)
    max_channels: int = 1024  # cap of the channel ladder (the paper's ladder: 32 ... 1024)
    n_downsample: int = 5  # levels below full resolution; the main branch starts at 1 / 2**n_downsample
    spectral_norm: bool = True  # spectral normalisation of the main branch's convolutions (as in SPADE)
    modulation_hidden: int = 128  # channels of p_S^l (the shared layer theta_S, eq. 8) at levels with fixed weights
    shared_kernel: int = 3  # kernel size of theta_S (odd)
    gamma_beta_kernel: int = 1  # kernel size of theta_gamma and theta_beta (eq. 9; odd)
    # --- E: network weight generation (eq. 7) ---
    n_adaptive_layers: int = 4  # L: the L finest levels of H get generated modulation weights theta_H^l ("ours")
    adaptive_hidden: int = 32  # channels of p_S^l at the L generated levels (each generated number costs fc_hidden
    #                            parameters in E_P's output layer, so these stay narrow)
    fc_hidden: int = 64  # width of the hidden layers of the E_P MLPs
    n_fc_layers: int = 2  # hidden layers per E_P MLP (each Linear + LeakyReLU), then the output Linear
    attention: bool = True  # E_A over all positions of all K examples, used for every K (docs/model.md);
    #                         False: the K examples' features are averaged uniformly and theta_H is cached
    attention_downsample: int = 2  # E_A works at 1 / 2**attention_downsample of the frame (memory O(K N^2))
    attention_channels: int = 64  # C: channels of the keys a_k and the query a_t
    example_pooling: str = "mean"  # how E_P's input is pooled from q^l: "mean", the paper's average pooling (one
    #                                vector per level), or "regions": one vector per soft semantic region (the
    #                                official code's label-weighted pooling; docs/model.md), so that each part of
    #                                the subject can get its own look
    pooling_regions: int = 8  # R: soft regions of "regions" pooling (E_P's input is R times as long)
    example_aligned: bool = False  # ours with E_A: the examples' look carried onto the frame by the attention (alpha
    #                                applied to each example's image and its features q^l at E_A's resolution: the
    #                                paper's q = sum_k q_k (x) alpha_k before its average pooling) joins s_t at the
    #                                input of H's modulation branches, so that H can paint each position in the
    #                                colours of the example positions it attends to (docs/model.md)
    aligned_width: int = 0  # example_aligned: channels of q carried (a learned 1x1 projection at E_A's grid, before
    #                         the attention carries it); 0: all of q^l's channels
    style_dim: int = 64  # baselines only: length of the example style vector
    # --- W, M: flow and occlusion mask (eq. 2-4), and the example warp (eq. 11) ---
    n_prev_frames: int = 1  # tau: previous generated frames (and semantic maps) seen by W and M
    warp_example: bool = True  # eq. 11: warp the most attended example to the frame and blend it with h_t
    example_warp: str = "argmax"  # which examples eq. 11 warps: "argmax", the paper's (the example with the most
    #                               attention mass); "attention": every example, the K blends mixed per pixel by
    #                               that pixel's attention share of each example, so that each part of the frame can
    #                               come from the example that shows it and the warp's error trains E_A
    #                               (docs/model.md; needs attention)
    example_mix: str = "agreement"  # how the attention warp mixes the K blends: "agreement", by the attention share
    #                                 times each example's agreement (1 - m_k), so that a pixel takes h_t only where
    #                                 no example's warp agrees with s_t; "share", by the share alone (every file
    #                                 written before 2026-12-03 was trained so, and runs with agreement; docs/model.md)
    example_gate: bool = False  # trust the warped example only where its part/label map, warped by the same flow,
    #                             agrees with s_t: elsewhere (e.g. where the example's arm was and the frame has
    #                             background) h'_t takes h_t, which cuts the example's ghost (needs gate_channels)
    gate_channels: list[int] = field(default_factory=list)  # the one-hot label channels of s_t that the example
    #                                                         gate compares (set per task by model_preset)
    example_mask: str = "learned"  # m_e of eq. 11: "learned", M_e's (the paper); "labels": the example gate's rule
    #                                alone (use the warped example wherever its labels agree with s_t; needs
    #                                example_gate), M_e's output unused
    example_alignment: str = "none"  # "parts": W_e starts from a closed-form flow that carries each body part of
    #                                  the example onto the frame's (models/alignment.py) and refines it;
    #                                  "parts_only": that flow alone, no W_e / M_e at all (needs example_mask:
    #                                  labels); "none": W_e predicts the whole flow (the paper). Parts need
    #                                  part_parents
    part_parents: list[int] = field(default_factory=list)  # per label of gate_channels, the body part it hangs
    #                                                         from (-1: none); set per task by model_preset
    part_sides: list[int] = field(default_factory=list)  # per label of gate_channels, +1 the subject's left, -1 its
    #                                                       right, 0 the midline; set per task by model_preset
    example_facing: str | bool = "off"  # one of FACINGS: the example gate also compares which way the
    #                               subject faces (from the left and right parts' places): an example seen from the
    #                               other side than the frame (front against back) disagrees on the midline parts
    #                               (head, torso), whose front and back differ, so h'_t takes another example or h_t
    #                               there; "always", or "unmatched": only where no example of the set is seen from the
    #                               frame's side (K = 1; a set of front views for a back view), so that E_A still has
    #                               the view to choose where one fits. true / false: "always" / "off" (files and
    #                               --set before 2026-12-05). Needs example_gate and part_sides (models/alignment.py)
    flow_ngf: int = 32  # channels of the flow network at full resolution
    flow_max_channels: int = 256  # cap of the flow network's channel ladder
    flow_n_downsample: int = 3  # stride-2 convolutions in the flow network's encoder
    flow_n_res_blocks: int = 6  # residual blocks at the flow network's bottleneck
    flow_scale: float = 20.0  # the flow head's output times this is the flow in pixels
    flow_stride: int = 1  # 1: W/M (and W_e/M_e) predict at full resolution, as in the paper; 2: their first
    #                       convolution has stride 2 and flow and mask are predicted at half resolution and
    #                       upsampled bilinearly (a quarter of the FLOPs; docs/performance.md)

    def __post_init__(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise UserError(f"unknown conditioning {self.conditioning!r}: choose one of {', '.join(CONDITIONINGS)}")
        if not 1 <= self.n_adaptive_layers <= self.n_downsample:
            raise UserError(f"n_adaptive_layers must lie in [1, n_downsample={self.n_downsample}], "
                            f"got {self.n_adaptive_layers}")
        if self.shared_kernel % 2 == 0 or self.gamma_beta_kernel % 2 == 0:
            raise UserError("shared_kernel and gamma_beta_kernel must be odd")
        if self.example_pooling not in POOLINGS:
            raise UserError(f"unknown example_pooling {self.example_pooling!r}: choose one of {', '.join(POOLINGS)}")
        if self.pooling_regions < 1:
            raise UserError(f"pooling_regions must be >= 1, got {self.pooling_regions}")
        if self.example_warp not in EXAMPLE_WARPS:
            raise UserError(f"unknown example_warp {self.example_warp!r}: choose one of {', '.join(EXAMPLE_WARPS)}")
        if self.example_warp == "attention" and not (self.attention and self.conditioning == "ours"):
            raise UserError("example_warp 'attention' needs E_A (conditioning 'ours' with attention: true); "
                            "use example_warp 'argmax'")
        if self.example_aligned and not (self.attention and self.conditioning == "ours"):
            raise UserError("example_aligned needs E_A (conditioning 'ours' with attention: true); set "
                            "example_aligned false")
        if self.aligned_width < 0:
            raise UserError(f"aligned_width must be >= 0 (0: all of q's channels), got {self.aligned_width}")
        if self.example_mix not in ("share", "agreement"):
            raise UserError(f"unknown example_mix {self.example_mix!r}: choose share or agreement")
        if self.example_gate and not self.gate_channels:
            raise UserError("example_gate needs the task's one-hot label channels (gate_channels), and this task's "
                            "semantic maps have none (face): set example_gate false")
        if self.example_mask not in ("learned", "labels"):
            raise UserError(f"unknown example_mask {self.example_mask!r}: choose learned or labels")
        if self.example_mask == "labels" and not self.example_gate:
            raise UserError("example_mask 'labels' is the example gate's rule: set example_gate true")
        if self.example_alignment not in ALIGNMENTS:
            raise UserError(f"unknown example_alignment {self.example_alignment!r}: choose one of "
                            f"{', '.join(ALIGNMENTS)}")
        if self.example_alignment != "none" and (not self.part_parents
                                                 or len(self.part_parents) != len(self.gate_channels)):
            raise UserError(f"example_alignment {self.example_alignment!r} needs a body-part label map (part_parents, "
                            "one per gate channel), which only the dance task has: set example_alignment none")
        if self.example_alignment == "parts_only" and self.example_mask != "labels":
            raise UserError("example_alignment 'parts_only' has no M_e to give a mask: set example_mask labels")
        if isinstance(self.example_facing, bool):  # true / false, as written before the modes
            self.example_facing = "always" if self.example_facing else "off"
        if self.example_facing not in FACINGS:
            raise UserError(f"unknown example_facing {self.example_facing!r}: choose one of {', '.join(FACINGS)}")
        facing_ready = self.example_gate and len(self.part_sides) == len(self.gate_channels) and any(self.part_sides)
        if self.example_facing != "off" and not facing_ready:
            raise UserError("example_facing needs the example gate and a body-part map with left and right parts "
                            "(part_sides; dance): set example_facing off")
        if any(not 0 <= c < self.semantic_nc for c in self.gate_channels):
            raise UserError(f"gate_channels must lie in [0, semantic_nc={self.semantic_nc}), got {self.gate_channels}")
        if self.flow_stride not in (1, 2):
            raise UserError(f"flow_stride must be 1 or 2, got {self.flow_stride}")
        if self.n_prev_frames < 1:
            raise UserError(f"n_prev_frames (tau) must be >= 1, got {self.n_prev_frames}")

    def channels(self, level: int) -> int:
        """ch[level] = min(max_channels, ngf * 2**level): channels of H (and E_F) at a level."""
        return min(self.max_channels, self.ngf * 2**level)

    @property
    def aligned_level(self) -> int:
        """The level of E_F whose features ``example_aligned`` carries: E_A's, or the deepest E_F has."""
        return max(1, min(self.attention_downsample, self.n_adaptive_layers))

    @property
    def aligned_channels(self) -> int:
        """Channels ``example_aligned`` adds to H's modulation input: an image (3) and q at :attr:`aligned_level`."""
        if not self.example_aligned:
            return 0
        return 3 + (self.aligned_width or self.channels(self.aligned_level))

    def modulation_channels(self, level: int) -> int:
        """Channels of p_S at a level: narrow at the L generated levels, wider at the fixed ones."""
        width = self.adaptive_hidden if level < self.n_adaptive_layers else self.modulation_hidden
        return min(self.channels(level), width)


@dataclass
class DiscriminatorConfig:
    """The conditional multi-scale image discriminator and the temporal discriminator."""

    ndf: int = 32  # channels of the first convolution
    max_channels: int = 512  # cap of the channel ladder
    n_layers: int = 4  # stride-2 convolutions per patch discriminator (then one stride-1 and the logit conv)
    num_scales: int = 2  # image scales (each a 2x average-pooled copy of the previous one)
    spectral_norm: bool = True  # spectral normalisation of every convolution
    instance_norm: bool = True  # instance norm after every convolution except the first and the logit conv
    temporal_frames: int = 2  # T_D: consecutive frames stacked along channels (every shipped config trains with 2)
    temporal_scales: int = 2  # temporal scales; scale s samples the frames with stride T_D**s
    temporal_n_layers: int = 3  # stride-2 convolutions of each temporal patch discriminator
    temporal_condition_channels: int = 0  # extra channels per frame stacked with it (e.g. 2 for a flow, C_s for
    #                                       the semantic map); 0: frames only

    def __post_init__(self) -> None:
        if min(self.n_layers, self.num_scales, self.temporal_n_layers, self.temporal_scales) < 1:
            raise UserError("n_layers, num_scales, temporal_n_layers and temporal_scales must be >= 1")
        if self.temporal_frames < 2:
            raise UserError(f"temporal_frames (T_D) must be >= 2, got {self.temporal_frames}")


@dataclass
class ModelConfig:
    """Everything needed to build the networks of one task at one frame size."""

    task: str = "dance"  # "dance", "face" or "street"
    height: int = 128  # frame height in pixels
    width: int = 96  # frame width in pixels
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise UserError(f"unknown task {self.task!r}: choose one of {', '.join(TASKS)}")
        if min(self.height, self.width) < 2:
            raise UserError(f"frames must be at least 2x2 pixels, got {self.height}x{self.width}")

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON/YAML-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; missing keys keep their defaults, unknown keys are an error."""
        data = dict(data)
        generator = _build(GeneratorConfig, data.pop("generator", {}), "generator")
        discriminator_values = dict(data.pop("discriminator", {}))
        discriminator_values.pop("semantic_nc", None)  # files written before 2026-12-02 repeat the generator's
        discriminator = _build(DiscriminatorConfig, discriminator_values, "discriminator")
        if not generator.part_sides and data.get("task") in TASKS:  # files written before 2026-12-04: the task's
            sides = task_spec(data["task"]).part_sides
            if sides and len(sides) == len(generator.gate_channels):
                generator = dataclasses.replace(generator, part_sides=sides)
        return _build(cls, data, "model", generator=generator, discriminator=discriminator)


def _build(cls, values: dict[str, Any], where: str, **extra):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"unknown {where} config key(s) {', '.join(unknown)}: known are {', '.join(sorted(names))}")
    prefix = "model." if where == "model" else f"model.{where}."
    return cls(**checked_values(cls, values, prefix), **extra)  # the field types checked first (fsvid2vid.fields)


# ----------------------------------------------------------------------------------------------------------------
# Tasks and presets
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """What the networks need to know about a task's data."""

    semantic_nc: int  # channels of a semantic map
    aspect: float  # frame width / height
    warp_example: bool  # eq. 11 on by default (dance and face: the example and the frame share most of the scene)
    label_channels: list[int]  # the channels of the one-hot label layers in s_t (the example gate compares them)
    part_parents: list[int]  # the body-part tree over label_channels (dance), else empty
    part_sides: list[int]  # the side of the body of each of label_channels (dance), else empty


def task_spec(task: str) -> TaskSpec:
    """Semantic channels (summed ``layer.channels`` of the task's semantic layers), aspect ratio and eq. 11 default."""
    layers = task_layers(task)
    return TaskSpec(semantic_nc=sum(layer.channels for layer in layers), aspect=task_aspect(task),
                    warp_example=task != "street",
                    label_channels=[c for part in label_channel_slices(layers) for c in range(part.start, part.stop)],
                    part_parents=list(DANCE_PART_PARENTS) if task == "dance" else [],
                    part_sides=list(DANCE_PART_SIDES) if task == "dance" else [])


def task_frame_size(task: str, height: int) -> tuple[int, int]:
    """(height, width) of a task's frames: the benchmark's rule (width = height * aspect, a multiple of 8)."""
    return frame_size(task, height)


# Per size: the frame height and the fields that differ from the dataclass defaults.
_SIZE_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "height": 64,
        "generator": dict(ngf=8, max_channels=32, n_downsample=3, n_adaptive_layers=2, modulation_hidden=16,
                          adaptive_hidden=8, fc_hidden=16, n_fc_layers=1, attention_channels=16, style_dim=16,
                          flow_ngf=8, flow_max_channels=32, flow_n_downsample=2, flow_n_res_blocks=1,
                          flow_scale=5.0),
        "discriminator": dict(ndf=8, max_channels=32, n_layers=2, num_scales=1, temporal_n_layers=2),
    },
    "64": {
        "height": 64,
        "generator": dict(ngf=16, max_channels=128, n_downsample=3, n_adaptive_layers=2, modulation_hidden=64,
                          adaptive_hidden=16, fc_hidden=32, attention_channels=32, style_dim=32,
                          flow_ngf=16, flow_max_channels=64, flow_n_downsample=2, flow_n_res_blocks=2,
                          flow_scale=5.0),
        "discriminator": dict(ndf=16, max_channels=128, n_layers=3, num_scales=2, temporal_n_layers=2),
    },
    "128": {
        "height": 128,
        "generator": dict(ngf=32, max_channels=256, n_downsample=4, n_adaptive_layers=3, modulation_hidden=64,
                          adaptive_hidden=24, fc_hidden=32, attention_downsample=3, attention_channels=32,
                          style_dim=64, flow_ngf=16, flow_max_channels=128, flow_n_downsample=3, flow_n_res_blocks=1,
                          flow_scale=10.0),
        "discriminator": dict(ndf=32, max_channels=256, n_layers=3, num_scales=2, temporal_n_layers=3),
    },
    "256": {
        "height": 256,
        "generator": dict(ngf=32, max_channels=512, n_downsample=5, n_adaptive_layers=3, modulation_hidden=128,
                          adaptive_hidden=32, fc_hidden=64, attention_downsample=3, attention_channels=64,
                          flow_ngf=32, flow_max_channels=256, flow_n_downsample=3, flow_n_res_blocks=4),
        "discriminator": dict(ndf=32, max_channels=512, n_layers=4, num_scales=2),
    },
    "paper": {
        "height": 256,
        "generator": {},  # the dataclass defaults are the paper's ladder: 32 ... 1024, 5 downsamplings, L = 4
        "discriminator": {},  # ndf 32, 4 layers, 2 scales
    },
}


def model_preset(task: str, size: str | int) -> ModelConfig:
    """The :class:`ModelConfig` of ``task`` at ``size`` ("tiny", "64", "128", "256", "paper"; ints allowed)."""
    size = str(size)
    if size not in _SIZE_PRESETS:
        raise UserError(f"unknown model size {size!r}: choose one of {', '.join(SIZES)}")
    spec = task_spec(task)
    preset = _SIZE_PRESETS[size]
    height, width = task_frame_size(task, preset["height"])
    per_task = dict(semantic_nc=spec.semantic_nc, gate_channels=spec.label_channels, part_parents=spec.part_parents,
                    part_sides=spec.part_sides)
    return ModelConfig(
        task=task, height=height, width=width,
        generator=GeneratorConfig(**{**preset["generator"], **per_task, "warp_example": spec.warp_example}),
        discriminator=DiscriminatorConfig(**preset["discriminator"]),
    )
