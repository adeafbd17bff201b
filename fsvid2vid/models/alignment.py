"""Part alignment: a closed-form flow that carries each body part of an example onto the same part of the frame.

W_e must otherwise learn, from scratch, flows as large as a swung arm; at 64 px and a few thousand steps it learns the
identity and the subject comes from H alone (docs/results.md). With part labels (the dance task's body-part map) the
correspondence is known per part: each part's pixels get a frame of axes from their moments (centroid; principal
axis oriented away from the parent part, or the direction from the parent for roundish parts; spreads along and
across it), and a frame pixel of part p is sent to the example point with the same coordinates in the example's
frame of part p. Background pixels, and parts missing from either map, keep a zero flow: the room is static.
W_e then refines this flow (``FewShotGenerator._warp_examples``). :func:`facing` tells from the same labels whether
the subject is seen from the front or from behind.

    flow = part_flow(frame_labels, example_labels, parents)     # (N, 2, H, W) pixels, for layers.warp
"""

from __future__ import annotations

import torch
from torch import Tensor

#: A part needs at least this many pixels (of label mass) in both maps to be aligned.
MIN_PIXELS = 4.0
#: A part whose spread along its principal axis is less than this times the spread across is "roundish".
ELONGATED = 1.3
#: :func:`facing` beyond which a subject is taken as seen from the front (above) or from behind (below minus it); in
#: between (side views) it is not told. On the dance benchmark's test clips, views within about 60 degrees of the front
#: measure well above it and views more than about 110 degrees from it well below its negative.
FACING_MARGIN = 0.3


