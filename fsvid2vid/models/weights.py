"""E, the network weight generation module (eq. 7): E_F (example features), E_A (attention), E_P (MLPs).

For the section-4 baselines, :class:`StyleEncoder` turns an example into one style vector instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fsvid2vid.models.layers import act, conv, resize
from fsvid2vid.models.theta import LevelShapes, LevelTheta, ThetaH


class ExampleEncoder(nn.Module):
    """E_F: q^0 = (e, s_e) stacked on channels, q^l = E_F^l(q^{l-1}) = sigma(conv_stride2(q^{l-1})).

    A 3x3 stem at full resolution, then one stride-2 3x3 convolution per level. No normalisation: instance norm would
    erase exactly the per-channel colour statistics the features must carry, batch norm would couple the samples.
    """

    def __init__(self, in_channels: int, channels: list[int]):
        super().__init__()
        self.stem = conv(in_channels, channels[0])
        self.down = nn.ModuleList(conv(channels[i], channels[i + 1], stride=2) for i in range(len(channels) - 1))

    def forward(self, x: Tensor) -> list[Tensor]:
        """x: (N, 3 + C_s, H, W) -> [q^1 (N, channels[1], h_1, w_1), …, q^n (N, channels[n], h_n, w_n)]."""
        q, features = act(self.stem(x)), []
        for down in self.down:
            q = act(down(q))
            features.append(q)
        return features


class StyleEncoder(nn.Module):
    """Baselines: an example to one style vector (E_F's convolution ladder, global average pooling, a Linear)."""

    def __init__(self, in_channels: int, channels: list[int], style_dim: int):
        super().__init__()
        self.features = ExampleEncoder(in_channels, channels)
        self.to_style = nn.Linear(channels[-1], style_dim)

    def forward(self, x: Tensor) -> Tensor:
        """x: (N, 3 + C_s, H, W) -> (N, style_dim)."""
        return self.to_style(self.features(x)[-1].mean(dim=(2, 3)))


class AttentionEncoder(nn.Module):
    """E_A: a few convolutions from a semantic map to C-channel keys / queries at 1 / 2**n_down of its size.

    The same network gives the keys a_k (from the examples' maps s_{e_k}) and the query a_t (from s_t).
    """

    def __init__(self, semantic_nc: int, channels: int, n_down: int):
        super().__init__()
        self.stem = conv(semantic_nc, channels)
        self.down = nn.ModuleList(conv(channels, channels, stride=2) for _ in range(n_down))
        self.out = conv(channels, channels, 1)

    def forward(self, s: Tensor) -> Tensor:
        """s: (N, C_s, H, W) -> (N, C, h_a, w_a)."""
        x = act(self.stem(s))
        for down in self.down:
            x = act(down(x))
        return self.out(x)


def attention_weights(query: Tensor, keys: Tensor) -> Tensor:
    """alpha: for each target position, a softmax over all positions of all K examples jointly.

    query a_t: (B, C, h, w); keys a_k: (B, K, C, h, w) -> alpha: (B, N, K * N), N = h * w, rows sum to 1.
    The whole matrix at once; :func:`attend` gives what E and the example warp need without keeping it.
    """
    return attend(query, keys, keep_alpha=True).alpha


@dataclass
class Attention:
    """E_A's attention for one frame, summarised as its users need it (all fp32)."""

    mass: Tensor  # (B, K, h, w): alpha averaged over the target positions, the mass of each example position
    share: Tensor  # (B, K, h, w): per target position, the share of its attention on example k (sums to 1 over k)
    region_mass: Tensor | None = None  # (B, K, R, h, w): :func:`region_mass` of the given target regions
    alpha: Tensor | None = None  # (B, N, K * N): the attention itself, only when asked for
    aligned: Tensor | None = None  # (B, C_v, h, w): the given values carried onto the target, sum_(k,j) alpha v


def attend(query: Tensor, keys: Tensor, regions: Tensor | None = None, keep_alpha: bool = False,
           chunk_elements: int = 2**22, values: Tensor | None = None) -> Attention:
    """The attention of the target positions over all positions of all K examples, and its sums.

    query a_t: (B, C, h, w); keys a_k: (B, K, C, h, w); regions: the target's soft regions (B, R, h, w) or None;
    values: per example position a vector to carry onto the target, (B, K, C_v, h, w) or None (``aligned``).
    alpha[i, (k, j)] = softmax over all K * N positions (k, j) of a_k[j] . a_t[i] / sqrt(C) (the paper's alpha_k,
    scaled), in fp32 whatever the inputs so that each row sums to 1 to the last digit in bf16 inference too.
    The rows are computed a chunk of target positions at a time (about ``chunk_elements`` numbers) and summed as
    they go, so the B x N x K N matrix exists only when ``keep_alpha`` (at 256 x 256, K = 4 it is 67 M numbers;
    never forming it halves the attention's time, docs/performance.md).
    """
    b, k, c, h, w = keys.shape
    n = h * w
    a_t = query.flatten(2).transpose(1, 2) / math.sqrt(c)  # (B, N, C), scaled here: N * C numbers, not N * K * N
    a_k = keys.transpose(1, 2).reshape(b, c, k * n)  # (B, C, K * N), example-major
    rho = None if regions is None else regions.flatten(2).float()  # (B, R, N)
    rows = max(1, chunk_elements // (k * n))
    v = None if values is None else values.flatten(3).transpose(2, 3).reshape(b, k * n, -1)  # (B, K * N, C_v)
    column_sums, region_sums, shares, kept, aligned = 0.0, 0.0, [], [], []
    for start in range(0, n, rows):
        alpha = torch.softmax(a_t[:, start:start + rows] @ a_k, dim=-1, dtype=torch.float32)  # (B, rows, K * N)
        column_sums = column_sums + alpha.sum(dim=1)  # (B, K * N)
        if v is not None:
            aligned.append(alpha.to(v.dtype) @ v)  # (B, rows, C_v)
        if rho is not None:
            region_sums = region_sums + region_mass_rows(alpha, rho[:, :, start:start + rows])  # (B, K * N, R)
        shares.append(alpha.unflatten(2, (k, n)).sum(dim=3))  # (B, rows, K)
        if keep_alpha:
            kept.append(alpha)
    share = torch.cat(shares, dim=1).transpose(1, 2).reshape(b, k, h, w)
    mass = (column_sums / n).view(b, k, h, w)
    per_region = (None if rho is None
                  else (region_sums / n).view(b, k, h, w, -1).permute(0, 1, 4, 2, 3))  # (B, K, R, h, w)
    alpha = None if not keep_alpha else kept[0] if len(kept) == 1 else torch.cat(kept, dim=1)
    carried = None if v is None else torch.cat(aligned, dim=1).transpose(1, 2).reshape(b, -1, h, w)
    return Attention(mass=mass, share=share, region_mass=per_region, alpha=alpha, aligned=carried)


def region_mass_rows(alpha: Tensor, rho: Tensor) -> Tensor:
    """sum_i alpha[i, m] rho[r, i] over the given target rows i: alpha (B, rows, M), rho (B, R, rows) -> (B, M, R).

    As rho @ alpha, both operands in their stored layout: the transposed product (alpha^T rho^T) ran 5-12x slower
    (docs/performance.md)."""
    return torch.bmm(rho.to(alpha.dtype), alpha).transpose(1, 2)


def pool_examples(q: Tensor, mass: Tensor) -> Tensor:
    """Pool the examples' features q_k^l into E_P's input: one C-vector per region r, sum_{k,j} mass[k, r, j] q_k[j].

    With the paper's average pooling (R = 1) the mass is mean_i alpha[i, (k, j)]: averaging the attention-aligned
    map q = sum_k q_k (x) alpha_k over the target positions i needs only the attention mass of each example position
    (uniform without attention). With region pooling, mass[k, r, j] is the share of example position j in target
    region r (:func:`region_mass`). The mass lives at the attention's resolution; it is area-resampled to the level
    of q, each region keeping its total.

    q: (B, K, C, h, w); mass: (B, K, R, h_a, w_a) -> (B, C * R), channel-major.
    """
    b, k, r, h_a, w_a = mass.shape
    total = mass.sum(dim=(1, 3, 4), keepdim=True)  # (B, 1, R, 1, 1)
    m = resize(mass.flatten(1, 2), q.shape[-2:]).unflatten(1, (k, r))  # (B, K, R, h, w)
    m = m * (total / m.sum(dim=(1, 3, 4), keepdim=True).clamp_min(1e-12))
    return torch.einsum("bkrhw,bkchw->bcr", m.to(q.dtype), q).flatten(1)


def uniform_mass(b: int, k: int, h_a: int, w_a: int, like: Tensor) -> Tensor:
    """The paper's pooling without attention: every position of every example weighs the same. (B, K, 1, h_a, w_a)"""
    return like.new_full((b, k, 1, h_a, w_a), 1.0 / (k * h_a * w_a))


def region_mass(regions: Tensor, alpha: Tensor | None, k: int) -> Tensor:
    """Region pooling's mass: how much each example position contributes to each soft region.

    regions: with attention, the target's soft regions rho_t (B, R, h_a, w_a) (a distribution over R per position),
    and alpha (B, N, K * N): mass[k, r, j] = mean_i alpha[i, (k, j)] rho_t[r, i], the attention-aligned examples
    pooled per region of the target. Without attention (alpha None), each example's own regions rho_k
    (B * K, R, h_a, w_a): mass[k, r, j] = rho_k[r, j] / (K N).
    Returns (B, K, R, h_a, w_a); each region's mass sums to its share of the frame (all regions: 1).
    """
    if alpha is None:
        r, h_a, w_a = regions.shape[-3:]
        return regions.unflatten(0, (-1, k)) / (k * h_a * w_a)
    b, r, h_a, w_a = regions.shape
    mass = region_mass_rows(alpha.to(regions.dtype), regions.flatten(2)) / (h_a * w_a)  # (B, K * N, R)
    return mass.view(b, k, h_a, w_a, r).permute(0, 1, 4, 2, 3)


class WeightPredictor(nn.Module):
    """E_P: one MLP per generated level, from the pooled q^l to theta_H^l (weights and biases of theta_S, theta_gamma,
    theta_beta of that level), eq. 7.

    The output layer's bias is initialised like the convolutions it parameterises (PyTorch's default uniform bound
    1 / sqrt(fan_in)) and its weight rows are scaled by 1 / sqrt(fan_in): at initialisation every sample gets a
    sensibly scaled convolution plus an example-dependent deviation of the same order.
    """

    def __init__(self, in_dims: list[int], shapes: list[LevelShapes], fc_hidden: int, n_fc_layers: int):
        super().__init__()
        self.shapes = shapes
        self.mlps = nn.ModuleList()
        for in_dim, level_shapes in zip(in_dims, shapes, strict=True):
            layers: list[nn.Module] = []
            for i in range(n_fc_layers):
                layers += [nn.Linear(in_dim if i == 0 else fc_hidden, fc_hidden), nn.LeakyReLU(0.2)]
            out = nn.Linear(fc_hidden if n_fc_layers else in_dim, level_shapes.numel())
            _init_generated(out, level_shapes)
            self.mlps.append(nn.Sequential(*layers, out))

    def forward(self, pooled: list[Tensor]) -> ThetaH:
        """pooled: per level (B, C_l) -> theta_H: per level its generated weights, (B, *shape) and (B, C_out)."""
        return [LevelTheta.from_flat(mlp(q), level_shapes)
                for mlp, q, level_shapes in zip(self.mlps, pooled, self.shapes, strict=True)]


@torch.no_grad()
def _init_generated(out: nn.Linear, shapes: LevelShapes) -> None:
    start = 0
    for _, shape in shapes.items():
        n = math.prod(shape) + shape[0]
        bound = 1 / math.sqrt(math.prod(shape[1:]))  # 1 / sqrt(fan_in) of the generated convolution
        out.bias[start:start + n].uniform_(-bound, bound)
        out.weight[start:start + n].mul_(bound)
        start += n
