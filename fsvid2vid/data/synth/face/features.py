"""The facial features of a frame, painted over the head: skin shading, beard, brows, nostrils, eyes, mouth, glasses.

Each function paints one feature of the head in ``geo`` into ``img`` with the colours of ``scene``'s appearance.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from fsvid2vid.data.draw.face import catmull_rom
from fsvid2vid.data.synth.common import draw_polyline, fill_circle, fill_ellipse, fill_polygon, mix, shade
from fsvid2vid.data.synth.face.geometry import SKULL_DEPTH, HeadGeometry
from fsvid2vid.data.synth.face.motion import smoothstep
from fsvid2vid.data.synth.face.raster import blend, bounding_box, curve_normals

if TYPE_CHECKING:
    from fsvid2vid.data.synth.face.scene import FaceScene

#: Depth of the glasses' lenses (face units): just in front of the eyes, so that the far lens of a turned head stays
#: in front of its eye.
LENS_Z = 0.24


def shade_skin(img: np.ndarray, scene: FaceScene, geo: HeadGeometry, head: np.ndarray, neck: np.ndarray) -> None:
    """Soft shading of the skin: darker rim, shadows under the chin / nose / lip, highlights, side light."""
    appearance, shape, h, w = scene.appearance, scene.shape, scene.height, scene.width
    unit, marks = geo.unit, geo.landmarks
    box = bounding_box(np.concatenate([head, neck]), h, w, 0.3 * unit)
    if box is None:
        return
    x0, y0, x1, y1 = box
    offset = np.array([x0, y0], np.float64)
    bh, bw = y1 - y0, x1 - x0
    face = np.zeros((bh, bw), np.uint8)
    fill_polygon(face, head - offset, 255)
    skin = face.copy()
    fill_polygon(skin, neck - offset, 255)
    down = geo.down  # screen direction of the head's +y
    side = geo.rotation[:2, 0]
    dark = np.zeros((bh, bw), np.uint8)
    light = np.zeros((bh, bw), np.uint8)
    # shadow cast by the jaw on the neck
    fill_polygon(dark, marks[2:15] - offset + down * 0.2 * unit, 230)
    fill_polygon(dark, head - offset, 0)
    # eye sockets
    for a, b in ((19, 37), (24, 44)):
        c = 0.5 * (marks[a] + marks[b]) - offset
        fill_ellipse(dark, c, (1.3 * shape.eye_width * unit, 0.13 * unit), geo.roll_degrees, 70)
    # nose: side shadow opposite the light, under the nose, wings
    shadow_offset = -appearance.light_side * 0.085 * unit * side
    draw_polyline(dark, marks[27:31] - offset + shadow_offset, 105, max(1, int(round(0.09 * unit))))
    draw_polyline(dark, marks[31:36] - offset + down * 0.035 * unit, 75, max(1, int(round(0.05 * unit))))
    for i in (31, 35):
        fill_circle(dark, marks[i] - offset, 0.05 * unit, 110)
    # nasolabial folds, under the lower lip
    fold = 30 + int(60 * geo.expression.smile)
    for a, b in ((31, 48), (35, 54)):
        p = np.array([marks[a] + (marks[a] - marks[33]) * 0.6,
                      marks[b] + (marks[b] - marks[51]) * 0.12 + down * 0.02 * unit])
        draw_polyline(dark, p - offset, fold, max(1, int(round(0.04 * unit))))
    fill_ellipse(dark, marks[57] - offset + down * 0.08 * unit, (0.4 * shape.mouth_width * unit, 0.05 * unit),
                 geo.roll_degrees, 80)
    # highlights: forehead, nose bridge and tip, cheekbones, chin
    forehead = 0.5 * (marks[21] + marks[22]) - offset - down * 0.32 * unit
    fill_ellipse(light, forehead, (0.42 * unit, 0.17 * unit), geo.roll_degrees, 120)
    draw_polyline(light, marks[28:31] - offset, 110, max(1, int(round(0.05 * unit))))
    fill_circle(light, marks[30] - offset, 0.05 * unit, 150)
    for a, b in ((41, 2), (46, 14)):
        c = 0.6 * marks[a] + 0.4 * marks[b] + down * 0.1 * unit - offset
        fill_ellipse(light, c, (0.16 * unit, 0.08 * unit), geo.roll_degrees, 70)
    fill_ellipse(light, marks[8] - offset - down * 0.13 * unit, (0.14 * unit, 0.06 * unit), geo.roll_degrees, 60)
    blur = max(0.6, 0.06 * unit)
    dark_blurred = cv2.GaussianBlur(dark, (0, 0), blur).astype(np.float32) / 255.0
    light_blurred = cv2.GaussianBlur(light, (0, 0), blur).astype(np.float32) / 255.0
    rim = 1.0 - cv2.GaussianBlur(face, (0, 0), max(0.8, 0.2 * unit)).astype(np.float32) / 255.0
    face_alpha = face.astype(np.float32) / 255.0
    skin_alpha = skin.astype(np.float32) / 255.0
    xs = (np.arange(x0, x1, dtype=np.float32) - float(marks[27, 0])) / (shape.face_width * unit)
    side_light = appearance.light_side * 0.13 * np.clip(xs, -1.4, 1.4)[None, :]
    factor = 1.0 - 0.32 * rim * face_alpha - 0.5 * dark_blurred + side_light * skin_alpha
    roi = img[y0:y1, x0:x1].astype(np.float32)
    roi = roi * factor[..., None] + (0.2 * light_blurred * face_alpha)[..., None] * (255.0 - roi)
    img[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)


def paint_beard(img: np.ndarray, scene: FaceScene, geo: HeadGeometry, texture: np.ndarray) -> None:
    """Stubble, a mustache, a goatee or a full beard, with strands from the head texture."""
    appearance, h, w = scene.appearance, scene.height, scene.width
    unit, marks = geo.unit, geo.landmarks
    down = geo.down
    centre = marks[30]
    jaw = marks[0:17]
    outward = jaw - centre
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-9)

    def lerp(a: int, b: int, t: float) -> np.ndarray:
        return (1.0 - t) * marks[a] + t * marks[b]

    mustache = [lerp(35, 53, 0.25), lerp(33, 51, 0.22), lerp(31, 49, 0.25)]  # image right -> left
    if appearance.beard in ("full", "stubble"):
        poly = np.concatenate([jaw[2:15] + outward[2:15] * (0.07 if appearance.beard == "full" else 0.01) * unit,
                               np.array([lerp(14, 54, 0.4), lerp(54, 35, 0.4)] + mustache
                                        + [lerp(48, 31, 0.4), lerp(2, 48, 0.4)])])
    elif appearance.beard == "goatee":
        poly = np.concatenate([jaw[5:12] + outward[5:12] * 0.05 * unit,
                               np.array([lerp(11, 54, 0.6), marks[54] + (marks[54] - marks[51]) * 0.18] + mustache
                                        + [marks[48] + (marks[48] - marks[51]) * 0.18, lerp(5, 48, 0.6)])])
    else:  # mustache
        right = marks[54] + (marks[54] - marks[51]) * 0.15 + down * 0.06 * unit
        left = marks[48] + (marks[48] - marks[51]) * 0.15 + down * 0.06 * unit
        poly = np.array([left] + mustache[::-1] + [right, marks[64], marks[62], marks[60]])
    mask = np.zeros((h, w), np.uint8)
    fill_polygon(mask, poly, 255)
    box = bounding_box(poly, h, w, 2.0)
    if box is None:
        return
    x0, y0, x1, y1 = box
    base = np.asarray(scene.beard_color, np.float32)
    if appearance.beard == "stubble":
        dots = texture[y0:y1, x0:x1, 1:2]
        color = base[None, None] * 0.8
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.04 * unit))
        stubble = (mask[y0:y1, x0:x1].astype(np.float32) * (0.3 + 0.25 * dots[..., 0])).astype(np.uint8)
        sub = np.zeros_like(mask)
        sub[y0:y1, x0:x1] = stubble
        blend(img, sub, color, box, 1.0)
    else:
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.4, 0.02 * unit))
        strands = texture[y0:y1, x0:x1, 0:1]
        color = base[None, None] * (0.72 + 0.45 * strands) + 8.0 * strands
        blend(img, mask, color, box, 0.95)


def paint_brows(img: np.ndarray, scene: FaceScene, geo: HeadGeometry) -> None:
    """Both brows as tapered strokes along their landmarks."""
    shape, marks, unit = scene.shape, geo.landmarks, geo.unit
    for brow in (range(17, 22), range(26, 21, -1)):  # both from the outer to the inner end
        c = catmull_rom(marks[list(brow)], False, 6)
        n = curve_normals(c)
        t = np.linspace(0.0, 1.0, len(c))
        half = 0.5 * shape.brow_thickness * unit * (0.45 + 0.55 * smoothstep(t * 1.8))
        up = np.sign(np.sum(n * -geo.down, axis=1, keepdims=True))  # normal pointing up the head
        n = n * up
        poly = np.concatenate([c + n * half[:, None] * 1.1, (c - n * half[:, None] * 0.9)[::-1]])
        fill_polygon(img, poly, scene.appearance.brow_color)


def paint_nostrils(img: np.ndarray, scene: FaceScene, geo: HeadGeometry) -> None:
    """The two nostrils as small dark ellipses."""
    marks, unit = geo.landmarks, geo.unit
    color = shade(scene.appearance.skin, 0.52)
    angle = geo.roll_degrees
    up = -geo.down
    for a, b in ((32, 31), (34, 35)):
        c = 0.7 * marks[a] + 0.3 * marks[b] + up * 0.015 * unit
        fill_ellipse(img, c, (0.05 * unit, 0.026 * unit), angle, color)


def paint_eye(img: np.ndarray, scene: FaceScene, geo: HeadGeometry, side: int) -> None:
    """The right (``side`` -1, image left) or left eye: white, iris following the gaze, lashes, lid crease."""
    appearance, shape, marks, unit, expression = scene.appearance, scene.shape, geo.landmarks, geo.unit, geo.expression
    indices = list(range(36, 42)) if side < 0 else list(range(42, 48))
    eye = marks[indices]
    upper = marks[indices[:4]]
    lower = np.concatenate([marks[indices[3:]], marks[indices[:1]]])
    skin = appearance.skin
    opening = float(np.linalg.norm(0.5 * (eye[1] + eye[2]) - 0.5 * (eye[4] + eye[5])))
    if opening > 0.35:
        poly = catmull_rom(eye, True, 5)
        box = bounding_box(poly, scene.height, scene.width, 1.0)
        if box is not None:
            x0, y0, x1, y1 = box
            offset = np.array([x0, y0], np.float64)
            patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
            patch[:] = mix((236, 232, 226), skin, 0.18)
            iris_centre = np.array([[side * shape.eye_spacing + expression.gaze_x * 0.28 * shape.eye_width,
                                 0.12 * shape.eye_height + expression.gaze_y * 0.25 * shape.eye_height, 0.05]])
            c = geo.project(iris_centre)[0] - offset
            r = 0.5 * shape.eye_width * unit
            fill_circle(patch, c, r, shade(appearance.iris_color, 0.6))
            fill_circle(patch, c, 0.8 * r, appearance.iris_color)
            fill_circle(patch, c, 0.4 * r, (14, 10, 10))
            if r > 2.5:
                fill_circle(patch, c + np.array([-0.3, -0.35]) * r, 0.16 * r, (250, 250, 250))
            draw_polyline(patch, catmull_rom(upper, False, 6) - offset, mix((60, 40, 40), skin, 0.5),
                          max(1, int(round(0.05 * unit))))
            mask = np.zeros((scene.height, scene.width), np.uint8)
            fill_polygon(mask, poly, 255)
            blend(img, mask, patch.astype(np.float32), box)
    lash = mix((28, 18, 18), skin, 0.15)
    thickness = max(1, int(round(0.035 * unit)))
    draw_polyline(img, catmull_rom(upper, False, 6), lash, thickness)
    draw_polyline(img, catmull_rom(lower, False, 6), shade(skin, 0.72), 1)
    crease = catmull_rom(upper[1:3], False, 4) - geo.down * 0.07 * unit
    crease = np.concatenate([upper[:1] - geo.down * 0.03 * unit, crease, upper[3:] - geo.down * 0.02 * unit])
    draw_polyline(img, catmull_rom(crease, False, 5), shade(skin, 0.8), 1)


def paint_mouth(img: np.ndarray, scene: FaceScene, geo: HeadGeometry) -> None:
    """Lips, and the teeth and tongue when the mouth is open."""
    appearance, marks, unit = scene.appearance, geo.landmarks, geo.unit
    lip = appearance.lip_color
    outer = catmull_rom(marks[48:60], True, 5)
    fill_polygon(img, outer, lip)
    upper = np.concatenate([catmull_rom(marks[48:55], False, 5), catmull_rom(marks[[64, 63, 62, 61, 60]], False, 5)])
    fill_polygon(img, upper, shade(lip, 0.86))
    highlight = 0.5 * (marks[57] + marks[66])
    fill_ellipse(img, highlight, (0.12 * unit, 0.025 * unit), geo.roll_degrees, mix(lip, (255, 255, 255), 0.2))
    gap = float(np.linalg.norm(marks[66] - marks[62]))
    if gap > 0.6:
        inner = catmull_rom(marks[60:68], True, 5)
        box = bounding_box(inner, scene.height, scene.width, 1.0)
        if box is not None:
            x0, y0, x1, y1 = box
            offset = np.array([x0, y0], np.float64)
            patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
            patch[:] = (58, 20, 24)
            down = geo.down
            half_w = 0.5 * float(np.linalg.norm(marks[64] - marks[60]))
            angle = math.degrees(math.atan2(marks[64, 1] - marks[60, 1], marks[64, 0] - marks[60, 0]))
            tongue = marks[66] - offset + down * 0.01 * unit
            fill_ellipse(patch, tongue, (0.55 * half_w, 0.07 * unit), angle, (150, 64, 72))
            fill_ellipse(patch, marks[62] - offset, (0.72 * half_w, 0.06 * unit), angle, (236, 230, 216))  # teeth
            mask = np.zeros((scene.height, scene.width), np.uint8)
            fill_polygon(mask, inner, 255)
            blend(img, mask, patch.astype(np.float32), box)
    draw_polyline(img, catmull_rom(marks[60:65], False, 5), shade(lip, 0.45), 1)


def paint_glasses(img: np.ndarray, scene: FaceScene, geo: HeadGeometry, head: np.ndarray) -> None:
    """Tinted lenses, rims, the bridge, and the arms where they are not behind the head."""
    appearance, shape, unit = scene.appearance, scene.shape, geo.unit
    color = appearance.glasses_color
    thickness = max(1, int(round(0.04 * unit)))
    angles = np.linspace(0.0, 2.0 * math.pi, 33)[:-1]
    rx, ry = shape.eye_width + 0.12, shape.eye_height + 0.13
    exponent = 2.0 if appearance.glasses_round else 0.5  # superellipse exponent of the rim (0.5: rounded rectangle)
    cx = np.sign(np.cos(angles)) * np.abs(np.cos(angles)) ** exponent * rx
    cy = np.sign(np.sin(angles)) * np.abs(np.sin(angles)) ** exponent * ry
    if appearance.glasses_round:
        cx, cy = np.cos(angles) * 0.5 * (rx + ry), np.sin(angles) * 0.5 * (rx + ry)
    for side in (-1.0, 1.0):
        ring = np.column_stack([side * shape.eye_spacing + cx, 0.02 + cy, np.full(len(angles), LENS_Z)])
        pts = geo.project(ring)
        mask = np.zeros((scene.height, scene.width), np.uint8)
        fill_polygon(mask, pts, 255)
        box = bounding_box(pts, scene.height, scene.width, 1.0)
        if box is not None:
            blend(img, mask, (215, 228, 240), box, 0.14)
        draw_polyline(img, pts, color, thickness, closed=True)
        outer = np.array([[side * (shape.eye_spacing + rx), -0.02, LENS_Z - 0.04, 0.0],
                          [side * (shape.face_width + 0.02), 0.05, SKULL_DEPTH - 0.3, 1.0]])
        arm = geo.project(outer)
        if cv2.pointPolygonTest(head.astype(np.float32).reshape(-1, 1, 2), (float(arm[1, 0]), float(arm[1, 1])),
                                False) < 0:
            draw_polyline(img, arm, color, thickness)
    inner = shape.eye_spacing - (rx if not appearance.glasses_round else 0.5 * (rx + ry))
    bridge = np.array([[-inner, -0.02, LENS_Z], [0.0, -0.08, LENS_Z + 0.04], [inner, -0.02, LENS_Z]])
    draw_polyline(img, catmull_rom(geo.project(bridge), False, 6), color, thickness)
