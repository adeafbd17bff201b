"""One-sided features painted on the head: a cheek mark (mole, birthmark or scar) and an earring.

Each belongs to one side of the head (``FaceAppearance.*_side``: -1 the person's right, the image left when facing the
camera; +1 the left) and shows only when that side faces the camera. The cheek mark lies on the cheek's surface: it
is projected foreshortened with the head and fades out as the cheek turns edge-on. The earring hangs from the ear
lobe, which lies behind the head's outline when its ear turns away, so the head painted over it hides it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from fsvid2vid.data.synth.common import draw_polyline, fill_circle, fill_polygon, mix, shade
from fsvid2vid.data.synth.face.geometry import SKULL_DEPTH, HeadGeometry
from fsvid2vid.data.synth.face.motion import smoothstep
from fsvid2vid.data.synth.face.params import FaceAppearance, FaceShape
from fsvid2vid.data.synth.face.raster import blend, bounding_box

if TYPE_CHECKING:
    from fsvid2vid.data.synth.face.scene import FaceScene

#: Depth of the cheek surface: z = CHEEK_Z - CHEEK_CURVE * (x / face_width) ** 2 (face units).
CHEEK_Z, CHEEK_CURVE = 0.1, 0.75


def ear_centre(shape: FaceShape, geo: HeadGeometry, side: float) -> np.ndarray:
    """Pixel position of the centre of the ear on ``side`` (behind the cheek, on the head's outline)."""
    return geo.project(np.array([[side * (shape.face_width + 0.01), shape.ear_y, SKULL_DEPTH - 0.3, 1.0]]))[0]


def ear_axes(shape: FaceShape, geo: HeadGeometry) -> tuple[float, float]:
    """Semi-axes (pixels) of an ear's ellipse."""
    return 0.12 * shape.ear_size * geo.unit, 0.21 * shape.ear_size * geo.unit


def cheek_frame(shape: FaceShape, appearance: FaceAppearance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cheek mark's centre, the cheek's outward normal and its horizontal tangent there (face units)."""
    fw = shape.face_width
    x = appearance.cheek_mark_side * appearance.cheek_mark_x * fw
    centre = np.array([x, appearance.cheek_mark_y, CHEEK_Z - CHEEK_CURVE * (x / fw) ** 2])
    normal = np.array([2.0 * CHEEK_CURVE * x / fw ** 2, 0.0, 1.0])
    normal /= np.linalg.norm(normal)
    return centre, normal, np.array([normal[2], 0.0, -normal[0]])


def mark_outline(appearance: FaceAppearance) -> np.ndarray:
    """(N, 2) outline of the cheek mark in its tangent plane (face units; x along the cheek, y down).

    A mole is a disc, a birthmark an irregular blob (its lobes from ``texture_seed``), a scar a thin lens along
    ``cheek_mark_angle``.
    """
    a = np.linspace(0.0, 2.0 * math.pi, 33)[:-1]
    r = appearance.cheek_mark_size
    if appearance.cheek_mark == "birthmark":
        rng = np.random.default_rng([appearance.texture_seed, 14])
        wobble = sum(rng.uniform(0.06, 0.16) * np.cos(k * a + rng.uniform(0.0, 2.0 * math.pi)) for k in (2, 3, 5))
        pts = np.column_stack([1.15 * np.cos(a), 0.85 * np.sin(a)]) * (r * (1.0 + wobble))[:, None]
    elif appearance.cheek_mark == "scar":
        pts = np.column_stack([r * np.cos(a), 0.045 * np.sin(a) * np.abs(np.cos(a)) ** 0.3 + 0.012 * np.sin(a)])
    else:
        pts = np.column_stack([np.cos(a), np.sin(a)]) * r
    c, s = math.cos(appearance.cheek_mark_angle), math.sin(appearance.cheek_mark_angle)
    return pts @ np.array([[c, s], [-s, c]])


def paint_cheek_mark(img: np.ndarray, scene: FaceScene, geo: HeadGeometry, head: np.ndarray) -> None:
    """The cheek mark, foreshortened with the cheek, faded as it turns edge-on and clipped to the head's outline."""
    appearance, shape = scene.appearance, scene.shape
    if appearance.cheek_mark == "none":
        return
    centre, normal, tangent = cheek_frame(shape, appearance)
    visibility = float(smoothstep((geo.rotation[2] @ normal - 0.12) / 0.3))
    if visibility <= 0.0:
        return
    local = scene.mark_outline
    pts = geo.project(centre + local[:, :1] * tangent + local[:, 1:] * np.array([0.0, 1.0, 0.0]))
    box = bounding_box(pts, scene.height, scene.width, 2.0)
    if box is None:
        return
    x0, y0, x1, y1 = box
    offset = np.array([x0, y0], np.float64)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fill_polygon(mask, pts - offset, 255)
    if appearance.cheek_mark == "scar" and geo.unit >= 20.0:  # stitch marks across it, where they are visible
        along = pts[0] - pts[len(pts) // 2]
        across = np.array([-along[1], along[0]]) / max(float(np.linalg.norm(along)), 1e-9) * 0.05 * geo.unit
        for t in (-0.55, 0.0, 0.55):
            mid = geo.project((centre + t * (local[0, 0] * tangent + local[0, 1] * np.array([0.0, 1.0, 0.0])))[None])
            draw_polyline(mask, np.array([mid[0] - across, mid[0] + across]) - offset, 200, 1)
    if appearance.cheek_mark == "birthmark":
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.03 * geo.unit))
    face = np.zeros_like(mask)
    fill_polygon(face, head - offset, 255)
    full = np.zeros((scene.height, scene.width), np.uint8)
    full[y0:y1, x0:x1] = (mask.astype(np.uint16) * face // 255).astype(np.uint8)
    blend(img, full, appearance.cheek_mark_color, box, (0.8 if appearance.cheek_mark == "birthmark" else 1.0)
          * visibility)


def paint_earring(img: np.ndarray, scene: FaceScene, geo: HeadGeometry) -> None:
    """The earring, hanging (straight down the image) from the lobe of its ear; paint it before the head."""
    appearance, shape, unit = scene.appearance, scene.shape, geo.unit
    if appearance.earring == "none":
        return
    side = float(appearance.earring_side)
    angle = math.radians(geo.roll_degrees + side * 8.0)
    lobe = ear_centre(shape, geo, side) + np.array([-math.sin(angle), math.cos(angle)]) * 0.8 * ear_axes(shape, geo)[1]
    color = appearance.earring_color
    thickness = max(1, int(round(0.045 * unit)))
    down = np.array([0.0, 1.0])
    if appearance.earring == "stud":
        fill_circle(img, lobe, 0.07 * unit, color)
    elif appearance.earring == "hoop":
        a = np.linspace(0.0, 2.0 * math.pi, 25)[:-1]
        radius = 0.14 * unit
        ring = lobe + down * radius + radius * np.column_stack([np.sin(a), -np.cos(a)])
        draw_polyline(img, ring, color, thickness, closed=True)
    else:  # drop
        end = lobe + down * 0.15 * unit
        draw_polyline(img, np.array([lobe, end]), shade(color, 0.8), max(1, thickness - 1))
        fill_circle(img, end + down * 0.06 * unit, 0.08 * unit, color)
    if unit >= 20.0:  # a glint
        fill_circle(img, lobe + np.array([-0.02, 0.02]) * unit, 0.02 * unit, mix(color, (255, 255, 255), 0.6))
