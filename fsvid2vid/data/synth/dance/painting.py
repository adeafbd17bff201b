"""The dance task's RGB frames: the room, the floor shadow, garments and skin with patterns and shading, face, hair,
skirt.

Everything is painted at :data:`SUPERSAMPLE` times the frame size and area-downsampled, which anti-aliases every
edge. Only the appearance decides colours; the geometry comes from the same pose and body pieces as the labels.
"""

from __future__ import annotations

import cv2
import numpy as np

from fsvid2vid.data.synth.common import fill_circle, fill_ellipse, fill_polygon, mix, shade, value_noise
from fsvid2vid.data.synth.dance.body import BodyPiece, body_pieces
from fsvid2vid.data.synth.dance.garment import draw_backpack, paint_top
from fsvid2vid.data.synth.dance.params import HAIR_COLORS, DanceAppearance, DanceShape
from fsvid2vid.data.synth.dance.skeleton import Pose

SUPERSAMPLE = 2

RGB = tuple[int, int, int]


def paint_frame(appearance: DanceAppearance, shape: DanceShape, pose: Pose, room: np.ndarray, height: int,
                width: int) -> tuple[np.ndarray, np.ndarray]:
    """The (height, width, 3) RGB frame of ``pose`` in front of ``room`` (see :func:`room_background`), and what the
    dancer wears beyond the body pieces as (height, width) uint8 part labels (benchmark version 3): the hair outside
    the head's ellipse labelled head, the backpack and the skirt labelled torso, 0 elsewhere (the renderer adds them to
    the part map where it shows the background)."""
    ss = SUPERSAMPLE
    hair = HAIR_COLORS[appearance.hair_color]
    pieces = body_pieces(shape, pose, float(ss), height)
    rgb = room.copy()
    worn = np.zeros(rgb.shape[:2], np.uint8)

    def wear(label: int, paint) -> None:  # the pixels ``paint`` changes are worn, as ``label``
        before = rgb.copy()
        paint()
        worn[(worn == 0) & (rgb != before).any(axis=-1)] = label

    _floor_shadow(rgb, pose, shape, ss, height)
    head = next(piece for piece in pieces if piece.name == "head")
    torso = next(piece for piece in pieces if piece.name == "torso")
    if appearance.hair_style in ("long", "ponytail") or pose.facing < 0:
        wear(head.label, lambda: _hair(rgb, appearance, head, pose, behind=True, color=hair))
    backpack = appearance.bag == "backpack"
    if backpack and pose.facing >= 0:  # behind the body
        wear(torso.label, lambda: draw_backpack(rgb, appearance, shape, pose, torso))
    ids = np.zeros((height * ss, width * ss), np.uint8)
    for number, piece in enumerate(pieces, start=1):
        piece.draw(ids, number, antialias=False)
    for number, piece in enumerate(pieces, start=1):
        _paint_piece(rgb, ids == number, piece, appearance, shape, pose)
        if piece.name == "head":
            wear(head.label, lambda: _face(rgb, appearance, head, pose, ss, hair))
        if backpack and pose.facing < 0 and piece is torso:  # on the back, under nearer limbs
            wear(torso.label, lambda: draw_backpack(rgb, appearance, shape, pose, torso))
        if appearance.bottom == "skirt" and piece.name == "torso":
            wear(torso.label, lambda: _skirt(rgb, appearance, pose, shape, ss))
    if appearance.bottom == "skirt":  # legs in front of the body are drawn after the torso; keep the skirt on top
        wear(torso.label, lambda: _skirt(rgb, appearance, pose, shape, ss))
    worn[ids > 0] = 0  # the body's own pixels are the part map's
    labels = np.zeros((height, width), np.uint8)
    for label in np.unique(worn[worn > 0]):  # a pixel is worn where most of its area is
        share = cv2.resize((worn == label).astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
        labels[share >= 0.5] = label
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA), labels


