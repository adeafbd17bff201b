"""The generator run over a video, frame after frame: the one loop that training, inference and the tests share.

    rollout = Rollout(G, example_rgb, example_semantic)     # the examples are encoded once
    for s_t in semantic_frames:
        out = rollout.step(s_t)                             # FrameOutput; the last tau frames are kept
    clip = generate_clip(G, semantic, example_rgb, example_semantic)    # all T frames at once: ClipOutput

Frame t sees the generated frames t - tau … t - 1 detached: no back-propagation through time, as in the paper's
training, and only tau frames in memory however long the video is. :func:`generate_clip` runs the part of every frame
that does not depend on earlier frames (``G.synthesize``: E, H, eq. 11) for all T frames in one batch of B * T, then
W/M (``G.matte``) frame after frame: the same frames, half the operations of a T = 2 training step's E and H.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from fsvid2vid.models.generator import FewShotGenerator, FrameOutput


def append_history(history: Tensor | None, item: Tensor, tau: int) -> Tensor:
    """The last ``tau`` entries of ``history`` (B, T, ...) followed by ``item`` (B, ...), as (B, <= tau, ...)."""
    item = item[:, None]
    return item if history is None else torch.cat((history, item), dim=1)[:, -tau:]


class Rollout:
    """Generates a video one frame at a time for one example set (B samples at once)."""

    def __init__(self, generator: FewShotGenerator, example_rgb: Tensor, example_semantic: Tensor):
        """example_rgb: (B, K, 3, H, W) in [-1, 1]; example_semantic: (B, K, C_s, H, W)."""
        self.generator, self.tau = generator, generator.cfg.n_prev_frames
        self.cache = generator.encode_examples(example_rgb, example_semantic)
        self.prev_frames: Tensor | None = None  # x_{t-tau} … x_{t-1}: (B, <= tau, 3, H, W)
        self.prev_semantics: Tensor | None = None  # s_{t-tau} … s_{t-1}: (B, <= tau, C_s, H, W)

    def step(self, semantic: Tensor, synthesized: FrameOutput | None = None) -> FrameOutput:
        """Generate the next frame from its semantic map s_t (B, C_s, H, W).

        synthesized: ``generator.synthesize(semantic, self.cache)`` when it was computed ahead (it does not depend on
        earlier frames; inference runs it for several frames at once); only W/M (eq. 2-4) then runs here.
        """
        if synthesized is None:
            out = self.generator(semantic, self.prev_frames, self.prev_semantics, self.cache)
        else:
            out = self.generator.matte(synthesized, semantic, self.prev_frames, self.prev_semantics)
        self.prev_frames = append_history(self.prev_frames, out.frame.detach(), self.tau)
        self.prev_semantics = append_history(self.prev_semantics, semantic, self.tau)
        return out


@dataclass
class ClipOutput:
    """The generator's outputs for T frames, stacked on dim 1 (None where a quantity does not exist)."""

    frame: Tensor  # x_t: (B, T, 3, H, W)
    raw_prime: Tensor  # h'_t: (B, T, 3, H, W)
    raw: Tensor  # h_t, H's own image: (B, T, 3, H, W)
    example_index: Tensor  # (B, T) long: the example warped for each frame
    flow_prev: Tensor | None = None  # (B, T - 1, 2, H, W): frames t >= 1 only
    mask_prev: Tensor | None = None  # (B, T - 1, 1, H, W)
    flow_example: Tensor | None = None  # (B, T, E, 2, H, W), E warped examples per frame; None without the warp
    mask_example: Tensor | None = None  # (B, T, E, 1, H, W)
    warped_example: Tensor | None = None  # (B, T, E, 3, H, W)
    example_share: Tensor | None = None  # (B, T, E, 1, H, W): each warped example's part of h'_t


def generate_clip(generator: FewShotGenerator, semantic: Tensor, example_rgb: Tensor, example_semantic: Tensor
                  ) -> ClipOutput:
    """Run the generator over T frames. semantic: (B, T, C_s, H, W); examples as for :class:`Rollout`.

    ``synthesize`` runs once on the B * T frames (sample-major: row b * T + t), each sample's example cache repeated
    T times; ``matte`` then runs frame after frame, as in :meth:`Rollout.step`."""
    rollout = Rollout(generator, example_rgb, example_semantic)
    b, t = semantic.shape[:2]
    every = generator.synthesize(semantic.flatten(0, 1), repeat_samples(rollout.cache, t))
    outs = [rollout.step(semantic[:, i], synthesized=frame_of(every, b, t, i)) for i in range(t)]
    stacked = {}
    for f in fields(ClipOutput):
        values = [getattr(o, f.name) for o in outs if getattr(o, f.name) is not None]
        stacked[f.name] = torch.stack(values, dim=1) if values else None
    return ClipOutput(**stacked)


def repeat_samples(value: Any, times: int) -> Any:
    """Every tensor in ``value`` (a tensor, or lists and dataclasses of them: an ExampleCache) with each sample (dim
    0) repeated ``times`` times in a row: (B, ...) -> (B * times, ...)."""
    if isinstance(value, Tensor):
        return value.repeat_interleave(times, dim=0)
    if isinstance(value, list | tuple):
        return type(value)(repeat_samples(v, times) for v in value)
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(value, **{f.name: repeat_samples(getattr(value, f.name), times)
                                             for f in fields(value) if f.init})
    return value


def frame_of(out: FrameOutput, b: int, t: int, index: int) -> FrameOutput:
    """Frame ``index`` of a FrameOutput computed for B * T sample-major rows: every tensor (B * T, ...) -> (B, ...)."""
    return dataclasses.replace(out, **{f.name: getattr(out, f.name).unflatten(0, (b, t))[:, index]
                                       for f in fields(out) if getattr(out, f.name) is not None})


class ClipGenerator(nn.Module):
    """:func:`generate_clip` as a module, for DistributedDataParallel to wrap."""

    def __init__(self, generator: FewShotGenerator):
        super().__init__()
        self.generator = generator

    def forward(self, semantic: Tensor, example_rgb: Tensor, example_semantic: Tensor) -> ClipOutput:
        return generate_clip(self.generator, semantic, example_rgb, example_semantic)
