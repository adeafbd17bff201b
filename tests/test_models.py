"""The networks: shapes, gradients, invariances over the examples, warping, caching, presets, discriminators."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from fsvid2vid.errors import UserError
from fsvid2vid.models import (
    CONDITIONINGS,
    FewShotGenerator,
    ImageDiscriminator,
    ModelConfig,
    TemporalDiscriminator,
    model_preset,
    task_frame_size,
    task_spec,
    warp,
)
from fsvid2vid.models.rollout import Rollout, generate_clip
from fsvid2vid.models.weights import attention_weights

TASKS = ("dance", "face", "street")
# The conditionings, and the paper's method with region pooling (with and without attention).
VARIANTS = {**{c: {"conditioning": c} for c in CONDITIONINGS},
            "ours_regions": {"example_pooling": "regions", "pooling_regions": 3},
            "ours_regions_uniform": {"example_pooling": "regions", "pooling_regions": 3, "attention": False},
            "ours_attention_warp": {"example_warp": "attention"},
            "ours_aligned": {"example_pooling": "regions", "pooling_regions": 3, "example_aligned": True}}


def tiny(task: str = "dance", **generator_overrides) -> ModelConfig:
    cfg = model_preset(task, "tiny")
    cfg.generator = dataclasses.replace(cfg.generator, **generator_overrides)
    return cfg


def inputs(cfg: ModelConfig, batch: int, k: int, n_frames: int = 2, seed: int = 0):
    """Random examples (B, K, ...) and a clip of semantic maps (B, T, C_s, H, W)."""
    g = torch.Generator().manual_seed(seed)
    h, w, c_s = cfg.height, cfg.width, cfg.generator.semantic_nc
    example_rgb = torch.rand(batch, k, 3, h, w, generator=g) * 2 - 1
    example_semantic = torch.rand(batch, k, c_s, h, w, generator=g)
    semantics = torch.rand(batch, n_frames, c_s, h, w, generator=g)
    return example_rgb, example_semantic, semantics


def run_clip(model: FewShotGenerator, example_rgb, example_semantic, semantics, cache_once: bool = True):
    """Generate every frame of ``semantics`` (B, T, C_s, H, W) with the shared rollout; returns the FrameOutputs.

    ``cache_once`` False encodes the examples again before every frame."""
    rollout = Rollout(model, example_rgb, example_semantic)
    outputs = []
    for t in range(semantics.shape[1]):
        if not cache_once:
            rollout.cache = model.encode_examples(example_rgb, example_semantic)
        outputs.append(rollout.step(semantics[:, t]))
    return outputs


def eval_model(cfg: ModelConfig) -> FewShotGenerator:
    torch.manual_seed(0)
    return FewShotGenerator(cfg.generator).eval()


# ----------------------------------------------------------------------------------------------------------------
# Generator: shapes, range, gradients
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("conditioning", VARIANTS)
@pytest.mark.parametrize("task", TASKS)
def test_two_frames_shapes_range_and_every_parameter_gets_a_gradient(task, conditioning):
    cfg = tiny(task, **VARIANTS[conditioning])
    torch.manual_seed(0)
    model = FewShotGenerator(cfg.generator).train()
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=2)
    first, second = run_clip(model, example_rgb, example_semantic, semantics)

    b, h, w = 2, cfg.height, cfg.width
    for out in (first, second):
        for image in (out.frame, out.raw, out.raw_prime):
            assert image.shape == (b, 3, h, w)
            assert image.min() >= -1 and image.max() <= 1
        assert out.example_index.shape == (b,)
    assert first.flow_prev is None and first.mask_prev is None  # the first frame: x_1 = h'_1
    assert second.flow_prev.shape == (b, 2, h, w) and second.mask_prev.shape == (b, 1, h, w)
    assert second.warped_prev.shape == (b, 3, h, w)
    if cfg.generator.warp_example:
        e = 2 if cfg.generator.example_warp == "attention" else 1  # every example, or the argmax one
        assert second.flow_example.shape == (b, e, 2, h, w) and second.warped_example.shape == (b, e, 3, h, w)
        assert second.example_share.shape == (b, e, 1, h, w)
        assert torch.allclose(second.example_share.sum(1), torch.ones(b, 1, h, w), atol=1e-5)
    else:
        assert second.flow_example is None and torch.equal(second.raw_prime, second.raw)
    if cfg.generator.conditioning == "ours" and cfg.generator.attention:
        assert second.attention.shape[0] == b and second.attention.shape[3] == 2

    (first.frame.square().mean() + second.frame.square().mean()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"


@pytest.mark.parametrize("conditioning", VARIANTS)
def test_clip_synthesised_in_one_batch_equals_frame_after_frame(conditioning):
    """generate_clip runs E and H once on all B * T frames (training's path): the same frames, flows and attention as
    the rollout one frame at a time, and the same gradients for E's and H's parameters."""
    gated = dict(example_gate=True, example_alignment="parts", example_mask="labels")
    cfg = tiny("dance", **VARIANTS[conditioning], **(gated if conditioning == "ours_attention_warp" else {}))
    cfg.generator.spectral_norm = False  # its power iteration would advance once per call, T times frame by frame
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=2, n_frames=3)
    semantics = semantics.softmax(dim=2)  # one-hot-like maps, so that the part alignment has parts to move
    clip = generate_clip(model, semantics, example_rgb, example_semantic)
    outs = run_clip(model, example_rgb, example_semantic, semantics)
    for t, out in enumerate(outs):
        for name in ("frame", "raw", "raw_prime", "example_index", "flow_example", "attention_share"):
            a, b = getattr(clip, name, None), getattr(out, name)
            if b is not None and a is not None:
                assert torch.allclose(a[:, t].float(), b.float(), atol=1e-5), (name, t)
    for name in ("flow_prev", "mask_prev"):
        a = getattr(clip, name)
        b = torch.stack([getattr(o, name) for o in outs[1:]], dim=1)
        assert torch.allclose(a, b, atol=1e-5), name

    grads = []
    for batched in (True, False):
        model.zero_grad()
        frames = (generate_clip(model, semantics, example_rgb, example_semantic).frame if batched else
                  torch.stack([o.frame for o in run_clip(model, example_rgb, example_semantic, semantics)], dim=1))
        frames.square().mean().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for n in grads[0]:
        assert torch.allclose(grads[0][n], grads[1][n], atol=1e-5, rtol=1e-4), n


def test_tiny_forward_is_fast():
    cfg = tiny("street")  # the widest task frame at 64 px: 64 x 128
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=1)
    times = []
    with torch.no_grad():
        run_clip(model, example_rgb, example_semantic, semantics)  # warm-up
        for _ in range(5):  # the fastest of 5: robust to other processes on a shared machine
            start = time.perf_counter()
            run_clip(model, example_rgb, example_semantic, semantics)
            times.append((time.perf_counter() - start) / semantics.shape[1])
    assert min(times) < 0.5


def test_frame_sizes_not_divisible_by_the_downsampling():
    cfg = tiny("dance")
    cfg.height, cfg.width = 50, 38  # 50 -> 25 -> 13 -> 7; 38 -> 19 -> 10 -> 5
    model = eval_model(cfg)
    with torch.no_grad():
        outputs = run_clip(model, *inputs(cfg, batch=1, k=2))
    assert outputs[-1].frame.shape == (1, 3, 50, 38)


def test_dtype_follows_the_model_and_inputs():
    cfg = tiny("face")
    model = eval_model(cfg).double()
    example_rgb, example_semantic, semantics = (x.double() for x in inputs(cfg, batch=1, k=2))
    with torch.no_grad():
        outputs = run_clip(model, example_rgb, example_semantic, semantics)
    assert outputs[-1].frame.dtype == torch.float64


# ----------------------------------------------------------------------------------------------------------------
# Generator: the examples
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("conditioning", VARIANTS)
@pytest.mark.parametrize("task", TASKS)
def test_permuting_the_examples_leaves_the_output_unchanged(task, conditioning):
    cfg = tiny(task, **VARIANTS[conditioning])
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=3)
    order = torch.tensor([2, 0, 1])
    with torch.no_grad():
        reference = run_clip(model, example_rgb, example_semantic, semantics)
        permuted = run_clip(model, example_rgb[:, order], example_semantic[:, order], semantics)
    for a, b in zip(reference, permuted):
        torch.testing.assert_close(a.frame, b.frame, atol=1e-5, rtol=1e-5)
        assert torch.equal(order[b.example_index], a.example_index)  # the same example is warped


@pytest.mark.parametrize("conditioning", VARIANTS)
@pytest.mark.parametrize("task", TASKS)
def test_k_copies_of_one_example_give_the_single_example_output(task, conditioning):
    cfg = tiny(task, **VARIANTS[conditioning])
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=1)
    copies = 4
    with torch.no_grad():
        single = run_clip(model, example_rgb, example_semantic, semantics)
        repeated = run_clip(model, example_rgb.repeat(1, copies, 1, 1, 1), example_semantic.repeat(1, copies, 1, 1, 1),
                            semantics)
    for a, b in zip(single, repeated):
        torch.testing.assert_close(a.frame, b.frame, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("conditioning", VARIANTS)
@pytest.mark.parametrize("task", TASKS)
def test_each_sample_uses_its_own_examples(task, conditioning):
    cfg = tiny(task, **VARIANTS[conditioning])
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=2)
    other_rgb, other_semantic, _ = inputs(cfg, batch=2, k=2, seed=1)
    example_rgb2, example_semantic2 = example_rgb.clone(), example_semantic.clone()
    example_rgb2[1], example_semantic2[1] = other_rgb[1], other_semantic[1]  # only sample 1's examples change
    with torch.no_grad():
        before = run_clip(model, example_rgb, example_semantic, semantics)
        after = run_clip(model, example_rgb2, example_semantic2, semantics)
    for a, b in zip(before, after):
        torch.testing.assert_close(a.frame[0], b.frame[0], atol=1e-6, rtol=1e-6)  # sample 0 untouched
        assert not torch.allclose(a.raw[1], b.raw[1], atol=1e-4)  # sample 1 follows its new examples


def test_attention_rows_sum_to_one_and_follow_the_query():
    cfg = tiny("dance")
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=3)
    with torch.no_grad():
        out = run_clip(model, example_rgb, example_semantic, semantics)[-1]
    b, h_a, w_a, k = out.attention.shape[:4]
    assert (b, k) == (2, 3) and out.attention.shape[4:] == (h_a, w_a)
    rows = out.attention.reshape(b, h_a * w_a, -1).sum(dim=-1)
    torch.testing.assert_close(rows, torch.ones_like(rows))

    # A key equal to a scaled query wins: softmax over all K * N positions jointly.
    query = torch.randn(1, 4, 2, 2)
    keys = torch.randn(1, 2, 4, 2, 2)
    keys[0, 1] = 50 * query[0]
    alpha = attention_weights(query, keys)  # (1, 4, 8)
    assert alpha[0, :, 4:].sum() > 0.99 * alpha.sum()


def test_attention_sums_computed_a_chunk_of_rows_at_a_time_match_the_whole_matrix():
    """attend() never forms alpha unless asked: its mass, shares and region mass, summed chunk by chunk (here 1 to 3
    target rows at a time), equal those of the whole matrix, gradients included."""
    from fsvid2vid.models.weights import attend, region_mass

    b, k, c, h, w = 2, 3, 4, 3, 2
    query = torch.randn(b, c, h, w, requires_grad=True)
    keys = torch.randn(b, k, c, h, w)
    regions = torch.softmax(torch.randn(b, 5, h, w), dim=1)
    alpha = attention_weights(query, keys)  # (B, N, K * N), the whole matrix
    whole = {"mass": alpha.mean(dim=1).view(b, k, h, w),
             "share": alpha.unflatten(2, (k, h * w)).sum(dim=3).transpose(1, 2).reshape(b, k, h, w),
             "region_mass": region_mass(regions, alpha, k)}
    by_definition = torch.einsum("bim,bri->bmr", alpha, regions.flatten(2)) / (h * w)  # mean_i alpha[i, m] rho[r, i]
    torch.testing.assert_close(whole["region_mass"], by_definition.view(b, k, h, w, -1).permute(0, 1, 4, 2, 3))
    for rows in (1, 2, 3):
        chunked = attend(query, keys, regions, chunk_elements=rows * k * h * w)
        assert chunked.alpha is None
        for name, value in whole.items():
            torch.testing.assert_close(getattr(chunked, name), value)
        grad, = torch.autograd.grad(chunked.region_mass[:, 0].sum() + chunked.mass[:, 1].sum(), query)
        expected, = torch.autograd.grad(whole["region_mass"][:, 0].sum() + whole["mass"][:, 1].sum(), query,
                                        retain_graph=True)
        torch.testing.assert_close(grad, expected)
    torch.testing.assert_close(attend(query, keys, keep_alpha=True, chunk_elements=k * h * w).alpha, alpha)
    torch.testing.assert_close(whole["share"].sum(dim=1), torch.ones(b, h, w))


def test_attend_carries_values_by_the_whole_matrix_a_chunk_at_a_time():
    """attend()'s aligned values are sum_(k,j) alpha[i, (k, j)] v_k[j], chunked or not, gradients included; a value
    constant over all example positions arrives unchanged everywhere (each row of alpha sums to 1)."""
    from fsvid2vid.models.weights import attend

    b, k, c, h, w, c_v = 2, 3, 4, 3, 2, 5
    query = torch.randn(b, c, h, w, requires_grad=True)
    keys, values = torch.randn(b, k, c, h, w), torch.randn(b, k, c_v, h, w)
    alpha = attention_weights(query, keys)  # (B, N, K * N)
    by_definition = (alpha @ values.flatten(3).transpose(2, 3).reshape(b, k * h * w, c_v)).transpose(1, 2)
    by_definition = by_definition.reshape(b, c_v, h, w)
    for rows in (1, 2, h * w):
        aligned = attend(query, keys, chunk_elements=rows * k * h * w, values=values).aligned
        torch.testing.assert_close(aligned, by_definition)
        grad, = torch.autograd.grad(aligned[:, 1].sum(), query)
        expected, = torch.autograd.grad(by_definition[:, 1].sum(), query, retain_graph=True)
        torch.testing.assert_close(grad, expected)
    constant = torch.full((b, k, 1, h, w), 0.25)
    torch.testing.assert_close(attend(query, keys, values=constant).aligned, torch.full((b, 1, h, w), 0.25))
    assert attend(query, keys).aligned is None


@pytest.mark.parametrize("width", [0, 2])
def test_aligned_examples_reach_h_and_repeating_an_example_changes_nothing(width):
    """example_aligned (all of q, or ``aligned_width`` projected channels): H's own image depends on the example's
    pixels through the carried look (a gradient reaches the example image even with theta_H held fixed), and a set of
    the same example twice carries the same look as the example once (the attention splits evenly between the
    copies), so h_t is the same."""
    cfg = tiny("dance", example_pooling="regions", pooling_regions=3, example_aligned=True, aligned_width=width)
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=1)
    example_rgb.requires_grad_(True)
    cache = model.encode_examples(example_rgb, example_semantic)
    cond = model.conditioning(semantics[:, 0], cache.code)
    assert cond.aligned.shape[1] == cfg.generator.aligned_channels
    frozen = [dataclasses.replace(level, shared=dataclasses.replace(level.shared, weight=level.shared.weight.detach(),
                                                                   bias=level.shared.bias.detach()),
                                  norm_in=dataclasses.replace(level.norm_in, weight=level.norm_in.weight.detach(),
                                                              bias=level.norm_in.bias.detach()),
                                  norm_mid=dataclasses.replace(level.norm_mid, weight=level.norm_mid.weight.detach(),
                                                               bias=level.norm_mid.bias.detach()))
              for level in cond.theta]
    h = model.synthesis(semantics[:, 0], dataclasses.replace(cond, theta=frozen))
    grad, = torch.autograd.grad(h.sum(), example_rgb)
    assert grad.abs().sum() > 0
    with torch.no_grad():
        once = model.synthesize(semantics[:, 0], model.encode_examples(example_rgb, example_semantic)).raw
        twice = model.synthesize(semantics[:, 0], model.encode_examples(example_rgb.repeat(1, 2, 1, 1, 1),
                                                                        example_semantic.repeat(1, 2, 1, 1, 1))).raw
    torch.testing.assert_close(twice, once, atol=1e-5, rtol=1e-4)


def test_example_aligned_needs_the_attention_of_ours():
    for overrides in ({"conditioning": "adain"}, {"attention": False}):
        with pytest.raises(UserError, match="example_aligned needs E_A"):
            tiny("dance", example_aligned=True, **overrides)
    with pytest.raises(UserError, match="aligned_width must be >= 0"):
        tiny("dance", example_aligned=True, aligned_width=-1)
    assert tiny("dance", example_aligned=True, aligned_width=2).generator.aligned_channels == 3 + 2


def test_region_pooling_gives_each_target_region_the_features_its_attention_points_at():
    """With a one-hot target region map and attention from region-0 positions onto example 1 only, region 0's pooled
    code is example 1's mean feature over the attended positions; the mass of all regions sums to 1."""
    from fsvid2vid.models.weights import pool_examples, region_mass, uniform_mass

    b, k, c, h, w = 1, 2, 3, 2, 2
    n = h * w
    q = torch.randn(b, k, c, h, w)
    regions = torch.zeros(b, 2, h, w)
    regions[:, 0, 0], regions[:, 1, 1] = 1, 1  # region 0: the top row of the target, region 1: the bottom row
    alpha = torch.zeros(b, n, k * n)
    alpha[:, :2, n:] = 1 / n  # the top row attends uniformly to every position of example 1
    alpha[:, 2:, :n] = 1 / n  # the bottom row to every position of example 0
    mass = region_mass(regions, alpha, k)
    assert mass.shape == (b, k, 2, h, w)
    torch.testing.assert_close(mass.sum(), torch.tensor(1.0))
    pooled = pool_examples(q, mass).view(b, c, 2)
    torch.testing.assert_close(pooled[..., 0], 0.5 * q[:, 1].mean(dim=(2, 3)))  # area share 0.5 times the mean
    torch.testing.assert_close(pooled[..., 1], 0.5 * q[:, 0].mean(dim=(2, 3)))
    # R = 1, uniform: the paper's average pooling over all examples and positions
    torch.testing.assert_close(pool_examples(q, uniform_mass(b, k, h, w, like=q)), q.mean(dim=(1, 3, 4)))
    # Pooling at another resolution than the mass keeps each region's total
    fine = torch.randn(b, k, c, 2 * h, 2 * w)
    torch.testing.assert_close(pool_examples(fine, uniform_mass(b, k, h, w, like=q)), fine.mean(dim=(1, 3, 4)))


@pytest.mark.parametrize(("conditioning", "attention"), [(c, True) for c in CONDITIONINGS] + [("ours", False)])
@pytest.mark.parametrize("task", TASKS)
def test_cached_examples_give_the_same_frames_as_recomputing(task, conditioning, attention):
    cfg = tiny(task, conditioning=conditioning, attention=attention)
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=2, n_frames=3)
    with torch.no_grad():
        cached = run_clip(model, example_rgb, example_semantic, semantics, cache_once=True)
        recomputed = run_clip(model, example_rgb, example_semantic, semantics, cache_once=False)
    for a, b in zip(cached, recomputed):
        assert torch.equal(a.frame, b.frame)
    if conditioning == "ours":
        cache = model.encode_examples(example_rgb, example_semantic)
        assert (cache.code.theta is not None) == (not attention)  # without attention theta_H itself is cached


