"""Part alignment: a closed-form flow that carries each body part of an example onto the same part of the frame.

W_e must otherwise learn, from scratch, flows as large as a swung arm; at 64 px and a few thousand steps it learns the
identity and the subject comes from H alone (docs/results.md). With part labels (the dance task's body-part map) the
correspondence is known per part: each part's pixels get a frame of axes from their moments (centroid; principal
axis oriented away from the parent part, or the direction from the parent for roundish parts; spreads along and
across it), and a frame pixel of part p is sent to the example point with the same coordinates in the example's
frame of part p. Background pixels, and parts missing from either map, keep a zero flow: the room is static.
W_e then refines this flow (``FewShotGenerator._warp_examples``).

    flow = part_flow(frame_labels, example_labels, parents)     # (N, 2, H, W) pixels, for layers.warp
"""

from __future__ import annotations

import torch
from torch import Tensor

#: A part needs at least this many pixels (of label mass) in both maps to be aligned.
MIN_PIXELS = 4.0
#: A part whose spread along its principal axis is less than this times the spread across is "roundish".
ELONGATED = 1.3


def part_axes(labels: Tensor, parents: list[int]) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Each part's frame of axes from its label mass.

    labels: (N, P, H, W) one-hot (or soft) part maps, part 0 the background, part 1 the head; parents: per part the
    part it hangs from (-1: none; the root other than the background is the torso, oriented towards the head).
    Returns centre (N, P, 2) as (x, y) pixels, u and v (N, P, 2) unit axes (v = u turned 90 degrees), spread
    (N, P, 2) standard deviations along u and v (at least 0.5 px), and mass (N, P) in pixels.
    """
    n, p, h, w = labels.shape
    labels = labels.float()
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=labels.device),
                            torch.arange(w, dtype=torch.float32, device=labels.device), indexing="ij")
    grid = torch.stack((xs, ys)).view(1, 1, 2, h * w)
    mass = labels.sum(dim=(2, 3))  # (N, P)
    weights = labels.flatten(2)[:, :, None] / mass.clamp_min(1e-6)[..., None, None]  # (N, P, 1, HW)
    centre = (weights * grid).sum(-1)  # (N, P, 2)
    d = grid - centre[..., None]  # (N, P, 2, HW)
    cov = torch.einsum("npix,npjx->npij", weights.expand_as(d) * d, d) + 1e-3 * torch.eye(2, device=labels.device)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)  # ascending
    major = eigenvectors[..., 1]  # (N, P, 2)
    spread = eigenvalues.flip(-1).clamp_min(0.25).sqrt()  # (N, P, 2): along the major axis, then across

    # Orientation: away from the parent (the torso: towards the head, else up).
    parent = torch.tensor([q if q >= 0 else i for i, q in enumerate(parents)], device=labels.device)
    away = centre - centre[:, parent]  # (N, P, 2)
    head = 1 if p > 1 else 0
    torso = next((i for i, q in enumerate(parents) if q < 0 and i > 0), None)
    up = torch.tensor([0.0, -1.0], device=labels.device)
    if torso is not None:
        to_head = centre[:, head] - centre[:, torso]
        has_head = (mass[:, head] >= MIN_PIXELS)[:, None]
        away[:, torso] = torch.where(has_head, to_head, up.expand_as(to_head))
    away_norm = away.norm(dim=-1, keepdim=True)
    direction = torch.where(away_norm > 1e-3, away / away_norm.clamp_min(1e-3), up.expand_as(away))
    elongated = (spread[..., 0] > ELONGATED * spread[..., 1])[..., None]
    sign = torch.where((major * direction).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    u = torch.where(elongated, major * sign, direction)
    v = torch.stack((-u[..., 1], u[..., 0]), dim=-1)
    spread = torch.where(elongated, spread, spread.mean(-1, keepdim=True).expand_as(spread))  # roundish: one scale
    return centre, u, v, spread, mass


@torch.no_grad()
def part_flow(frame_labels: Tensor, example_labels: Tensor, parents: list[int]) -> Tensor:
    """The backward flow (N, 2, H, W), in pixels, that warps the example's parts onto the frame's.

    frame_labels, example_labels: (N, P, H, W) one-hot part maps of the frame and of the example to warp onto it
    (part 0: background). A frame pixel x of part p goes to c_e + a s_e,u u_e + b s_e,v v_e, where (a, b) are its
    coordinates (x - c_t) . (u_t, v_t) / (s_t,u, s_t,v) in the frame's axes of part p; flow = that point - x.
    """
    c_t, u_t, v_t, s_t, m_t = part_axes(frame_labels, parents)
    c_e, u_e, v_e, s_e, m_e = part_axes(example_labels, parents)
    n, p, h, w = frame_labels.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=frame_labels.device),
                            torch.arange(w, dtype=torch.float32, device=frame_labels.device), indexing="ij")
    grid = torch.stack((xs, ys)).view(1, 1, 2, h, w)
    d = grid - c_t[..., None, None]  # (N, P, 2, H, W)
    a = (d * u_t[..., None, None]).sum(2, keepdim=True) / s_t[..., 0, None, None, None]
    b = (d * v_t[..., None, None]).sum(2, keepdim=True) / s_t[..., 1, None, None, None]
    target = (c_e[..., None, None] + a * s_e[..., 0, None, None, None] * u_e[..., None, None]
              + b * s_e[..., 1, None, None, None] * v_e[..., None, None])  # (N, P, 2, H, W)
    valid = ((m_t >= MIN_PIXELS) & (m_e >= MIN_PIXELS)).float()
    valid[:, 0] = 0  # the background stays where it is
    share = frame_labels.float() * valid[..., None, None]  # (N, P, H, W)
    return (share[:, :, None] * (target - grid)).sum(1)  # (N, 2, H, W)
