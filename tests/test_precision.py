"""Precision: spectral norm folded for inference, bf16 against fp32, and the per-device default."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fsvid2vid.data.encode import rgb_to_tensor, semantic_to_tensor
from fsvid2vid.data.semantics import task_layers
from fsvid2vid.data.synth import render_clip
from fsvid2vid.errors import UserError
from fsvid2vid.infer.synthesizer import DrivingFrame, Examples, Synthesizer
from fsvid2vid.models import FewShotGenerator, model_preset
from fsvid2vid.models.precision import cpu_has_native_bf16, fold_spectral_norm, resolve_precision
from fsvid2vid.models.rollout import generate_clip
from tests.conftest import ROOT


def test_folding_spectral_norm_keeps_the_outputs_and_the_global_rng():
    cfg = model_preset("dance", "tiny")
    torch.manual_seed(0)
    g = FewShotGenerator(cfg.generator).eval()
    assert any("parametrizations" in k for k in g.state_dict())
    state = torch.get_rng_state()
    plain = fold_spectral_norm(g)
    assert torch.equal(torch.get_rng_state(), state)  # building the copy draws nothing
    assert not any("parametrizations" in k for k in plain.state_dict())
    gen = torch.Generator().manual_seed(1)
    ex = torch.rand(2, 2, 3, cfg.height, cfg.width, generator=gen) * 2 - 1
    ex_sem = torch.rand(2, 2, cfg.generator.semantic_nc, cfg.height, cfg.width, generator=gen)
    sem = torch.rand(2, 3, cfg.generator.semantic_nc, cfg.height, cfg.width, generator=gen)
    with torch.no_grad():
        a = generate_clip(g, sem, ex, ex_sem).frame
        b = generate_clip(plain, sem, ex, ex_sem).frame
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert any("parametrizations" in k for k in g.state_dict())  # the original still trains and finetunes


def _dance_inputs(size: int, k: int = 2, frames: int = 8):
    layers = task_layers("dance")
    own = list(render_clip("dance", 1_000_003, 11, 20, size).frames)
    drive = list(render_clip("dance", 1_000_005, 12, frames, size).frames)
    picks = (2, 15, 8, 19)[:k]
    examples = Examples(torch.stack([rgb_to_tensor(own[i].rgb) for i in picks]),
                        torch.stack([semantic_to_tensor(own[i].layers, layers) for i in picks]),
                        [f"frame {i}" for i in picks])
    return examples, [DrivingFrame(semantic_to_tensor(f.layers, layers)) for f in drive]


def test_bf16_inference_of_the_bundled_model_stays_close_to_fp32():
    examples, driving = _dance_inputs(64)
    frames = {}
    for precision in ("fp32", "bf16"):
        synth = Synthesizer.from_checkpoint(ROOT / "models" / "dance-64.safetensors", precision=precision)
        assert synth.precision == precision
        out = list(synth.animate(examples, driving))
        frames[precision] = np.stack([o.rgb for o in out]).astype(np.float64)
        assert all(o.output.frame.dtype == torch.float32 for o in out)  # callers always get fp32
        shares = out[0].output.attention_share.sum(dim=1)  # over the examples: 1 at every position
        torch.testing.assert_close(shares, torch.ones_like(shares), rtol=0, atol=1e-5)
    mse = np.mean((frames["fp32"] - frames["bf16"]) ** 2)
    assert 10 * np.log10(255**2 / mse) > 30  # about 54 dB on the 128 px model (docs/performance.md)


def test_finetuning_drops_the_folded_copy_so_animate_uses_the_new_weights():
    examples, driving = _dance_inputs(64, k=1, frames=2)
    synth = Synthesizer.from_checkpoint(ROOT / "models" / "dance-64.safetensors", precision="fp32")
    before = [o.rgb for o in synth.animate(examples, driving)]
    synth.finetune(examples, steps=2, lr=1e-3)
    after = [o.rgb for o in synth.animate(examples, driving)]
    assert not np.array_equal(before[0], after[0])


def test_precision_names_and_the_per_device_default():
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_has_native_bf16() else "fp32")
    with pytest.raises(UserError, match="unknown precision 'half'"):
        resolve_precision("half", "cpu")
