"""The networks of few-shot vid2vid: the generator F = (E, H, W, M) and the image and temporal discriminators.

    cfg = model_preset("dance", "128")
    G = FewShotGenerator(cfg.generator)
    cache = G.encode_examples(example_rgb, example_semantic)     # (B, K, 3, H, W), (B, K, C_s, H, W)
    out = G(semantic_t, prev_frames, prev_semantics, cache)      # FrameOutput; prev_* None on the first frame
    clip = generate_clip(G, semantic, example_rgb, example_semantic)    # a T-frame clip (models/rollout.py)
    D_I = ImageDiscriminator(cfg.discriminator, cfg.generator.semantic_nc)
    D_V = TemporalDiscriminator(cfg.discriminator)

docs/model.md describes the architecture, the equations and where each lives.
"""

from fsvid2vid.models.config import (
    CONDITIONINGS,
    SIZES,
    DiscriminatorConfig,
    GeneratorConfig,
    ModelConfig,
    TaskSpec,
    model_preset,
    task_frame_size,
    task_spec,
)
from fsvid2vid.models.discriminators import ImageDiscriminator, TemporalDiscriminator
from fsvid2vid.models.generator import ExampleCache, FewShotGenerator, FrameOutput
from fsvid2vid.models.layers import warp
from fsvid2vid.models.rollout import ClipOutput, Rollout, generate_clip

__all__ = [
    "CONDITIONINGS",
    "ClipOutput",
    "SIZES",
    "DiscriminatorConfig",
    "ExampleCache",
    "FewShotGenerator",
    "FrameOutput",
    "GeneratorConfig",
    "ImageDiscriminator",
    "ModelConfig",
    "Rollout",
    "TaskSpec",
    "TemporalDiscriminator",
    "generate_clip",
    "model_preset",
    "task_frame_size",
    "task_spec",
    "warp",
]
