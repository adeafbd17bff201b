"""Test-time finetuning on the given examples (the paper's optional step): only E and H change, W and M stay fixed.

Each step reconstructs one example frame from its own semantic map, conditioned on all K examples, after a shared
random horizontal shift (and, for the target, nothing else), with an L1 loss. The flow and mask networks (W, M for
the previous frame, W_e, M_e for the example warp) are frozen, as the paper states: "we only finetune the weight
generation module E and the intermediate image synthesis network H".
"""

from __future__ import annotations

import torch
from torch import nn

from fsvid2vid.models import FewShotGenerator

#: Top-level parts of the generator that finetuning updates: H and E (E_F, E_P, E_A; a baseline's conditioning).
FINETUNED_PARTS = ("synthesis", "conditioning")


def finetuned_parameters(generator: FewShotGenerator) -> list[nn.Parameter]:
    """The parameters of E and H."""
    return [p for name, p in generator.named_parameters() if name.split(".")[0] in FINETUNED_PARTS]


def finetune(generator: FewShotGenerator, example_rgb: torch.Tensor, example_semantic: torch.Tensor, steps: int,
             lr: float = 1e-4, seed: int = 0) -> list[float]:
    """Finetune E and H of ``generator`` in place on K examples for ``steps`` steps; returns the L1 per step.

    example_rgb: (K, 3, H, W) in [-1, 1]; example_semantic: (K, C_s, H, W).
    """
    if steps <= 0:
        return []
    params = finetuned_parameters(generator)
    frozen = [p for p in generator.parameters() if all(p is not q for q in params)]
    states = [p.requires_grad for p in frozen]
    for p in frozen:
        p.requires_grad_(False)
    opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(seed)
    k, _, _, w = example_rgb.shape
    losses = []
    generator.train()
    try:
        for _ in range(steps):
            target = int(torch.randint(k, (1,), generator=rng))
            shift = int(torch.randint(-w // 16, w // 16 + 1, (1,), generator=rng))
            rgb = torch.roll(example_rgb[target], shift, dims=-1)
            sem = torch.roll(example_semantic[target], shift, dims=-1)
            cache = generator.encode_examples(example_rgb[None], example_semantic[None])
            out = generator(sem[None], None, None, cache)
            loss = (out.frame[0] - rgb).abs().mean() + (out.raw[0] - rgb).abs().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    finally:
        generator.eval()
        for p, state in zip(frozen, states):
            p.requires_grad_(state)
    return losses