def test_more_previous_frames_than_tau_and_fewer():
    """F takes any number of previous frames: fewer than tau are padded with the oldest, more are cut to the last."""
    cfg = tiny("face", n_prev_frames=2)
    model = eval_model(cfg)
    example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=1, n_frames=4)
    frames = torch.rand(1, 3, 3, cfg.height, cfg.width) * 2 - 1
    cache = model.encode_examples(example_rgb, example_semantic)
    with torch.no_grad():
        one = model(semantics[:, 3], frames[:, -1:], semantics[:, 2:3], cache).frame
        padded = model(semantics[:, 3], frames[:, [-1, -1]], semantics[:, [2, 2]], cache).frame
        three = model(semantics[:, 3], frames, semantics[:, :3], cache).frame
        last_two = model(semantics[:, 3], frames[:, 1:], semantics[:, 1:3], cache).frame
    assert torch.equal(one, padded) and torch.equal(three, last_two)


# ----------------------------------------------------------------------------------------------------------------
# Warping
# ----------------------------------------------------------------------------------------------------------------


def test_warp_with_zero_flow_is_the_identity():
    image = torch.randn(2, 3, 9, 13)
    torch.testing.assert_close(warp(image, torch.zeros(2, 2, 9, 13)), image, atol=1e-5, rtol=0)


