"""Keypoint heatmaps: the training targets of the point estimators and the decoding of their outputs into pixels.

A heatmap has ``stride`` times fewer cells than the image on each side. Pixel centres sit at integer image
coordinates (the convention of the benchmark's drawing), so heatmap cell ``j`` covers image pixels
``j * stride .. (j + 1) * stride - 1`` and its centre lies at image coordinate ``(j + 0.5) * stride - 0.5``.

The estimators output one map of logits per point; a spatial softmax turns it into a probability map over the cells.
Decoding takes the most probable cell and refines it to sub-cell precision with the probability-weighted mean over a
small window around it (argmax + local soft-argmax: as precise as a global soft-argmax on a clean map, and not pulled
towards a second mode or the background on a noisy one).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def image_to_heatmap(xy: torch.Tensor, stride: int) -> torch.Tensor:
    """Image pixel coordinates (..., 2) -> heatmap cell coordinates (..., 2)."""
    return (xy + 0.5) / stride - 0.5


def heatmap_to_image(xy: torch.Tensor, stride: int) -> torch.Tensor:
    """Heatmap cell coordinates (..., 2) -> image pixel coordinates (..., 2)."""
    return (xy + 0.5) * stride - 0.5


def gaussian_logits(points: torch.Tensor, height: int, width: int, stride: int, sigma: float) -> torch.Tensor:
    """Logit maps whose spatial softmax is a Gaussian of ``sigma`` cells at each point.

    points: (B, P, 2 or 3) image pixel coordinates [x, y(, confidence)]. Returns (B, P, height, width) with
    ``-d^2 / (2 sigma^2)``, d the distance in cells from the point's cell coordinate (see :func:`image_to_heatmap`).
    """
    xy = image_to_heatmap(points[..., :2].float(), stride)  # (B, P, 2)
    ys = torch.arange(height, dtype=torch.float32, device=points.device)
    xs = torch.arange(width, dtype=torch.float32, device=points.device)
    dx = xs[None, None, None, :] - xy[..., 0, None, None]  # (B, P, 1, W)
    dy = ys[None, None, :, None] - xy[..., 1, None, None]  # (B, P, H, 1)
    return -(dx**2 + dy**2) / (2 * sigma**2)


def heatmap_targets(points: torch.Tensor, height: int, width: int, stride: int, sigma: float) -> torch.Tensor:
    """Probability maps (B, P, height, width): the spatial softmax of :func:`gaussian_logits` (each map sums to 1)."""
    logits = gaussian_logits(points, height, width, stride, sigma)
    return torch.softmax(logits.flatten(2), dim=-1).view_as(logits)


def heatmap_loss(logits: torch.Tensor, points: torch.Tensor, stride: int, sigma: float) -> torch.Tensor:
    """Cross-entropy between the spatial softmax of ``logits`` (B, P, h, w) and Gaussian targets at ``points``
    (B, P, 3) [x, y, confidence], averaged over the points with confidence > 0 (0 when there are none)."""
    b, p, h, w = logits.shape
    target = heatmap_targets(points, h, w, stride, sigma).flatten(2)  # (B, P, h*w)
    ce = -(target * F.log_softmax(logits.flatten(2), dim=-1)).sum(-1)  # (B, P)
    visible = (points[..., 2] > 0).float()
    return (ce * visible).sum() / visible.sum().clamp_min(1.0)


def decode_heatmaps(logits: torch.Tensor, stride: int, radius: int = 3) -> torch.Tensor:
    """Point positions in image pixels from logit maps: argmax cell, refined by the soft-argmax over the
    ``(2 radius + 1)^2`` cells around it.

    logits: (B, P, h, w). Returns (B, P, 2) [x, y] in pixels of the image the maps were computed from (``stride``
    times larger). A Gaussian map centred anywhere away from the border decodes to its centre to within ~0.01 cell.
    """
    b, p, h, w = logits.shape
    prob = torch.softmax(logits.float().flatten(2), dim=-1).view(b, p, h, w)
    index = prob.flatten(2).argmax(-1)  # (B, P)
    cy, cx = (index // w).float(), (index % w).float()
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32, device=logits.device)
    ys = (cy[..., None] + offsets).clamp(0, h - 1)  # (B, P, R)
    xs = (cx[..., None] + offsets).clamp(0, w - 1)
    window = prob.gather(2, ys.long()[..., None].expand(b, p, -1, w))  # (B, P, R, w)
    window = window.gather(3, xs.long()[:, :, None, :].expand(b, p, window.shape[2], -1))  # (B, P, R, R)
    # Cells clamped at the border repeat; count each cell once.
    valid_y = (cy[..., None] + offsets >= 0) & (cy[..., None] + offsets <= h - 1)
    valid_x = (cx[..., None] + offsets >= 0) & (cx[..., None] + offsets <= w - 1)
    window = window * (valid_y[..., :, None] & valid_x[..., None, :]).float()
    total = window.sum((-2, -1)).clamp_min(1e-12)
    x = (window.sum(-2) * xs).sum(-1) / total
    y = (window.sum(-1) * ys).sum(-1) / total
    return heatmap_to_image(torch.stack([x, y], dim=-1), stride)