def room_background(a: DanceAppearance, height: int, width: int) -> np.ndarray:
    """The room at the supersampled size: a shaded wall with decor, a skirting line and a floor in perspective."""
    rng = np.random.default_rng(a.texture_seed)
    horizon = int(round(0.72 * height))
    img = np.empty((height, width, 3), np.float32)
    t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    img[:horizon] = (1 - t) * np.float32(a.wall_top) + t * np.float32(a.wall_bottom)
    noise = value_noise(rng, height, width, 12)[..., None]
    img[:horizon] *= 0.92 + 0.08 * noise[:horizon]
    for x0, y0, w, h, r, g, b in a.decor:
        x1, y1 = int(x0 * width), int(y0 * height)
        x2, y2 = int((x0 + w) * width), min(horizon - 2, int((y0 + h) * height))
        if y2 > y1:
            img[y1:y2, x1:x2] = shade((r, g, b), 0.7)
            img[y1 + 2:y2 - 2, x1 + 2:x2 - 2] = (r, g, b)
    # Floor with perspective: rows get brighter towards the viewer, planks/tiles converge to a vanishing point.
    rows = height - horizon
    nearness = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None, None]
    img[horizon:] = np.float32(a.floor_color) * (0.75 + 0.35 * nearness)
    if a.floor != "plain":
        ys, xs = np.mgrid[0:rows, 0:width].astype(np.float32)
        inverse_distance = (ys + rows * 0.25) / (rows * 1.25)
        across = (xs - width / 2) / (inverse_distance * width)
        lines = np.abs(((across * 6.0) % 1.0) - 0.5) > 0.46
        if a.floor == "tiles":
            along = 1.0 / inverse_distance
            lines |= np.abs(((along * 3.0) % 1.0) - 0.5) > 0.46
        img[horizon:][lines] *= 0.8
    img[horizon:horizon + max(1, height // 128)] *= 0.6  # skirting line
    return np.clip(img, 0, 255).astype(np.uint8)


def _floor_shadow(rgb: np.ndarray, pose: Pose, shape: DanceShape, ss: int, height: int) -> None:
    feet = np.array([pose.joints["right_ankle"][:2], pose.joints["left_ankle"][:2]]) * ss
    center = feet.mean(axis=0) + [0, shape.shin_w * shape.height * height * ss * 0.6]
    spread = abs(feet[0, 0] - feet[1, 0]) / 2 + shape.hip_w * shape.height * height * ss
    overlay = rgb.copy()
    fill_ellipse(overlay, center, (spread, spread * 0.18), 0.0, (0, 0, 0))
    cv2.addWeighted(overlay, 0.25, rgb, 0.75, 0, dst=rgb)


def _paint_piece(rgb: np.ndarray, mask: np.ndarray, piece: BodyPiece, a: DanceAppearance, shape: DanceShape,
                 pose: Pose) -> None:
    """Colour one body piece: garment or skin, pattern in body coordinates, cylindrical shading."""
    if not mask.any():
        return
    ys, xs = np.nonzero(mask)
    pts = np.stack([xs, ys], axis=1).astype(np.float32) + 0.5
    p0, p1, half = piece.frame()
    axis = p1 - p0
    length = max(float(np.linalg.norm(axis)), 1e-3)
    along_dir = axis / length
    rel = pts - p0
    along = rel @ along_dir  # pixels along the limb
    across = rel @ np.array([-along_dir[1], along_dir[0]])
    unit = shape.height * rgb.shape[0]  # pixels per standing height at this resolution
    color = np.empty((len(xs), 3), np.float32)
    base, second, patterned = _material(piece.name, a, along / length)
    color[:] = base
    if patterned and a.top_pattern != "solid":
        u, v = across / unit / a.pattern_scale, along / unit / a.pattern_scale
        if a.top_pattern == "stripes":
            on = (v % 1.0) < 0.45
        elif a.top_pattern == "checks":
            on = ((np.floor(u) + np.floor(v)) % 2) == 0
        else:
            on = ((u % 1.0 - 0.5) ** 2 + (v % 1.0 - 0.5) ** 2) < 0.09
        color[on] = second
    if piece.name == "torso":  # the front print, the back's own colour and print (benchmark version 2)
        paint_top(color, ~((along / length > 0.86) & (a.bottom != "skirt")), piece, a, pose, pts)
    k = np.clip(np.abs(across) / max(half, 1e-3), 0, 1)
    light = 1.05 - 0.3 * k**2
    if piece.name.startswith(("left", "right")):
        far = ((piece.name.startswith("left") and pose.sideways < 0)
               or (piece.name.startswith("right") and pose.sideways > 0))
        light *= 0.9 if far else 1.0
    rgb[ys, xs] = np.clip(color * light[:, None], 0, 255).astype(np.uint8)


def _material(name: str, a: DanceAppearance, along: np.ndarray):
    """(base colour, pattern colour, patterned?) of a body piece; ``along`` in [0, 1] from its first joint."""
    skin = np.float32(a.skin)
    top, top2 = np.float32(a.top_color), np.float32(a.top_color2)
    bottom = np.float32(a.bottom_color)
    if name == "torso":
        # Trousers/shorts cover the lowest part of the torso; a skirt is painted separately.
        col = np.where((along > 0.86)[:, None] & (a.bottom != "skirt"), bottom, top)
        return col, top2, True
    limb = name.removeprefix("left_").removeprefix("right_")
    sleeve = {"upper_arm": a.sleeves != "none", "lower_arm": a.sleeves == "long"}
    trouser_leg = {"upper_leg": a.bottom != "skirt", "lower_leg": a.bottom == "trousers"}
    if sleeve.get(limb, False):
        return top, top2, True
    if trouser_leg.get(limb, False):
        return bottom, bottom, False
    if limb == "foot":
        return np.float32(a.shoe_color), np.float32(a.shoe_color), False
    return skin, skin, False


def _face(rgb: np.ndarray, a: DanceAppearance, head: BodyPiece, pose: Pose, ss: int, hair: RGB) -> None:
    center, axes, _ = head.ellipse
    r = axes[1]
    if pose.facing < 0 and a.hair_style != "bald":  # seen from behind: the hair covers the back of the head
        fill_ellipse(rgb, (center[0], center[1] - axes[1] * 0.05), (axes[0] * 1.05, axes[1] * 1.02), 0.0, hair)
    _hair(rgb, a, head, pose, behind=False, color=hair)
    for name in ("right_eye", "left_eye"):
        if pose.face_normals[name] > 0.1:
            eye = pose.joints[name][:2] * ss
            fill_circle(rgb, eye, max(1.0, r * 0.1), (30, 25, 25))
    if pose.facing > 0.2:
        mouth = np.array(center) + [pose.sideways * r * 0.5, r * 0.5]
        fill_ellipse(rgb, mouth, (r * 0.22 * pose.facing, max(1.0, r * 0.06)), 0.0, shade(a.skin, 0.6))


def _hair(rgb: np.ndarray, a: DanceAppearance, head: BodyPiece, pose: Pose, behind: bool, color: RGB) -> None:
    """The hair behind the head (long hair, a ponytail) or in front of it (a cap, curls, a bun)."""
    center, axes, _ = head.ellipse
    cx, cy = center
    rx, ry = axes
    side = pose.sideways
    style = a.hair_style
    if style == "bald":
        return
    if behind:
        if style == "long":
            poly = np.array([[cx - rx * 1.1, cy - ry * 0.3], [cx + rx * 1.1, cy - ry * 0.3],
                             [cx + rx * 1.25, cy + ry * 2.2], [cx - rx * 1.25, cy + ry * 2.2]])
            fill_polygon(rgb, poly, shade(color, 0.85))
        elif style == "ponytail":
            tail = np.array([cx - side * rx * 1.1, cy + ry * 0.2])
            fill_ellipse(rgb, tail, (rx * 0.45, ry * 1.0), 15.0 * side, shade(color, 0.85))
        return
    # In front: a cap of hair on top of the head, shifted with the turn; a bun or curls on top.
    shift = -side * rx * 0.15
    cap = (cx + shift, cy - ry * 0.35)
    volume = 1.3 if style == "curly" else 1.05
    overlay = np.zeros(rgb.shape[:2], np.uint8)
    fill_ellipse(overlay, cap, (rx * volume, ry * 0.75 * volume), 0.0, 255)
    face = np.zeros_like(overlay)
    fill_ellipse(face, (cx + shift * 0.5, cy + ry * 0.25), (rx * 0.82, ry * 0.78), 0.0, 255)
    if pose.facing < 0:
        face[:] = 0
    alpha = (overlay.astype(np.float32) * (1 - face.astype(np.float32) / 255))[..., None] / 255.0
    rgb[:] = (rgb * (1 - alpha) + np.float32(color) * alpha).astype(np.uint8)
    if style == "bun":
        fill_circle(rgb, (cx - side * rx * 0.3, cy - ry * 1.05), rx * 0.45, mix(color, (0, 0, 0), 0.1))


def _skirt(rgb: np.ndarray, a: DanceAppearance, pose: Pose, shape: DanceShape, ss: int) -> None:
    joints = pose.joints
    l_hip, r_hip = joints["left_hip"][:2] * ss, joints["right_hip"][:2] * ss
    l_knee, r_knee = joints["left_knee"][:2] * ss, joints["right_knee"][:2] * ss
    unit = shape.height * rgb.shape[0]
    waist = (l_hip + r_hip) / 2
    half = max(abs(l_hip[0] - r_hip[0]) / 2, shape.waist_w * unit * 0.6) + shape.thigh_w * unit * 0.6
    hem_y = max(l_knee[1], r_knee[1]) - shape.thigh_w * unit * 0.3
    hem_left = min(l_knee[0], r_knee[0], waist[0] - half) - shape.thigh_w * unit * 0.9
    hem_right = max(l_knee[0], r_knee[0], waist[0] + half) + shape.thigh_w * unit * 0.9
    top_y = waist[1] - shape.thigh_w * unit * 0.2
    poly = np.array([[waist[0] - half, top_y], [waist[0] + half, top_y], [hem_right, hem_y], [hem_left, hem_y]])
    fill_polygon(rgb, poly, a.bottom_color)
    fold = shade(a.bottom_color, 0.8)
    for f in (0.3, 0.5, 0.7):
        x_top = waist[0] - half + 2 * half * f
        x_hem = hem_left + (hem_right - hem_left) * f
        cv2.line(rgb, (int(x_top), int(top_y + (hem_y - top_y) * 0.3)), (int(x_hem), int(hem_y)), fold,
                 max(1, ss), cv2.LINE_AA)
