"""Numeric precision: fp32, or bf16 where the hardware runs it fast, and a generator prepared once for inference.

    precision = resolve_precision("auto", device)        # "bf16" on CPUs with AVX512-BF16/AMX and bf16 GPUs
    fast = inference_generator(generator, precision)     # spectral norm folded, weights cast once: not per frame

Measured on the 2-core AMD EPYC (avx512_bf16) machines this project runs on: a bf16 matmul runs 2.5-4x the fp32
rate, and the bundled dance-128 model stays about 54 dB PSNR from fp32 over a rollout (docs/performance.md).
On a CPU without native bf16, bf16 is emulated and slower than fp32, so "auto" picks fp32 there.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import parametrize

from fsvid2vid.errors import UserError
from fsvid2vid.models.generator import FewShotGenerator

PRECISIONS = ("auto", "fp32", "bf16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 in hardware (AVX512-BF16 or AMX; read from /proc/cpuinfo on Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def resolve_precision(name: str, device: torch.device | str) -> str:
    """"fp32" or "bf16" for ``name`` ("auto", "fp32", "bf16") on ``device``; one-line error for anything else."""
    if name not in PRECISIONS:
        raise UserError(f"unknown precision {name!r}: choose one of {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    device = torch.device(device)
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"


def fold_spectral_norm(generator: FewShotGenerator) -> FewShotGenerator:
    """A copy of ``generator`` (eval mode) whose spectrally normalised convolutions hold W / sigma as plain weights.

    In eval mode spectral norm divides by the same sigma on every call; folding it once saves that work per frame and
    gives the same outputs. The original is left as it is (it may still be finetuned).
    """
    generator.eval()
    state = generator.state_dict()
    for name, module in generator.named_modules():
        if parametrize.is_parametrized(module, "weight"):
            prefix = f"{name}." if name else ""
            with torch.no_grad():
                state[f"{prefix}weight"] = module.weight.detach().clone()  # W / sigma with the stored u, v
            for key in [k for k in state if k.startswith(f"{prefix}parametrizations.weight.")]:
                del state[key]
    with torch.device("meta"):  # no memory and no draw from the global RNG: every tensor comes from ``state``
        plain = FewShotGenerator(dataclasses.replace(generator.cfg, spectral_norm=False))
    plain.load_state_dict(state, strict=True, assign=True)
    return plain.eval()


def inference_generator(generator: FewShotGenerator, precision: str) -> FewShotGenerator:
    """``generator`` ready for fast inference at ``precision`` ("fp32" or "bf16"): folded and cast once, and
    keeping only the sums of E_A's attention, not alpha itself (set ``conditioning.keep_attention`` to see it)."""
    plain = fold_spectral_norm(generator)
    plain.conditioning.keep_attention = False
    for p in plain.parameters():
        p.requires_grad_(False)
    return plain.to(DTYPES[precision])


def module_dtype(module: nn.Module) -> torch.dtype:
    """The floating dtype of a module's parameters."""
    return next(p.dtype for p in module.parameters() if p.is_floating_point())
