"""The view-dependent look of the dancer's top (benchmark version 2): a chest print in front, a back of another colour
with its own print, and a backpack that shows from behind and in profile (its straps from the front).

The torso is treated as an elliptic cylinder (depth :data:`DEPTH` times its width) turned by the pose's yaw: each
torso pixel is mapped back to the angle around the body it shows (0: the middle of the chest, pi: the middle of the
back), so a print slides round the side and narrows as the dancer turns, and in profile half the torso shows front,
half back. Only RGB changes; the semantic maps never see any of this.
"""

from __future__ import annotations

import cv2
import numpy as np

from fsvid2vid.data.synth.common import fill_polygon, shade
from fsvid2vid.data.synth.dance.body import BodyPiece
from fsvid2vid.data.synth.dance.params import DanceAppearance, DanceShape
from fsvid2vid.data.synth.dance.skeleton import Pose

#: Depth of the torso as a fraction of its width (the body pieces use the same 0.45 for a torso seen side on).
DEPTH = 0.45


def _torso_frame(piece: BodyPiece) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(mid-shoulders, mid-shoulders-to-waist vector, half-width at the shoulders, at the waist) of the torso."""
    p = piece.polygon
    top, bottom = (p[0] + p[1]) / 2, (p[2] + p[3]) / 2
    return top, bottom - top, float(np.linalg.norm(p[1] - p[0])) / 2, float(np.linalg.norm(p[2] - p[3])) / 2


def surface(piece: BodyPiece, pose: Pose, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where on the body each torso pixel ``pts`` ((N, 2) pixel centres) lies: (front?, lateral, down).

    front: True where the pixel shows the front of the top; lateral: sine of the angle around the body (-1: the
    dancer's right side, +1: its left, from both sides); down: 0 at the shoulders, 1 at the waist.
    """
    top, down_vec, shoulder_half, waist_half = _torso_frame(piece)
    length = max(float(np.linalg.norm(down_vec)), 1e-3)
    down_dir = down_vec / length
    rel = pts - top
    down = rel @ down_dir / length
    right = np.array([down_dir[1], -down_dir[0]])  # the image's x axis, leaned with the body
    half = shoulder_half + (waist_half - shoulder_half) * np.clip(down, 0.0, 1.0)
    s = np.clip((rel @ right) / np.maximum(half, 1e-3), -1.0, 1.0)
    # A point at angle phi around an elliptic body (x = sin phi, z = DEPTH cos phi) shows at image x
    # sin(phi + psi) of the turned outline's half-width, on the side facing the camera.
    psi = np.arctan2(DEPTH * pose.sideways, pose.facing)
    phi = np.arcsin(s) - psi
    return np.cos(phi) > 0, np.sin(phi), down


def _front_print(kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the chest print at lateral ``x`` (-1..1) and ``y`` (0 shoulders .. 1 waist)."""
    if kind == "disc":
        return (x / 0.45) ** 2 + ((y - 0.36) / 0.18) ** 2 < 1
    if kind == "panel":
        return (np.abs(x) < 0.36) & (y > 0.12) & (y < 0.6)
    if kind == "band":
        return (y > 0.22) & (y < 0.42)
    return np.abs(x) / 0.5 + np.abs(y - 0.37) / 0.22 < 1  # diamond


def _back_print(kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if kind == "stripe":
        return np.abs(x) < 0.22
    if kind == "block":
        return (np.abs(x) < 0.4) & (y > 0.15) & (y < 0.5)
    if kind == "yoke":
        return y < 0.28
    return np.zeros(x.shape, bool)


def paint_top(color: np.ndarray, top: np.ndarray, piece: BodyPiece, a: DanceAppearance, pose: Pose,
              pts: np.ndarray) -> None:
    """Recolour the torso pixels ``pts`` in place (``color``: their (N, 3) float colours, the front's fabric and
    pattern already in; ``top``: those that belong to the top rather than the trousers): the chest print and the
    backpack's straps on the front, the back's colour and print behind."""
    front, x, y = surface(piece, pose, pts)
    back = top & ~front
    front &= top
    color[front & _front_print(a.front_print, x, y)] = a.print_color
    if a.bag == "backpack":
        straps = (np.abs(np.abs(x) - 0.55) < 0.1) & (y < 0.62)
        color[front & straps] = shade(a.bag_color, 0.8)
    color[back] = a.back_color
    color[back & _back_print(a.back_print, x, y)] = a.back_print_color


def draw_backpack(rgb: np.ndarray, a: DanceAppearance, shape: DanceShape, pose: Pose, torso: BodyPiece) -> None:
    """The backpack as a box on the dancer's back, projected like the body: draw it before the body when the dancer
    faces the camera (only what sticks out past the torso stays visible), after the torso when seen from behind."""
    top, down_vec, _, _ = _torso_frame(torso)
    norm = max(float(np.linalg.norm(down_vec)), 1e-3)
    right = np.array([down_vec[1], -down_vec[0]]) / norm
    width = (shape.shoulder_w / 2 + 0.6 * shape.arm_w) * shape.height * rgb.shape[0]  # torso half-width, pixels
    back = -DEPTH * width * 0.9
    xs, ys, zs = (-0.45 * width, 0.45 * width), (0.12, 0.7), (back, back - 0.35 * width)

    def at(x: float, y: float, z: float) -> np.ndarray:
        return top + y * down_vec + (pose.facing * x + pose.sideways * z) * right

    corners = np.array([at(x, y, z) for x in xs for y in ys for z in zs], np.float32)
    hull = cv2.convexHull(corners)[:, 0]
    fill_polygon(rgb, hull, shade(a.bag_color, 0.7))
    if pose.facing < 0:  # the outer face of the pack, its flap and a pocket
        z = zs[1]
        fill_polygon(rgb, np.array([at(xs[0], ys[0], z), at(xs[1], ys[0], z), at(xs[1], ys[1], z),
                                    at(xs[0], ys[1], z)]), a.bag_color)
        fill_polygon(rgb, np.array([at(xs[0], ys[0], z), at(xs[1], ys[0], z), at(xs[1] * 0.9, 0.32, z),
                                    at(xs[0] * 0.9, 0.32, z)]), shade(a.bag_color, 1.25))
        fill_polygon(rgb, np.array([at(xs[0] * 0.6, 0.5, z), at(xs[1] * 0.6, 0.5, z), at(xs[1] * 0.6, 0.68, z),
                                    at(xs[0] * 0.6, 0.68, z)]), shade(a.bag_color, 0.8))
