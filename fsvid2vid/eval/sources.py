"""Where the subject's pixels come from: the warped previous frame, the warped examples or H's own image.

x_t = (1 - m_t) w(x_{t-1}) + m_t h'_t (eq. 2) and h'_t = e_t (the examples' warps) + (1 - e_t) h_t, where e_t is the
part of h'_t that the warped examples make (``FrameOutput.example_weight``; 0 without the example warp). So each
pixel of x_t mixes three sources with the weights 1 - m_t, m_t e_t and m_t (1 - e_t); the first frame has no previous
frame (m_1 = 1). Over the subject's pixels (fsvid2vid.eval.subject): each source's share, and the L1 against the truth
of x_t, h'_t, h_t and the warped previous frame, over all frames and over the front and back views
(:func:`fsvid2vid.eval.evaluate.view_frames`). The L1 is that of ``subject_l1``: images in [-1, 1], the mean over
channels and pixels.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from fsvid2vid.models import FrameOutput

SOURCES = ("previous_frame", "examples", "h")
IMAGES = {"frame": "x", "raw_prime": "h_prime", "raw": "h", "warped_prev": "warped_prev"}  # field -> key (l1_<key>)


def source_weights(out: FrameOutput) -> dict[str, torch.Tensor]:
    """Per pixel, how much of x_t each source makes (summing to 1): each (H, W) of batch item 0."""
    example = out.example_weight[0, 0].float() if out.example_weight is not None else torch.zeros_like(out.raw[0, 0])
    keep = out.mask_prev[0, 0].float() if out.mask_prev is not None else torch.ones_like(example)  # m_t
    return {"previous_frame": 1 - keep, "examples": keep * example, "h": keep * (1 - example)}


class SourceTally:
    """Sums over the subject's pixels of many frames, per group of frames ("all", "front", "back")."""

    def __init__(self):
        self.sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def add(self, out: FrameOutput, truth: torch.Tensor, subject: torch.Tensor, groups: list[str]) -> None:
        """One generated frame: ``out`` (batch of 1, as animate yields it), ``truth`` (3, H, W) in [-1, 1],
        ``subject`` (H, W) bool; ``groups``: the groups the frame belongs to."""
        n = int(subject.sum())
        if n == 0:
            return
        weights = source_weights(out)
        values = {f"share_{name}": float(w[subject].sum()) for name, w in weights.items()}
        for field, name in IMAGES.items():
            image = getattr(out, field)
            if image is not None:
                error = (image[0].float() - truth.float()).abs().mean(dim=0)[subject]
                values[f"l1_{name}"] = float(error.sum())
                values[f"pixels_{name}"] = float(n)
        for group in groups:
            self.sums[group]["pixels"] += n
            for key, value in values.items():
                self.sums[group][key] += value

    def result(self) -> dict[str, dict[str, float]]:
        """Per group: each source's share of the subject's pixels and each image's L1 there (None where no frame
        had that image, e.g. the warped previous frame on a one-frame clip); groups without subject pixels are left
        out."""
        out: dict[str, dict[str, float]] = {}
        for group, sums in self.sums.items():
            pixels = sums["pixels"]
            entry = {f"share_{name}": sums[f"share_{name}"] / pixels for name in SOURCES}
            for name in IMAGES.values():
                counted = sums.get(f"pixels_{name}", 0.0)
                entry[f"l1_{name}"] = sums[f"l1_{name}"] / counted if counted else None
            entry["pixels"] = int(pixels)
            out[group] = entry
        return out
