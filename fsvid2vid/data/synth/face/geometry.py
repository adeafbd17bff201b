"""The face's 68 dlib landmarks and the projection of one frame.

A head is a set of 3-D points in *face units* (x right, y down, z towards the camera; origin between the eyes; the
face is about two units wide): the 68 dlib landmarks, built from the per-person :class:`~.params.FaceShape` and the
:class:`~.motion.Expression` of the moment, plus rigid helper points (skull outline, hairline, ears, glasses). Every
frame the points are rotated (yaw, pitch, roll about a pivot inside the head), projected orthographically, scaled by
``FaceShape.scale`` (frame heights per face unit) and placed in the frame; a pixel coordinate is
``fraction_of_height * height``, so one seed gives the same scene at every size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.synth.face.motion import Expression
from fsvid2vid.data.synth.face.params import FaceShape

#: Depth of the rotation pivot (face units; the face surface is near z = 0, the skull outline at this depth).
SKULL_DEPTH = -0.75
_PIVOT = np.array([0.0, 0.35, SKULL_DEPTH])
#: Outline weight of each landmark (see :meth:`HeadGeometry.project`): the jaw contour slides, the rest is rigid.
_OUTLINE_WEIGHT = np.concatenate([np.abs(np.cos(np.linspace(0.0, math.pi, 17))) ** 0.7, np.zeros(51)])


def _head_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    rz = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return rz @ rx @ ry


def _eye_points(shape: FaceShape, side: int, openness: float) -> np.ndarray:
    """(6, 3) eye landmarks in dlib order for the right (side=-1, image left) or left (side=+1) eye."""
    ew, eh = shape.eye_width, shape.eye_height
    y_up = (1.0 - openness) * 0.42 * eh - openness * eh
    y_lo = (1.0 - openness) * 0.44 * eh + openness * 0.62 * eh
    # Local x runs from the outer corner (-ew) to the inner corner (+ew).
    local = np.array([
        [-ew, 0.0], [-0.36 * ew, y_up], [0.34 * ew, 0.94 * y_up + 0.06 * y_lo], [ew, 0.03 * eh],
        [0.34 * ew, 0.96 * y_lo], [-0.36 * ew, y_lo],
    ])
    c, s = math.cos(shape.eye_tilt), math.sin(shape.eye_tilt)
    rot = np.array([[c, -s], [s, c]])
    xy = local @ rot.T
    if side < 0:  # right eye (image left): outer corner at smaller x; order 36 outer, 37, 38, 39 inner, 40, 41
        pts = np.column_stack([-shape.eye_spacing + xy[:, 0], xy[:, 1]])
        order = [0, 1, 2, 3, 4, 5]
    else:  # left eye: 42 inner, 43, 44, 45 outer, 46, 47 -> mirror, then reorder
        pts = np.column_stack([shape.eye_spacing - xy[:, 0], xy[:, 1]])
        order = [3, 2, 1, 0, 5, 4]
    pts = pts[order]
    z = np.array([-0.14, 0.04, 0.06, -0.02, 0.02, 0.0])[order] if side < 0 else \
        np.array([-0.02, 0.06, 0.04, -0.14, 0.0, 0.02])
    return np.column_stack([pts, z])


def landmarks_3d(shape: FaceShape, expression: Expression) -> np.ndarray:
    """The 68 dlib landmarks in face units (x right, y down, z towards the camera) for one expression."""
    p = np.zeros((68, 3))
    opening = expression.mouth_open
    # Jaw 0..16: a superellipse from the right temple (image left) around the chin.
    a = np.linspace(0.0, math.pi, 17)
    c, s = np.cos(a), np.sin(a)
    e = 2.0 / shape.jaw_square
    x = -shape.face_width * np.sign(c) * np.abs(c) ** e * (1.0 - shape.jaw_taper * s ** 2 - shape.chin_point * s ** 6)
    y = shape.jaw_top + (shape.chin_y - shape.jaw_top) * s ** e + 0.88 * opening * s ** 4
    z = SKULL_DEPTH + (0.22 - SKULL_DEPTH) * s ** 2.5
    p[0:17] = np.column_stack([x, y, z])
    # Brows 17..21 (right, outer -> inner) and 22..26 (left, inner -> outer).
    u = np.linspace(0.0, 1.0, 5)  # 0 = outer end, 1 = inner end
    bx = shape.brow_inner + shape.brow_length * (1.0 - u)
    by = shape.brow_y - shape.brow_arch * (1.0 - ((u - 0.4) / 0.6) ** 2) + shape.brow_tilt * (0.5 - u) \
        - expression.brow_raise * (0.55 + 0.45 * u)
    bz = -0.3 + 0.44 * u
    p[17:22] = np.column_stack([-bx, by, bz])
    p[22:27] = np.column_stack([bx, by, bz])[::-1]
    # Nose bridge 27..30 and lower nose 31..35.
    ny = -0.12 + (shape.nose_length + 0.12) * np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0])
    nz = np.array([0.16, 0.16 + 0.35 * (shape.nose_depth - 0.16), 0.16 + 0.7 * (shape.nose_depth - 0.16),
                   shape.nose_depth])
    p[27:31] = np.column_stack([np.zeros(4), ny, nz])
    nw = shape.nose_width
    p[31:36] = np.column_stack([
        np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * nw,
        shape.nose_length + np.array([0.04, 0.085, 0.105, 0.085, 0.04]),
        np.array([0.1, 0.24, 0.3, 0.24, 0.1]) + 0.4 * (shape.nose_depth - 0.5),
    ])
    # Eyes 36..41 and 42..47.
    openness = float(np.clip((1.0 - expression.closure) * (1.0 - 0.22 * expression.smile), 0.0, 1.0))
    p[36:42] = _eye_points(shape, -1, openness)
    p[42:48] = _eye_points(shape, 1, openness)
    # Mouth: outer 48..59, inner 60..67.
    yc, ul, ll, bow = shape.mouth_y, shape.upper_lip, shape.lower_lip, shape.lip_bow
    mw = (shape.mouth_width * (1.0 + 0.14 * expression.smile)
          * (1.0 - 0.24 * expression.rounding * min(1.0, opening / 0.08)))
    cy = yc - 0.06 * expression.smile + 0.4 * opening
    up = -0.14 * opening  # the upper lip lifts a little when the mouth opens
    lo = 0.86 * opening
    sx = np.array([-1.0, -0.58, -0.22, 0.0, 0.22, 0.58, 1.0])
    p[48:55] = np.column_stack([
        sx * mw,
        np.array([cy, yc - 0.8 * ul + up, yc - ul - 0.4 * bow + up, yc - ul + bow + up, yc - ul - 0.4 * bow + up,
                  yc - 0.8 * ul + up, cy]),
        np.array([-0.05, 0.16, 0.23, 0.26, 0.23, 0.16, -0.05]),
    ])
    lx = np.array([0.58, 0.22, 0.0, -0.22, -0.58])
    p[55:60] = np.column_stack([
        lx * mw,
        yc + np.array([0.82, 0.98, 1.02, 0.98, 0.82]) * ll + lo,
        np.array([0.13, 0.19, 0.21, 0.19, 0.13]),
    ])
    ix = np.array([-0.84, -0.38, 0.0, 0.38, 0.84, 0.38, 0.0, -0.38])
    iy_closed = yc + np.array([0.0, -0.012, -0.014, -0.012, 0.0, -0.012, -0.014, -0.012]) + 0.5 * (cy - yc) * \
        np.array([1.0, 0.3, 0.0, 0.3, 1.0, 0.3, 0.0, 0.3])
    gap = np.array([0.0, up * 0.85, up, up * 0.85, 0.0, lo * 0.85, lo, lo * 0.85])
    p[60:68] = np.column_stack([ix * mw, iy_closed + gap, np.array([0.0, 0.16, 0.19, 0.16, 0.0, 0.15, 0.18, 0.15])])
    return p


@dataclass
class HeadGeometry:
    """Landmarks and the projection of one frame."""

    landmarks: np.ndarray  # (68, 2) float64 pixels
    rotation: np.ndarray  # (3, 3) head rotation: its columns are the head's x, y, z axes in the camera frame
    origin: np.ndarray  # pixel position of face-unit (0, 0, 0) before rotation about the pivot
    unit: float  # pixels per face unit
    expression: Expression

    def project(self, pts: np.ndarray) -> np.ndarray:
        """(N, 3) or (N, 4) face-unit points to (N, 2) pixels.

        The optional 4th column is an *outline weight* w in [0, 1]. Outline points (the jaw line, the skull and
        hair silhouettes) are not rigid: like the visible contour of a real head they slide around it when it
        turns, so that with weight 1 a point keeps its frontal distance from the head's vertical axis
        (x -> x cos(yaw), z -> z + x sin(yaw) before the rotation).
        """
        p = np.array(pts, dtype=np.float64)
        if p.shape[1] == 4:
            weight = p[:, 3]
            p = p[:, :3]
            cos_yaw, sin_yaw = math.cos(self.expression.yaw), math.sin(self.expression.yaw)
            x = p[:, 0].copy()
            p[:, 0] = x * (1.0 - weight + weight * cos_yaw)
            p[:, 2] += weight * x * sin_yaw
        q = (p - _PIVOT) @ self.rotation.T + _PIVOT
        return self.origin + self.unit * q[:, :2]

    @property
    def down(self) -> np.ndarray:
        """Screen direction of the head's +y (down the face)."""
        return self.rotation[:2, 1]

    @property
    def roll_degrees(self) -> float:
        return math.degrees(self.expression.roll)


def head_geometry(shape: FaceShape, expression: Expression, height: int, width: int) -> HeadGeometry:
    """The landmarks (pixels) and projection of ``shape`` with ``expression`` in a ``height`` x ``width`` frame."""
    rotation = _head_rotation(expression.yaw, expression.pitch, expression.roll)
    origin = np.array([0.5 * width + (shape.center_dx + expression.shift_x) * height,
                       (shape.eye_y + expression.shift_y) * height])
    geometry = HeadGeometry(np.zeros((68, 2)), rotation, origin, shape.scale * height, expression)
    geometry.landmarks = geometry.project(np.column_stack([landmarks_3d(shape, expression), _OUTLINE_WEIGHT]))
    return geometry