@pytest.mark.parametrize(("dx", "dy"), [(2, 0), (0, -3), (1, 2)])
def test_warp_with_constant_flow_shifts_by_that_many_pixels(dx, dy):
    image = torch.randn(1, 3, 16, 20)
    flow = torch.empty(1, 2, 16, 20)
    flow[:, 0], flow[:, 1] = dx, dy
    out = warp(image, flow)
    # out[y, x] = image[y + dy, x + dx] wherever the source lies inside the image.
    ys, xs = slice(max(0, -dy), 16 - max(0, dy)), slice(max(0, -dx), 20 - max(0, dx))
    src_ys, src_xs = slice(ys.start + dy, ys.stop + dy), slice(xs.start + dx, xs.stop + dx)
    torch.testing.assert_close(out[..., ys, xs], image[..., src_ys, src_xs], atol=1e-5, rtol=0)


@pytest.mark.parametrize(("height", "width"), [(16, 20), (15, 21)])
def test_half_resolution_flow_is_upsampled_in_the_inputs_pixels(height, width):
    """flow_stride 2: a constant flow predicted at half resolution comes back as that many full-resolution pixels
    (scaled by (W - 1) / (w - 1) with corners aligned), at the input's size, and the mask stays in (0, 1)."""
    from fsvid2vid.models.flow import FlowMaskNet

    cfg = dataclasses.replace(tiny().generator, flow_stride=2)
    net = FlowMaskNet(5, cfg).eval()
    torch.nn.init.zeros_(net.flow_head.weight)
    with torch.no_grad():
        net.flow_head.bias.copy_(torch.tensor([0.5, -0.25]))  # times flow_scale, in half-resolution pixels
    flow, mask = net(torch.randn(2, 5, height, width))
    assert flow.shape == (2, 2, height, width) and mask.shape == (2, 1, height, width)
    small_h, small_w = (height + 1) // 2, (width + 1) // 2
    expected = (0.5 * cfg.flow_scale * (width - 1) / (small_w - 1),
                -0.25 * cfg.flow_scale * (height - 1) / (small_h - 1))
    torch.testing.assert_close(flow[:, 0], torch.full_like(flow[:, 0], expected[0]), atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(flow[:, 1], torch.full_like(flow[:, 1], expected[1]), atol=1e-4, rtol=1e-5)
    assert 0 < mask.min() and mask.max() < 1


def test_half_resolution_flow_trains_and_quarters_the_flow_networks_flops():
    from torch.utils.flop_counter import FlopCounterMode

    flops = {}
    for stride in (1, 2):
        cfg = tiny(flow_stride=stride)
        torch.manual_seed(0)
        model = FewShotGenerator(cfg.generator)
        example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=2)
        with FlopCounterMode(display=False) as counter:
            outputs = run_clip(model, example_rgb, example_semantic, semantics)
        flops[stride] = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
        outputs[-1].frame.mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all()
                   for name, p in model.named_parameters() if name.startswith("flow_prev."))
    assert flops[2]["FewShotGenerator.flow_prev"] < 0.35 * flops[1]["FewShotGenerator.flow_prev"]
    with pytest.raises(UserError, match="flow_stride"):
        tiny(flow_stride=3)


