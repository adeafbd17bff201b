"""Hair as 3-D polygons in face units: the skull outline, the hairline, and each hair style's front and back parts.

The polygons are built once per clip and projected with the head every frame (see :mod:`.scene`); only the lock over
one side of the face (:class:`SideLock`) changes its outline with the view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.draw.face import catmull_rom
from fsvid2vid.data.synth.face.geometry import SKULL_DEPTH
from fsvid2vid.data.synth.face.motion import smoothstep
from fsvid2vid.data.synth.face.params import LOCK_STYLES, FaceAppearance, FaceShape


def skull_outline(shape: FaceShape, widen: float, raise_top: float, start_angle: float = 0.0,
                  end_angle: float = math.pi, n: int = 25, bump: float = 0.0, bumps: int = 9,
                  z: float = SKULL_DEPTH) -> np.ndarray:
    """Skull outline (enlarged by ``widen`` sideways and ``raise_top`` on top) from ``start_angle`` (image right) to
    ``end_angle``.

    A superellipse through the temples (jaw points 0 / 16) and the top of the skull; angles outside [0, pi]
    continue below the temples. ``bump`` > 0 makes the outline wavy (curly hair). Returns (n, 4) points
    [x, y, z, outline weight 1] (see :meth:`HeadGeometry.project`).
    """
    b = np.linspace(start_angle, end_angle, n)
    c, s = np.cos(b), np.sin(b)
    e = 2.0 / 2.7
    r = 1.0 + bump * np.abs(np.sin(bumps * b))
    x = (shape.face_width + widen) * np.sign(c) * np.abs(c) ** e * (1.0 + (shape.cranium_width - 1.0) * np.abs(s)) * r
    y = shape.jaw_top - (shape.cranium_height + raise_top) * np.sign(s) * np.abs(s) ** e * r
    return np.column_stack([x, y, np.full(n, z), np.ones(n)])


def _forehead_z(x: np.ndarray, shape: FaceShape) -> np.ndarray:
    """Depth of the hairline: the forehead's, curving back to the temples (in front of the ears, so that a temple
    turned away stays next to the outline instead of sliding over the far eye)."""
    return np.maximum(0.12 - 0.85 * (x / shape.face_width) ** 2, -0.36)


def hairline(shape: FaceShape, style: str, part_side: float, tucked: float = 0.0) -> np.ndarray:
    """(N, 4) hairline [x, y, z, outline weight] from the image-left temple to the image-right temple.

    Rigid (outline weight 0) on the forehead. On the ``tucked`` side (-1 or +1; 0: none) the hair is tucked behind
    the ear: towards that temple the hairline becomes part of the outline (weight 1 at the pivot's depth), so it
    never covers that side of the face when it turns towards the camera.
    """
    w, h = shape.face_width, shape.hairline_y
    if style == "bob":
        fringe = shape.brow_y - 0.16
        half = np.array([[0.0, fringe], [0.45 * w, fringe + 0.01], [0.78 * w, fringe - 0.04], [0.93 * w, -0.1],
                         [0.96 * w, 0.35], [0.99 * w, 0.62]])
    else:
        sideburn = shape.jaw_top + (0.12 if style != "bun" else 0.0)
        half = np.array([[0.0, h], [0.38 * w, h + 0.03], [0.68 * w, h + 0.12], [0.86 * w, h + 0.32],
                         [0.9 * w, -0.42], [0.95 * w, -0.12], [0.98 * w, sideburn]])
    left = half[::-1] * np.array([-1.0, 1.0])
    xy = np.concatenate([left, half[1:]], axis=0)
    if style == "side_part":
        # A fringe swept from the parting (side ``part_side``) down over the other side of the forehead.
        u = xy[:, 0] / w * -part_side
        drop = 0.38 * smoothstep((u + 0.25) / 1.0) * (np.abs(xy[:, 0]) < 0.9 * w)
        xy = xy + np.column_stack([np.zeros(len(xy)), drop])
    if style == "curly":
        xy = catmull_rom(xy, False, 6)
        xy[:, 1] += 0.05 * np.abs(np.sin(np.linspace(0.0, 11.0 * math.pi, len(xy)))) - 0.05
    z = _forehead_z(xy[:, 0], shape)
    weight = smoothstep((xy[:, 0] * tucked / w - 0.6) / 0.3) if tucked else np.zeros(len(xy))
    return np.column_stack([xy, z + (SKULL_DEPTH - z) * weight, weight])


@dataclass(frozen=True)
class SideLock:
    """A lock of hair over one side of the face, from ``top`` to ``bottom`` (face units).

    It lies on the side of the head, which the camera sees broad when that side turns towards it, edge-on from the
    front and not at all from the other side: the lock covers up to ``reach`` face units of the face inwards from the
    outline when its side faces the camera, a quarter of that from the front and none when the side turns away; it
    always stands ``bulge`` out of the outline. Its points have outline weight 1 at the pivot's depth, so they keep
    their frontal distance from the head's vertical axis (see :meth:`~.geometry.HeadGeometry.project`).
    """

    side: float  # -1: the person's right (image left when facing the camera), +1: the left
    top: float
    bottom: float
    reach: float
    bulge: float

    def polygon(self, shape: FaceShape, facing: float) -> np.ndarray:
        """(N, 4) outline for a head whose ``side`` faces the camera by ``facing`` (the camera-z component of the
        side's normal: 1 towards the camera, 0 edge-on, < 0 away)."""
        u = np.linspace(0.0, 1.0, 17)
        y = self.top + (self.bottom - self.top) * u
        profile = smoothstep(u / 0.55) * (1.0 - 0.6 * smoothstep((u - 0.65) / 0.35))  # broadest over the cheek
        seen = 0.25 * smoothstep((facing + 0.35) / 0.35) + 0.75 * smoothstep(facing / 0.7)
        reach = self.reach * seen * profile
        w = shape.face_width
        inner = np.column_stack([self.side * (w - reach), y])
        outer = np.column_stack([self.side * (w + self.bulge * (0.5 + 0.5 * profile)), y])[::-1]
        return _at_skull_depth(np.concatenate([inner, outer]))


@dataclass
class HairShape:
    """Hair of one style as 3-D polygons (face units) to project every frame."""

    back: list[np.ndarray]  # drawn behind the head
    back_circles: list[tuple[np.ndarray, float]]  # (centre, radius) discs behind the head (a bun)
    front: list[np.ndarray]  # drawn over the forehead
    front_alpha: float
    show_ears: bool
    part_line: np.ndarray | None  # parting of the side-part style
    lock: SideLock | None = None  # a lock over one side of the face
    tucked: float = 0.0  # the side (-1 / +1) where the hair is tucked behind the ear, which shows; 0: none


def _mirror(points: np.ndarray) -> np.ndarray:
    return points * np.array([-1.0, 1.0, 1.0, 1.0])


def _at_skull_depth(xy: np.ndarray) -> np.ndarray:
    """(N, 2) outline points to (N, 4) [x, y, z = SKULL_DEPTH, outline weight 1]."""
    return np.column_stack([xy, np.full(len(xy), SKULL_DEPTH), np.ones(len(xy))])


def hair_shape(shape: FaceShape, appearance: FaceAppearance) -> HairShape:
    """The polygons of the appearance's hair style around ``shape``'s head."""
    style = appearance.hair_style
    w, chin = shape.face_width, shape.chin_y
    part = -float(appearance.hair_side)  # the parting is on the other side than the lock and the swept fringe
    side_lock = _side_lock(shape, appearance)
    tucked = part if side_lock is not None else 0.0
    line = hairline(shape, style, part, tucked)
    if style == "bald":
        return HairShape([], [], [], 1.0, True, None)
    if style == "shaved":
        return HairShape([], [], [np.concatenate([skull_outline(shape, 0.012, 0.015), line])], 0.5, True, None)
    if style == "short":
        return HairShape([], [], [np.concatenate([skull_outline(shape, 0.06, 0.13), line])], 1.0, True, None)
    if style == "side_part":
        top = shape.jaw_top - shape.cranium_height - 0.2
        parting = np.array([[part * 0.42 * w, shape.hairline_y + 0.02, 0.0, 0.0], [part * 0.38 * w, -1.3, -0.3, 0.5],
                            [part * 0.3 * w, top + 0.05, SKULL_DEPTH, 1.0]])
        front = [np.concatenate([skull_outline(shape, 0.1, 0.2), line])]
        return HairShape([], [], front, 1.0, True, parting, side_lock, tucked)
    if style == "bun":
        ring = skull_outline(shape, 0.035, 0.05)
        centre = np.array([0.0, shape.jaw_top - shape.cranium_height - 0.12, SKULL_DEPTH - 0.1])
        return HairShape([], [(centre, 0.42)], [np.concatenate([ring, line])], 1.0, True, None)
    if style == "long":
        ring = skull_outline(shape, 0.13, 0.17)
        side = _at_skull_depth(np.array([[w + 0.22, 0.6], [w + 0.32, chin + 0.3], [w + 0.36, chin + 1.6],
                                         [0.4 * w, chin + 1.7]]))
        back = np.concatenate([ring, _mirror(side), side[::-1]])
        return HairShape([back], [], [np.concatenate([ring, line])], 1.0, False, None, side_lock, tucked)
    if style == "bob":
        ring = skull_outline(shape, 0.17, 0.16)
        side = _at_skull_depth(np.array([[w + 0.22, 0.55], [w + 0.2, chin - 0.3], [0.75 * w, chin - 0.05]]))
        back = np.concatenate([ring, _mirror(side), side[::-1]])
        lock = _at_skull_depth(np.array([[w + 0.2, 0.3], [w + 0.12, 0.78]]))
        tuck = _at_skull_depth(np.array([[w, 0.3], [w, 0.78]]))  # no lock over a tucked ear
        right, left = (tuck if tucked > 0 else lock), (tuck if tucked < 0 else lock)
        # hairline (image left -> right), right lock upwards, over the top, left lock downwards
        front = np.concatenate([line, right[::-1], ring, _mirror(left)])
        return HairShape([back], [], [front], 1.0, False, None, side_lock, tucked)
    # curly / afro: a bumpy volume around the whole head, down to the jaw
    blob = skull_outline(shape, 0.5, 0.45, -0.32 * math.pi, 1.32 * math.pi, 73, 0.045, 15)
    ring = skull_outline(shape, 0.26, 0.32, -0.04, math.pi + 0.04, 41, 0.045, 11)
    return HairShape([blob], [], [np.concatenate([ring, line])], 1.0, False, None, side_lock, tucked)


def _side_lock(shape: FaceShape, appearance: FaceAppearance) -> SideLock | None:
    """The lock of ``appearance.hair_side`` for the styles that have one (``hair_lock`` > 0)."""
    if appearance.hair_lock <= 0.0 or appearance.hair_style not in LOCK_STYLES:
        return None
    top = shape.hairline_y + 0.25
    bottom, bulge, reach = {
        "side_part": (shape.ear_y + 0.35, 0.12, 0.9),
        "long": (shape.chin_y + 0.8, 0.2, 1.0),
        "bob": (shape.chin_y - 0.12, 0.2, 1.0),
        "curly": (shape.jaw_top + 0.6, 0.3, 0.9),
    }[appearance.hair_style]
    return SideLock(float(appearance.hair_side), top, bottom, reach * appearance.hair_lock, bulge)
