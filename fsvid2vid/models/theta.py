"""theta_H, the weights E generates for H (eq. 7): typed, one :class:`LevelTheta` per generated level of H.

At each of H's L finest levels three convolutions are generated per sample: theta_S (the shared layer of the
modulation branch, eq. 8) and the theta_gamma / theta_beta pair of each of the level's two SPADEs (eq. 9), stacked
on the output axis. :class:`LevelShapes` says what E_P must produce, :class:`LevelTheta` holds what it produced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from torch import Tensor

Shape = tuple[int, ...]  # per-sample weight shape (C_out, C_in, k, k)


@dataclass
class ConvWeights:
    """Per-sample weights of one generated convolution."""

    weight: Tensor  # (B, C_out, C_in, k, k)
    bias: Tensor  # (B, C_out)


@dataclass(frozen=True)
class LevelShapes:
    """The per-sample shapes of one generated level's convolutions (the field order is E_P's output order)."""

    shared: Shape  # theta_S^l: (e_l, C_in, k_S, k_S)
    norm_in: Shape  # theta_gamma, theta_beta of the block's first SPADE: (2 * C_x, e_l, k, k)
    norm_mid: Shape  # ... of its second SPADE: (2 * C_mid, e_l, k, k)

    def items(self) -> list[tuple[str, Shape]]:
        """(name, shape) in E_P's output order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def numel(self) -> int:
        """Numbers E_P generates for this level: every weight and bias."""
        return sum(math.prod(shape) + shape[0] for _, shape in self.items())


@dataclass
class LevelTheta:
    """theta_H^l: one generated level's weights for a batch of samples."""

    shared: ConvWeights
    norm_in: ConvWeights
    norm_mid: ConvWeights

    @classmethod
    def from_flat(cls, flat: Tensor, shapes: LevelShapes) -> LevelTheta:
        """Cut E_P's output (B, shapes.numel()) into the level's weights and biases, in ``shapes`` order."""
        parts, start = {}, 0
        for name, shape in shapes.items():
            n_w = math.prod(shape)
            weight = flat[:, start:start + n_w].unflatten(1, shape)
            bias = flat[:, start + n_w:start + n_w + shape[0]]
            parts[name] = ConvWeights(weight, bias)
            start += n_w + shape[0]
        return cls(**parts)


ThetaH = list[LevelTheta]  # finest generated level first (the paper's l = 1 ... L)