def test_attention_warp_with_one_example_is_eq_11():
    """K = 1: warping 'every example' mixed by attention is the paper's eq. 11 on the one example."""
    torch.manual_seed(0)
    argmax_model = FewShotGenerator(tiny().generator).eval()
    attention_model = FewShotGenerator(tiny(example_warp="attention").generator).eval()
    attention_model.load_state_dict(argmax_model.state_dict())
    example_rgb, example_semantic, semantics = inputs(tiny(), batch=2, k=1)
    with torch.no_grad():
        for a, b in zip(run_clip(argmax_model, example_rgb, example_semantic, semantics),
                        run_clip(attention_model, example_rgb, example_semantic, semantics), strict=True):
            torch.testing.assert_close(a.frame, b.frame)


def test_agreement_mix_takes_h_only_where_no_example_agrees():
    from fsvid2vid.models.generator import agreement_mix

    b, e, h, w = 1, 3, 4, 6
    share = torch.softmax(torch.randn(b, e, 1, h, w), dim=1)
    warped = torch.rand(b, e, 3, h, w)
    raw = torch.rand(b, 3, h, w)
    mask = torch.ones(b, e, 1, h, w)  # columns 0-1: none agrees
    mask[:, 1, :, :, 2:4] = 0  # columns 2-3: only example 1 agrees
    mask[:, :, :, :, 4:] = 0  # columns 4-5: all agree
    out = agreement_mix(share, mask, warped, raw)
    torch.testing.assert_close(out[..., :2], raw[..., :2])
    torch.testing.assert_close(out[..., 2:4], warped[:, 1, :, :, 2:4])  # whatever its share
    torch.testing.assert_close(out[..., 4:], (share * warped).sum(dim=1)[..., 4:])  # the attention's mix
    one = agreement_mix(torch.ones(b, 1, 1, h, w), torch.full((b, 1, 1, h, w), 0.3), warped[:, :1], raw)  # eq. 11
    torch.testing.assert_close(one, 0.7 * warped[:, 0] + 0.3 * raw)


def test_agreement_mix_with_one_example_is_the_share_mix_and_differs_with_two():
    torch.manual_seed(0)
    cfg = tiny(example_warp="attention", example_gate=True, example_mask="labels", example_mix="share")
    share_model = FewShotGenerator(cfg.generator).eval()
    agree_model = FewShotGenerator(tiny(example_warp="attention", example_gate=True, example_mask="labels",
                                        example_mix="agreement").generator).eval()
    agree_model.load_state_dict(share_model.state_dict())
    with torch.no_grad():
        for k, same in ((1, True), (2, False)):
            example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=k)
            a = run_clip(share_model, example_rgb, example_semantic, semantics)[-1].frame
            b = run_clip(agree_model, example_rgb, example_semantic, semantics)[-1].frame
            assert torch.allclose(a, b, atol=1e-5) == same
    with pytest.raises(UserError, match="example_mix"):
        tiny(example_mix="max")


def test_attention_warp_trains_the_attention_towards_the_example_whose_warp_is_right():
    """Example 0 is the target frame itself, example 1 another picture: with the attention warp, the warp loss alone
    moves E_A's attention onto example 0; with the paper's argmax warp the same loss gives E_A no gradient."""
    cfg = tiny(example_warp="attention")
    torch.manual_seed(0)
    model = FewShotGenerator(cfg.generator).train()
    example_rgb, example_semantic, semantics = inputs(cfg, batch=2, k=2, n_frames=1)
    semantic, target = example_semantic[:, 0], example_rgb[:, 0]
    optimiser = torch.optim.Adam(model.conditioning.attention.parameters(), lr=1e-2)

    def share_of_example_0() -> tuple[Tensor, Tensor]:
        out = model(semantic, None, None, model.encode_examples(example_rgb, example_semantic))
        error = (out.warped_example - target[:, None]).abs()
        return out.example_share[:, 0].mean(), (out.example_share * error).sum(1).mean()

    before, _ = share_of_example_0()
    for _ in range(30):
        optimiser.zero_grad()
        share, loss = share_of_example_0()
        loss.backward()
        optimiser.step()
    after, _ = share_of_example_0()
    assert before < 0.6 and after > before + 0.2, (before, after)

    argmax = FewShotGenerator(tiny().generator).train()
    out = argmax(semantic, None, None, argmax.encode_examples(example_rgb, example_semantic))
    (out.example_share * (out.warped_example - target[:, None]).abs()).sum(1).mean().backward()
    assert all(p.grad is None for p in argmax.conditioning.attention.parameters())