def pixel_coordinates(h: int, w: int, device: torch.device, dtype: torch.dtype = torch.float32) -> Tensor:
    """(HW, 3): each pixel's (x, y, 1), row after row."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=dtype, device=device), torch.arange(w, dtype=dtype, device=device),
                            indexing="ij")
    return torch.stack((xs.flatten(), ys.flatten(), torch.ones_like(xs).flatten()), dim=1)


def part_axes(labels: Tensor, parents: list[int]) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Each part's frame of axes from its label mass.

    labels: (N, P, H, W) one-hot (or soft) part maps, part 0 the background, part 1 the head; parents: per part the
    part it hangs from (-1: none; the root other than the background is the torso, oriented towards the head).
    Returns centre (N, P, 2) as (x, y) pixels, u and v (N, P, 2) unit axes (v = u turned 90 degrees), spread
    (N, P, 2) standard deviations along u and v (at least 0.5 px), and mass (N, P) in pixels.
    """
    n, p, h, w = labels.shape
    # The label mass's moments as one matrix product with each pixel's (x, y, 1, x^2, xy, y^2), in float64: the
    # covariance E[x x^T] - c c^T cancels numbers of the frame size squared.
    xy1 = pixel_coordinates(h, w, labels.device, torch.float64)
    x, y = xy1[:, 0], xy1[:, 1]
    monomials = torch.stack((x, y, xy1[:, 2], x * x, x * y, y * y), dim=1)  # (HW, 6)
    moments = labels.flatten(2).double() @ monomials  # (N, P, 6)
    mass = moments[..., 2]
    m = moments / mass.clamp_min(1e-6)[..., None]
    centre = m[..., :2]  # (N, P, 2)
    cxx = m[..., 3] - centre[..., 0] ** 2
    cxy = m[..., 4] - centre[..., 0] * centre[..., 1]
    cyy = m[..., 5] - centre[..., 1] ** 2
    cov = torch.stack((cxx, cxy, cxy, cyy), dim=-1).view(n, p, 2, 2).float()
    cov = cov + 1e-3 * torch.eye(2, device=labels.device)
    centre, mass = centre.float(), mass.float()
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
    That is an affine map per part, x -> A_p x + t_p with A_p = (s_e,u / s_t,u) u_e u_t^T + (s_e,v / s_t,v) v_e v_t^T
    and t_p = c_e - A_p c_t, so the flow at x is sum_p share_p(x) [A_p - I | t_p] (x, y, 1): the per-pixel mix of
    the P maps is one matrix product.
    """
    c_t, u_t, v_t, s_t, m_t = part_axes(frame_labels, parents)
    c_e, u_e, v_e, s_e, m_e = part_axes(example_labels, parents)
    n, p, h, w = frame_labels.shape
    along = (s_e[..., 0] / s_t[..., 0])[..., None, None] * u_e[..., :, None] * u_t[..., None, :]
    across = (s_e[..., 1] / s_t[..., 1])[..., None, None] * v_e[..., :, None] * v_t[..., None, :]
    a = along + across  # A_p: (N, P, 2, 2)
    t = c_e - (a @ c_t[..., None])[..., 0]  # t_p: (N, P, 2)
    affine = torch.cat((a - torch.eye(2, device=a.device), t[..., None]), dim=-1)  # (N, P, 2, 3)
    valid = ((m_t >= MIN_PIXELS) & (m_e >= MIN_PIXELS)).float()
    valid[:, 0] = 0  # the background stays where it is
    share = frame_labels.float().flatten(2) * valid[..., None]  # (N, P, HW)
    per_pixel = affine.flatten(2).transpose(1, 2) @ share  # (N, 6, HW): each pixel's [A - I | t], mixed
    xy1 = pixel_coordinates(h, w, frame_labels.device).t()  # (3, HW)
    flow = (per_pixel.view(n, 2, 3, h * w) * xy1).sum(2)  # (N, 2, HW)
    return flow.view(n, 2, h, w)


def facing(labels: Tensor, sides: list[int]) -> Tensor:
    """Which way the subject of each part map faces: (N,) in about [-1, 1], positive seen from the front.

    labels: (N, P, H, W) one-hot (or soft) part maps; sides: per part +1 the subject's left, -1 its right, 0 neither.
    Seen from the front, the subject's left parts lie right of its right parts in the image, and the other way round
    from behind: the result is the horizontal distance from the right parts' centroid to the left parts' (pixels),
    over twice the horizontal spread of the whole subject (about +1 from the front, -1 from behind, near 0 from the
    side); 0 where either side shows no pixel.
    """
    n, p, h, w = labels.shape
    labels = labels.float()
    x = torch.arange(w, dtype=labels.dtype, device=labels.device)
    side = torch.tensor(sides, dtype=labels.dtype, device=labels.device)
    column_mass = labels.sum(dim=2)  # (N, P, W)
    left, right = column_mass[:, side > 0].sum(dim=1), column_mass[:, side < 0].sum(dim=1)  # (N, W)
    subject = column_mass[:, 1:].sum(dim=1)  # (N, W): every part but the background (part 0)

    def centroid_and_mass(mass: Tensor) -> tuple[Tensor, Tensor]:
        total = mass.sum(dim=1)
        return (mass * x).sum(dim=1) / total.clamp_min(1e-6), total

    (x_left, m_left), (x_right, m_right) = centroid_and_mass(left), centroid_and_mass(right)
    x_subject, m_subject = centroid_and_mass(subject)
    spread = ((subject * (x - x_subject[:, None]) ** 2).sum(dim=1) / m_subject.clamp_min(1e-6)).sqrt()
    shown = (m_left > 0) & (m_right > 0)
    return torch.where(shown, (x_left - x_right) / (2 * spread).clamp_min(1e-6), torch.zeros_like(spread))


def seen_from_opposite_sides(frame_labels: Tensor, example_labels: Tensor, sides: list[int]) -> Tensor:
    """(N,) bool: the frame's subject and the example's are seen one from the front and the other from behind (each
    :func:`facing` beyond FACING_MARGIN, with opposite signs). Labels (N, P, H, W) as for :func:`facing`."""
    return opposite_facings(facing(frame_labels, sides), facing(example_labels, sides))


def opposite_facings(first: Tensor, second: Tensor) -> Tensor:
    """Elementwise bool: two :func:`facing` values (broadcastable tensors) tell one view from the front and the other
    from behind, each beyond FACING_MARGIN."""
    return (first * second < 0) & (first.abs() > FACING_MARGIN) & (second.abs() > FACING_MARGIN)