@pytest.mark.parametrize("example_warp", ["argmax", "attention"])
def test_example_gate_shows_the_room_behind_the_example_and_h_where_only_the_frame_has_the_subject(example_warp):
    """Identity warp; the examples' torso fills the left half, the frame's torso the right quarter. Where the example's
    subject lands on the frame's background, h'_t is the room around the example's subject (here one colour);
    where the frame shows its subject and the example does not, h'_t is h_t; where both show background, the
    warped example still shows through."""
    cfg = tiny("dance", example_gate=True, example_warp=example_warp)
    assert cfg.generator.gate_channels == list(range(3, 18))  # the 15 body-part channels after the pose image
    model = eval_model(cfg)
    h, w = cfg.height, cfg.width
    example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=2, n_frames=1)
    room = torch.tensor([0.2, -0.4, 0.6]).view(1, 1, 3, 1, 1)
    example_rgb[..., w // 2:] = room  # the room right of the examples' subject: one colour
    background, torso = torch.zeros(1, 15, h, w), torch.zeros(1, 15, h, w)
    background[:, 0], torso[:, 2] = 1, 1
    example_labels = torch.where(torch.arange(w) < w // 2, torso, background)
    frame_labels = torch.where(torch.arange(w) >= 3 * w // 4, torso, background)
    semantic = torch.cat((semantics[:, 0, :3], frame_labels), dim=1)
    example_semantic = torch.cat((example_semantic[:, :, :3], example_labels[:, None].expand(-1, 2, -1, -1, -1)), 2)
    torch.nn.init.zeros_(model.flow_example.flow_head.weight)  # the identity warp: labels stay where they are
    torch.nn.init.zeros_(model.flow_example.flow_head.bias)
    with torch.no_grad():
        out = model(semantic, None, None, model.encode_examples(example_rgb, example_semantic))
    behind_example = out.raw_prime[..., : w // 2 - 2]
    torch.testing.assert_close(behind_example, room[:, 0].expand_as(behind_example), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.raw_prime[..., 3 * w // 4:], out.raw[..., 3 * w // 4:])
    both_background = slice(w // 2 + 2, 3 * w // 4 - 1)
    assert (out.raw_prime[..., both_background] - out.raw[..., both_background]).abs().max() > 1e-3
    # eq. 2 keeps that room over the warped previous frame: m_t = 1 wherever h'_t is the room (room_weight 1), M's
    # mask elsewhere
    torch.testing.assert_close(out.room_weight[..., : w // 2 - 2], torch.ones_like(out.room_weight[..., : w // 2 - 2]))
    assert out.room_weight[..., 3 * w // 4:].abs().max() == 0
    previous = torch.rand(1, 1, 3, h, w) * 2 - 1
    with torch.no_grad():
        out = model(semantic, previous, semantics[:, :1], model.encode_examples(example_rgb, example_semantic))
        _, mask_of_m = model.flow_prev(torch.cat((semantic, semantics[:, 0], previous[:, 0]), dim=1))
    torch.testing.assert_close(out.frame[..., : w // 2 - 2], out.raw_prime[..., : w // 2 - 2])
    torch.testing.assert_close(out.mask_prev[..., 3 * w // 4:], mask_of_m[..., 3 * w // 4:])
    # example_mask "labels": the rule alone, M_e not asked: where the labels agree, h'_t is the warped example itself
    rule = FewShotGenerator(dataclasses.replace(cfg.generator, example_mask="labels")).eval()
    rule.load_state_dict(model.state_dict())
    with torch.no_grad():
        out = rule(semantic, None, None, rule.encode_examples(example_rgb, example_semantic))
    torch.testing.assert_close(out.raw_prime[..., both_background], example_rgb[:, 0, ..., both_background])
    torch.testing.assert_close(out.raw_prime[..., 3 * w // 4:], out.raw[..., 3 * w // 4:])
    with pytest.raises(UserError, match="example_mask"):
        tiny("dance", example_mask="labels")
    with pytest.raises(UserError, match="example_gate"):
        tiny("face", example_gate=True)
    with pytest.raises(UserError, match="example_warp"):
        tiny("dance", example_warp="attention", conditioning="adain")


def _part_labels(rects: dict[int, tuple[int, int, int, int]], h: int = 64, w: int = 48) -> Tensor:
    """(1, 15, h, w) one-hot dance part map: background, and each part a rectangle (x0, y0, x1, y1)."""
    labels = torch.zeros(1, 15, h, w)
    labels[:, 0] = 1
    for part, (x0, y0, x1, y1) in rects.items():
        labels[:, :, y0:y1, x0:x1] = 0
        labels[:, part, y0:y1, x0:x1] = 1
    return labels


def _parts_inputs(cfg: ModelConfig, frame_rects: dict, example_rects: dict) -> tuple[Tensor, Tensor, Tensor]:
    """(s_t, example_rgb, example_semantic) for one example: random maps whose part layers are the rectangles."""
    example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=1, n_frames=1)
    semantic = torch.cat((semantics[:, 0, :3], _part_labels(frame_rects)), dim=1)
    example_semantic = torch.cat((example_semantic[:, :, :3], _part_labels(example_rects)[:, None]), dim=2)
    return semantic, example_rgb, example_semantic


def test_part_flow_carries_each_part_of_the_example_onto_the_frames_part():
    """A body moved by (5, 3) px with its arm stretched to twice the length and its lower arm missing from the
    example: the torso and head flow by exactly (5, 3), the arm's pixels land on the example's arm (scaled along
    its axis), the lower arm (absent in the example) and the background keep a zero flow."""
    from fsvid2vid.data.semantics import DANCE_PART_PARENTS
    from fsvid2vid.models.alignment import part_flow

    frame = _part_labels({1: (20, 10, 28, 19), 2: (18, 20, 30, 38), 3: (30, 20, 34, 30), 4: (30, 30, 34, 40)})
    example = _part_labels({1: (25, 13, 33, 22), 2: (23, 23, 35, 41), 3: (35, 23, 39, 43)})
    flow = part_flow(frame, example, list(DANCE_PART_PARENTS))
    torch.testing.assert_close(flow[0, :, 25, 22], torch.tensor([5.0, 3.0]))  # torso
    torch.testing.assert_close(flow[0, :, 14, 24], torch.tensor([5.0, 3.0]))  # head
    assert flow[0, :, 35, 32].abs().max() == 0 and flow[0, :, 2, 2].abs().max() == 0  # lower arm, background
    warped = warp(example, flow)
    arm = frame[0, 3] > 0
    assert (warped[0, 3][arm] > 0.5).float().mean() > 0.9  # the frame's arm pixels now show the example's arm
    assert (warped[0, 2][frame[0, 2] > 0] > 0.99).all()  # the torso lands exactly on the torso


def test_part_flow_is_its_definition_at_every_pixel():
    """The matrix form of part_flow against the docstring's definition, pixel by pixel: a frame pixel x of part p
    goes to c_e + a s_e,u u_e + b s_e,v v_e with (a, b) its coordinates in the frame's axes of part p."""
    from fsvid2vid.data.semantics import DANCE_PART_PARENTS
    from fsvid2vid.models.alignment import part_axes, part_flow

    parents = list(DANCE_PART_PARENTS)
    frame = _part_labels({1: (20, 10, 28, 19), 2: (18, 20, 30, 38), 3: (30, 20, 34, 30), 5: (12, 22, 17, 36)})
    example = _part_labels({1: (25, 13, 31, 21), 2: (21, 23, 35, 43), 3: (35, 28, 45, 33), 5: (14, 20, 18, 40)})
    flow = part_flow(frame, example, parents)
    c_t, u_t, v_t, s_t, _ = part_axes(frame, parents)
    c_e, u_e, v_e, s_e, _ = part_axes(example, parents)
    for y, x in [(12, 22), (15, 27), (25, 20), (37, 29), (22, 31), (29, 33), (23, 13), (35, 16)]:
        part = int(frame[0, :, y, x].argmax())
        d = torch.tensor([float(x), float(y)]) - c_t[0, part]
        a, b = d @ u_t[0, part] / s_t[0, part, 0], d @ v_t[0, part] / s_t[0, part, 1]
        target = c_e[0, part] + a * s_e[0, part, 0] * u_e[0, part] + b * s_e[0, part, 1] * v_e[0, part]
        torch.testing.assert_close(flow[0, :, y, x], target - torch.tensor([float(x), float(y)]), atol=1e-3,
                                   rtol=1e-4)


def test_facing_tells_front_from_back_by_where_the_left_parts_lie():
    """Seen from the front the subject's left arm and leg lie right of its right ones in the image: facing > 0;
    mirrored (from behind) < 0; a subject with one side hidden is not told (0)."""
    from fsvid2vid.data.semantics import DANCE_PART_SIDES
    from fsvid2vid.models.alignment import FACING_MARGIN, facing, seen_from_opposite_sides

    front = _part_labels({2: (18, 20, 30, 38), 3: (10, 20, 17, 34), 6: (31, 20, 38, 34), 9: (19, 39, 23, 60),
                          12: (25, 39, 29, 60)})  # torso, right upper arm (image left), left upper arm, legs
    back = _part_labels({2: (18, 20, 30, 38), 6: (10, 20, 17, 34), 3: (31, 20, 38, 34), 12: (19, 39, 23, 60),
                         9: (25, 39, 29, 60)})
    one_side = _part_labels({2: (18, 20, 30, 38), 3: (10, 20, 17, 34)})
    f = facing(torch.cat((front, back, one_side)), list(DANCE_PART_SIDES))
    assert f[0] > FACING_MARGIN and f[1] < -FACING_MARGIN and f[2] == 0
    torch.testing.assert_close(f[0], -f[1])
    opposite = seen_from_opposite_sides(torch.cat((back, front, back)), torch.cat((front, front, one_side)),
                                        list(DANCE_PART_SIDES))
    assert opposite.tolist() == [True, False, False]


def test_example_facing_hands_a_turned_subjects_torso_and_head_to_h():
    """One example seen from the front, a frame seen from behind, the same body: with example_facing the frame's torso
    and head are h_t's (their back is not the example's front), the arms still the example's; without it, and for a
    frame seen from the front, the torso is the warped example's. The flag needs the gate and the parts' sides."""
    body = {1: (20, 8, 28, 17), 2: (18, 20, 30, 38)}
    front = {**body, 3: (10, 20, 17, 34), 6: (31, 20, 38, 34)}
    back = {**body, 6: (10, 20, 17, 34), 3: (31, 20, 38, 34)}
    torso, arm = (slice(22, 36), slice(20, 28)), (slice(22, 32), slice(11, 16))
    cfg = tiny("dance", example_alignment="parts_only", example_gate=True, example_mask="labels", example_facing=True)
    model = eval_model(cfg)
    blind = FewShotGenerator(dataclasses.replace(cfg.generator, example_facing=False)).eval()
    blind.load_state_dict(model.state_dict())
    semantic, example_rgb, example_semantic = _parts_inputs(cfg, back, front)
    with torch.no_grad():
        out = model(semantic, None, None, model.encode_examples(example_rgb, example_semantic))
        seen = blind(semantic, None, None, blind.encode_examples(example_rgb, example_semantic))
    torch.testing.assert_close(out.raw_prime[..., torso[0], torso[1]], out.raw[..., torso[0], torso[1]])
    torch.testing.assert_close(out.raw_prime[..., 10:15, 22:26], out.raw[..., 10:15, 22:26])  # the head
    assert (out.raw_prime[..., arm[0], arm[1]] - out.raw[..., arm[0], arm[1]]).abs().max() > 1e-3
    assert (seen.raw_prime[..., torso[0], torso[1]] - seen.raw[..., torso[0], torso[1]]).abs().max() > 1e-3
    semantic, example_rgb, example_semantic = _parts_inputs(cfg, front, front)
    with torch.no_grad():
        same = model(semantic, None, None, model.encode_examples(example_rgb, example_semantic))
    assert (same.raw_prime[..., torso[0], torso[1]] - same.raw[..., torso[0], torso[1]]).abs().max() > 1e-3
    with pytest.raises(UserError, match="example_facing"):
        tiny("dance", example_facing=True)
    with pytest.raises(UserError, match="example_facing"):
        tiny("face", example_facing=True)


def test_example_facing_unmatched_hands_the_torso_to_h_only_when_no_example_shows_the_frames_side():
    """A frame seen from behind, two examples: one from the front and one from behind, "unmatched" lends the torso to
    neither rule (E_A chooses between them) where "always" hands the front one's to h_t; two front views, "unmatched"
    hands both (the torso is h_t's). true / false in a file read as "always" / "off"."""
    body = {1: (20, 8, 28, 17), 2: (18, 20, 30, 38)}
    front = {**body, 3: (10, 20, 17, 34), 6: (31, 20, 38, 34)}
    back = {**body, 6: (10, 20, 17, 34), 3: (31, 20, 38, 34)}
    torso = (slice(22, 36), slice(20, 28))
    cfg = tiny("dance", example_alignment="parts_only", example_gate=True, example_mask="labels",
               example_facing="unmatched")
    model = eval_model(cfg)
    always = FewShotGenerator(dataclasses.replace(cfg.generator, example_facing="always")).eval()
    always.load_state_dict(model.state_dict())
    semantic, rgb_front, semantic_front = _parts_inputs(cfg, back, front)
    _, rgb_back, semantic_back = _parts_inputs(cfg, back, back)
    mixed = (torch.cat((rgb_front, rgb_back), dim=1), torch.cat((semantic_front, semantic_back), dim=1))
    fronts = (torch.cat((rgb_front, rgb_front), dim=1), torch.cat((semantic_front, semantic_front), dim=1))
    with torch.no_grad():
        assert model._turned_examples(semantic, model.encode_examples(*mixed)).tolist() == [[False, False]]
        assert always._turned_examples(semantic, always.encode_examples(*mixed)).tolist() == [[True, False]]
        assert model._turned_examples(semantic, model.encode_examples(*fronts)).tolist() == [[True, True]]
        out = model(semantic, None, None, model.encode_examples(*fronts))
    torch.testing.assert_close(out.raw_prime[..., torso[0], torso[1]], out.raw[..., torso[0], torso[1]])
    assert tiny("dance", example_facing=False).generator.example_facing == "off"
    with pytest.raises(UserError, match="example_facing"):
        tiny("dance", example_alignment="parts_only", example_gate=True, example_mask="labels", example_facing="back")


def test_a_dance_file_written_before_part_sides_gets_the_tasks_sides():
    from fsvid2vid.data.semantics import DANCE_PART_SIDES

    data = tiny("dance").to_dict()
    del data["generator"]["part_sides"]
    assert ModelConfig.from_dict(data).generator.part_sides == list(DANCE_PART_SIDES)
    assert ModelConfig.from_dict(tiny("face").to_dict()).generator.part_sides == []


def test_part_alignment_starts_w_e_from_the_part_flow_and_is_refused_without_parts():
    cfg = tiny("dance", example_alignment="parts", example_gate=True)
    model = eval_model(cfg)
    torch.nn.init.zeros_(model.flow_example.flow_head.weight)  # W_e's refinement starts at zero
    torch.nn.init.zeros_(model.flow_example.flow_head.bias)
    semantic, example_rgb, example_semantic = _parts_inputs(cfg, {1: (20, 10, 28, 19), 2: (18, 20, 30, 38)},
                                                            {1: (22, 12, 30, 21), 2: (20, 22, 32, 40)})
    with torch.no_grad():
        out = model(semantic, None, None, model.encode_examples(example_rgb, example_semantic))
    torch.testing.assert_close(out.flow_example[0, 0, :, 30, 24], torch.tensor([2.0, 2.0]))
    for task in ("face", "street"):
        with pytest.raises(UserError, match="example_alignment"):
            tiny(task, example_alignment="parts")


def test_parts_only_is_the_part_flow_without_w_e_and_loads_a_parts_file(tmp_path):
    """example_alignment: parts_only has no W_e / M_e; from a "parts" file (its W_e weights left out on loading) it
    gives the frames of that model with W_e's refinement zeroed (the mask is the label rule either way); it is
    refused with a learned mask; an unknown field is a one-line error."""
    from fsvid2vid.models.generator_file import load_generator, write_generator_file

    cfg = tiny("dance", example_alignment="parts", example_gate=True, example_mask="labels")
    parts = eval_model(cfg)
    path = write_generator_file(tmp_path / "g.safetensors", parts.state_dict(), cfg, half=False)
    only, only_cfg, _ = load_generator(path, overrides={"example_alignment": "parts_only"})
    assert only.flow_example is None and only_cfg.generator.example_alignment == "parts_only"
    assert not any(name.startswith("flow_example.") for name in only.state_dict())
    torch.nn.init.zeros_(parts.flow_example.flow_head.weight)  # W_e's refinement: zero
    torch.nn.init.zeros_(parts.flow_example.flow_head.bias)
    semantic, example_rgb, example_semantic = _parts_inputs(cfg, {1: (20, 10, 28, 19), 2: (18, 20, 30, 38)},
                                                            {1: (23, 12, 31, 21), 2: (21, 23, 33, 41)})
    with torch.no_grad():
        want = parts(semantic, None, None, parts.encode_examples(example_rgb, example_semantic))
        got = only(semantic, None, None, only.encode_examples(example_rgb, example_semantic))
    torch.testing.assert_close(got.frame, want.frame)
    torch.testing.assert_close(got.flow_example, want.flow_example)
    with pytest.raises(UserError, match="example_mask labels"):
        tiny("dance", example_alignment="parts_only", example_gate=True)
    with pytest.raises(UserError, match="cannot set"):
        load_generator(path, overrides={"no_such_field": 1})


def test_fill_holes_keeps_known_pixels_and_fills_holes_along_rows_and_columns():
    """Known pixels stay; a flat room stays flat; a room shaded linearly along its rows and columns (a wall's
    gradient) is filled exactly inside a hole; a row that knows nothing takes its column's pixels; nothing known:
    unchanged."""
    from fsvid2vid.models.room import fill_holes

    image, known = torch.randn(2, 3, 17, 13), torch.ones(2, 1, 17, 13)
    known[..., 4:12, 3:9] = 0
    image[1, :, :, :] = 0.5
    filled = fill_holes(image, known)
    torch.testing.assert_close(filled * known, image * known)
    torch.testing.assert_close(filled[1], torch.full_like(filled[1], 0.5))  # a flat room stays flat
    assert torch.isfinite(filled).all()
    torch.testing.assert_close(fill_holes(image, torch.zeros_like(known)), image)  # nothing known: unchanged

    ys, xs = torch.meshgrid(torch.arange(17.0), torch.arange(13.0), indexing="ij")
    wall = torch.stack((0.05 * ys - 0.4, 0.03 * xs + 0.02 * ys - 0.5, 0.04 * xs - 0.2))[None]  # (1, 3, 17, 13)
    hole = known[:1].clone()
    torch.testing.assert_close(fill_holes(wall * hole + (1 - hole) * 0.9, hole), wall)
    band = torch.ones(1, 1, 17, 13)
    band[..., 6:9, :] = 0  # three whole rows hidden: their pixels come from up and down
    torch.testing.assert_close(fill_holes(wall * band, band), wall)


def test_fill_holes_reaches_pixels_no_row_or_column_sees_through_the_pyramid():
    """A known pixel in one corner only: the pixels off its row and column come from fill_holes_smoothly."""
    from fsvid2vid.models.room import fill_holes, fill_holes_smoothly

    image, known = torch.rand(1, 3, 9, 7), torch.zeros(1, 1, 9, 7)
    known[..., 0, 0] = 1
    filled = fill_holes(image, known)
    torch.testing.assert_close(filled[..., 4, 4], fill_holes_smoothly(image, known)[..., 4, 4])
    torch.testing.assert_close(filled[..., 0, 5], image[..., 0, 0])  # on its row: the one known pixel
    assert torch.isfinite(filled).all()


def test_fill_holes_across_takes_the_room_from_the_view_that_shows_it_only_for_a_still_camera():
    """Two examples of one room, each hiding a different part of it: each hole is filled with the other's pixels
    exactly. Two examples of different rooms (photos from different places), or K = 1:
    each is filled from itself alone, as fill_holes does."""
    from fsvid2vid.models.room import fill_holes, fill_holes_across

    room = torch.rand(1, 3, 24, 20) * 2 - 1
    known = torch.ones(1, 2, 1, 24, 20)
    known[0, 0, :, 4:12, 3:9] = 0  # example 1's subject
    known[0, 1, :, 14:22, 10:17] = 0  # example 2's, elsewhere
    views = room[:, None].repeat(1, 2, 1, 1, 1) * known + (1 - known) * 0.9  # the subjects drawn in a flat colour
    filled = fill_holes_across(views, known)
    torch.testing.assert_close(filled, room[:, None].expand_as(filled))

    other_place = views.clone()
    other_place[:, 1] = (torch.rand(1, 3, 24, 20) * 2 - 1) * known[:, 1] + (1 - known[:, 1]) * 0.9
    alone = fill_holes_across(other_place, known)
    for k in range(2):
        torch.testing.assert_close(alone[:, k], fill_holes(other_place[:, k], known[:, k]))
    single = fill_holes_across(views[:, :1], known[:, :1])
    torch.testing.assert_close(single, fill_holes(views[:, 0], known[:, 0])[:, None])


# ----------------------------------------------------------------------------------------------------------------
# Configuration and presets
# ----------------------------------------------------------------------------------------------------------------


def test_task_specs_and_frame_sizes():
    assert [task_spec(t).semantic_nc for t in TASKS] == [18, 1, 10]
    assert task_frame_size("dance", 128) == (128, 96) and task_frame_size("dance", 64) == (64, 48)
    assert task_frame_size("dance", 256) == (256, 192)
    assert task_frame_size("face", 64) == (64, 64) and task_frame_size("street", 64) == (64, 128)
    assert model_preset("street", "tiny").generator.warp_example is False
    assert model_preset("dance", "tiny").generator.warp_example is True


def test_config_round_trips_through_a_dict_and_rejects_unknown_keys():
    cfg = model_preset("face", 128)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert ModelConfig.from_dict({"generator": {"ngf": 16}}).generator.ngf == 16
    with pytest.raises(UserError, match="unknown generator config key"):
        ModelConfig.from_dict({"generator": {"ngf_typo": 16}})
    with pytest.raises(UserError, match="conditioning"):
        ModelConfig.from_dict({"generator": {"conditioning": "nope"}})
    with pytest.raises(UserError, match="unknown task"):
        ModelConfig.from_dict({"task": "juggling"})
    with pytest.raises(UserError, match="unknown model size"):
        model_preset("dance", 512)


def test_128_preset_is_about_six_million_generator_parameters():
    for task in TASKS:
        counts = FewShotGenerator(model_preset(task, 128).generator).parameter_counts()
        assert 5.0e6 < counts["total"] < 7.0e6, (task, counts)


def test_paper_preset_builds_and_renders_a_256_frame_on_cpu():
    """The paper's channel ladder (32 ... 1024, 5 downsamplings): one 256 x 256 face frame, with a previous frame.
    (Its speed is measured by `fsvid2vid bench infer --preset paper`, docs/performance.md, not here.)"""
    cfg = model_preset("face", "paper")
    assert [cfg.generator.channels(i) for i in range(7)] == [32, 64, 128, 256, 512, 1024, 1024]
    torch.manual_seed(0)
    model = FewShotGenerator(cfg.generator).eval()
    example_rgb, example_semantic, semantics = inputs(cfg, batch=1, k=1)
    with torch.no_grad():
        out = run_clip(model, example_rgb, example_semantic, semantics)[-1]
    assert out.frame.shape == (1, 3, 256, 256) and torch.isfinite(out.frame).all()


# ----------------------------------------------------------------------------------------------------------------
# Discriminators
# ----------------------------------------------------------------------------------------------------------------


def test_image_discriminator_returns_features_per_scale_and_trains():
    cfg = model_preset("dance", "64")
    torch.manual_seed(0)
    c_s = cfg.generator.semantic_nc
    d = ImageDiscriminator(cfg.discriminator, c_s)
    s, s_e = torch.rand(2, c_s, 64, 48), torch.rand(2, c_s, 64, 48)
    e, x = torch.rand(2, 3, 64, 48) * 2 - 1, torch.rand(2, 3, 64, 48) * 2 - 1
    features = d(s, e, s_e, x)
    assert len(features) == cfg.discriminator.num_scales
    for scale in features:
        assert len(scale) == cfg.discriminator.n_layers + 2
        assert scale[-1].shape[:2] == (2, 1)  # patch logits
    sum(f[-1].mean() for f in features).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in d.parameters())


def test_image_discriminator_pools_and_convolves_its_conditions_once_for_real_and_generated_frames():
    """The conditions (s_t, e, s_e) are pooled and convolved on their own and repeated over a batch of real and
    generated frames: the same features as stacking every input first; the gradients of the frames and of the
    discriminator's weights are the same too."""
    cfg = model_preset("dance", "64")
    torch.manual_seed(0)
    c_s = cfg.generator.semantic_nc
    d = ImageDiscriminator(cfg.discriminator, c_s).eval()  # eval: the power iteration does not step between calls
    s, s_e, e = torch.rand(2, c_s, 64, 48), torch.rand(2, c_s, 64, 48), torch.rand(2, 3, 64, 48)
    frames = (torch.rand(4, 3, 64, 48) * 2 - 1).requires_grad_(True)
    shared = d(s, e, s_e, frames)  # two frames per condition
    stacked = torch.cat((s, e, s_e), dim=1).repeat(2, 1, 1, 1)
    whole = [d.net.scales[0](torch.cat((stacked, frames), dim=1))]
    pooled = F.avg_pool2d(torch.cat((stacked, frames), dim=1), 3, stride=2, padding=1, count_include_pad=False)
    whole.append(d.net.scales[1](pooled))
    for mine, theirs in zip(shared, whole, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            assert torch.allclose(a, b, atol=1e-5)
    wrt = [frames, *d.parameters()]
    grad_shared = torch.autograd.grad(sum(f[-1].sum() for f in shared), wrt)
    grad_whole = torch.autograd.grad(sum(f[-1].sum() for f in whole), wrt)
    for a, b in zip(grad_shared, grad_whole, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="not a multiple"):
        d(s, e, s_e, frames[:3])


def test_temporal_discriminator_scales_and_conditions():
    cfg = model_preset("face", "tiny").discriminator
    cfg = dataclasses.replace(cfg, temporal_frames=3, temporal_scales=2, temporal_condition_channels=2)
    torch.manual_seed(0)
    d = TemporalDiscriminator(cfg).eval()  # eval: spectral norm's power iteration does not step between calls
    assert [d.frames_needed(s) for s in range(2)] == [3, 7]
    frames, flows = torch.rand(2, 7, 3, 32, 32), torch.rand(2, 7, 2, 32, 32)
    features = d(frames, flows)
    assert len(features) == 2 and features[1][-1].shape[:2] == (2, 1)
    assert len(d(frames[:, :4], flows[:, :4])) == 1  # 4 frames: only stride 1 fits
    # Scale 1 sees frames 0, 3, 6: changing frame 5 changes only scale 0's logits.
    changed = frames.clone()
    changed[:, 5] = 0
    again = d(changed, flows)
    assert torch.equal(features[1][-1], again[1][-1]) and not torch.equal(features[0][-1], again[0][-1])
    with pytest.raises(ValueError, match="condition channels"):
        d(frames)


@pytest.mark.parametrize(("kernel", "stride"), [(1, 1), (3, 1), (3, 2)])
@pytest.mark.parametrize("grads", ["none", "weights", "both"])
def test_per_sample_conv_matches_a_convolution_per_sample(kernel, stride, grads):
    """Each road (grouped convolution; batched matrix product of 1x1 kernels; one convolution per sample where only
    the kernels need a gradient) gives a plain conv2d per sample, and the same gradients."""
    from fsvid2vid.models.layers import per_sample_conv
    from fsvid2vid.models.theta import ConvWeights

    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 9, 7, generator=g).requires_grad_(grads == "both")
    weight = torch.randn(3, 4, 5, kernel, kernel, generator=g).requires_grad_(grads != "none")
    bias = torch.randn(3, 4, generator=g).requires_grad_(grads != "none")
    out = per_sample_conv(x, ConvWeights(weight, bias), stride)
    expected = torch.cat([torch.nn.functional.conv2d(x[b:b + 1], weight[b], bias[b], stride=stride,
                                                     padding=kernel // 2) for b in range(3)])
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    if grads != "none":
        wanted = [t for t in (x, weight, bias) if t.requires_grad]
        upstream = torch.randn(out.shape, generator=g)
        got = torch.autograd.grad(out, wanted, upstream)
        for a, b in zip(got, torch.autograd.grad(expected, wanted, upstream)):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("grads", ["both", "normalized", "gamma_beta"])
def test_modulate_gives_eq_10_and_its_gradients_bit_for_bit(dtype, grads):
    """SPADE's modulation with its one-tensor backward equals normalized * (1 + gamma) + beta on chunked maps, in the
    output and in every gradient, exactly (the same operations in the same precision), and is refused mismatched
    shapes."""
    from fsvid2vid.models.layers import modulate

    g = torch.Generator().manual_seed(0)
    normalized = torch.randn(2, 3, 5, 4, generator=g).to(dtype).requires_grad_(grads != "gamma_beta")
    gamma_beta = torch.randn(2, 6, 5, 4, generator=g).to(dtype).requires_grad_(grads != "normalized")
    upstream = torch.randn(2, 3, 5, 4, generator=g).to(dtype)
    gamma, beta = gamma_beta.chunk(2, dim=1)
    expected = normalized * (1 + gamma) + beta
    out = modulate(normalized, gamma_beta)
    assert out.dtype == dtype and torch.equal(out, expected)
    wanted = [t for t in (normalized, gamma_beta) if t.requires_grad]
    for got, want in zip(torch.autograd.grad(out, wanted, upstream), torch.autograd.grad(expected, wanted, upstream)):
        assert got.dtype == want.dtype and torch.equal(got, want)
    if grads == "both" and dtype == torch.float32:  # and against finite differences
        torch.autograd.gradcheck(modulate, (normalized.double().detach().requires_grad_(),
                                            gamma_beta.double().detach().requires_grad_()))
    with pytest.raises(ValueError, match="gamma_beta"):
        modulate(normalized, gamma_beta[:, :5])
