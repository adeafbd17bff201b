"""The face task's RGB frames: what is fixed for a clip (background, torso, hair texture) and the order of painting.

Static textures (hair strands, stubble, background) come from ``FaceAppearance.texture_seed`` and are attached to the
head (warped with it every frame), so nothing flickers. The facial features are painted by :mod:`.features`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fsvid2vid.data.draw.face import catmull_rom
from fsvid2vid.data.synth.common import (
    draw_polyline,
    fill_circle,
    fill_ellipse,
    fill_polygon,
    grid_noise,
    mix,
    shade,
    vertical_gradient,
)
from fsvid2vid.data.synth.face import features, marks
from fsvid2vid.data.synth.face.geometry import SKULL_DEPTH, HeadGeometry
from fsvid2vid.data.synth.face.hair import hair_shape, skull_outline
from fsvid2vid.data.synth.face.params import FaceAppearance, FaceShape
from fsvid2vid.data.synth.face.raster import blend, bounding_box


class FaceScene:
    """Everything that is fixed for one clip (colours, background, torso layer, hair texture); paints its frames."""

    def __init__(self, appearance: FaceAppearance, shape: FaceShape, height: int, width: int) -> None:
        self.appearance, self.shape, self.height, self.width = appearance, shape, height, width
        self.unit = shape.scale * height  # pixels per face unit
        rng = np.random.default_rng(appearance.texture_seed)
        self.background = self._background(rng)
        self.hair = hair_shape(shape, appearance)
        self.mark_outline = marks.mark_outline(appearance)
        self.skull = skull_outline(shape, 0.0, 0.0, 0.0, math.pi, 29)[1:-1]
        # Hair texture (strands, stubble, sheen) in face units [-3.2, 3.2] x [-3.2, 4.2] at the frame's pixel density.
        self.texture_origin = (-3.2, -3.2)
        tw, th = int(math.ceil(6.4 * self.unit)) + 2, int(math.ceil(7.4 * self.unit)) + 2
        if appearance.hair_style == "curly":
            strands = 0.55 * grid_noise(rng, th, tw, 52, 45) + 0.45 * grid_noise(rng, th, tw, 100, 86)
        else:
            strands = 0.3 * grid_noise(rng, th, tw, 6, 60) + 0.45 * grid_noise(rng, th, tw, 20, 160) \
                + 0.25 * grid_noise(rng, th, tw, 60, 52)
        grain = grid_noise(rng, th, tw, 230, 200)
        stubble = np.clip((grain - 0.25) * 2.0, 0.0, 1.0)
        # a soft sheen band across the top of the head (face units -> texture pixels)
        xs = (np.arange(tw, dtype=np.float32) + 0.5) / self.unit + self.texture_origin[0]
        ys = (np.arange(th, dtype=np.float32) + 0.5) / self.unit + self.texture_origin[1]
        y_sheen = shape.jaw_top - 0.62 * shape.cranium_height
        sheen = np.exp(-((ys[:, None] - y_sheen) / 0.28) ** 2) * np.exp(-(xs[None, :] / (0.75 * shape.face_width)) ** 2)
        self.texture = np.dstack([strands, stubble, sheen * (0.6 + 0.8 * strands)]).astype(np.float32)
        self.neck_color = shade(appearance.skin, 0.84)
        self.beard_color = appearance.hair_color if appearance.hair_color_name != "dyed" else appearance.brow_color
        self._torso_layer()

    # --- static layers ------------------------------------------------------------------------------------------

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        appearance, h, w = self.appearance, self.height, self.width
        if appearance.background == "solid":
            img = np.empty((h, w, 3), np.uint8)
            img[:] = appearance.background_a
        elif appearance.background == "gradient":
            img = vertical_gradient(h, w, appearance.background_a, appearance.background_b).copy()
        else:
            coarse = grid_noise(rng, h, w, 5, 5)
            fine = grid_noise(rng, h, w, 14, 14)
            t = np.clip(0.75 * coarse + 0.25 * fine, 0.0, 1.0)[..., None]
            img = ((1 - t) * np.asarray(appearance.background_a, np.float32)
                   + t * np.asarray(appearance.background_b, np.float32))
            img = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        # a soft vignette
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - 0.5 * w) / (0.75 * h)) ** 2 + ((yy - 0.45 * h) / (0.75 * h)) ** 2
        img = np.clip(img.astype(np.float32) * (1.0 - 0.22 * np.clip(r2, 0.0, 1.0))[..., None] + 0.5, 0, 255)
        return img.astype(np.uint8)

    def _to_px(self, xy: np.ndarray) -> np.ndarray:
        """Face units in the neutral pose to pixels (for the static torso)."""
        origin = np.array([0.5 * self.width + self.shape.center_dx * self.height, self.shape.eye_y * self.height])
        return origin + self.unit * np.asarray(xy, dtype=np.float64)

    def _torso_layer(self) -> None:
        """The shirt and collar, with their alpha, from the top row they cover (static: the head turns above)."""
        shape, appearance = self.shape, self.appearance
        h, w = self.height, self.width
        nw, fw = shape.neck_width, shape.face_width
        base = shape.chin_y + 0.5
        self.neck_base = self._to_px(np.array([[-nw * 1.06, base + 0.8], [nw * 1.06, base + 0.8]]))
        half = np.array([[nw + 0.2, base + 0.06], [fw * 1.75, base + 0.32], [fw * 2.45, base + 0.62],
                         [fw * 2.85, base + 1.2], [fw * 3.0, base + 3.0]])
        outline = np.concatenate([half[::-1] * np.array([-1.0, 1.0]), half])
        torso = self._to_px(catmull_rom(outline, False, 8))
        layer = np.zeros((h, w, 3), np.uint8)
        alpha = np.zeros((h, w), np.uint8)
        shirt = appearance.shirt_color
        fill_polygon(layer, torso, shirt)
        fill_polygon(alpha, torso, 255)
        # shoulder shading: darker towards the arms and the bottom
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx = 0.5 * w + shape.center_dx * h
        fall = 1.0 - 0.28 * np.clip(np.abs(xx - cx) / (fw * 2.8 * self.unit), 0.0, 1.0) ** 2 \
            - 0.1 * np.clip((yy - self.neck_base[0, 1]) / (1.5 * self.unit), 0.0, 1.0)
        layer = np.clip(layer.astype(np.float32) * fall[..., None] + 0.5, 0, 255).astype(np.uint8)
        collar_color = shade(shirt, 0.72) if sum(shirt) > 200 else shade(mix(shirt, (255, 255, 255), 0.25), 1.0)
        thickness = max(1, int(round(0.07 * self.unit)))
        if appearance.collar == "vneck":
            v = self._to_px(np.array([[-(nw + 0.06), base - 0.1], [0.0, base + 0.7], [nw + 0.06, base - 0.1]]))
            fill_polygon(alpha, v, 0)  # the neck drawn every frame shows through
            draw_polyline(layer, v, collar_color, thickness)
            draw_polyline(alpha, v, 255, thickness)
        else:
            arc = np.array([[-(nw + 0.1), base - 0.1], [-(nw + 0.05), base + 0.1], [-0.5 * nw, base + 0.26],
                            [0.0, base + 0.29], [0.5 * nw, base + 0.26], [nw + 0.05, base + 0.1],
                            [nw + 0.1, base - 0.1]])
            curve = self._to_px(catmull_rom(arc, False, 6))
            fill_polygon(alpha, curve, 0)
            if appearance.collar == "crew":
                draw_polyline(layer, curve, collar_color, thickness)
                draw_polyline(alpha, curve, 255, thickness)
            else:
                flap_color = mix(shirt, (255, 255, 255), 0.2)
                for side in (-1.0, 1.0):
                    flap = self._to_px(np.array([[side * (nw + 0.12), base - 0.2], [side * (nw + 0.5), base + 0.3],
                                                 [side * 0.12, base + 0.36], [side * 0.02, base + 0.3]]))
                    fill_polygon(layer, flap, flap_color)
                    fill_polygon(alpha, flap, 255)
                    draw_polyline(layer, flap, shade(flap_color, 0.7), 1, closed=True)
        rows = np.nonzero(alpha.max(axis=1))[0]
        self.torso_top = int(rows[0]) if rows.size else h
        self.torso_rgb = layer[self.torso_top:].astype(np.float32)
        self.torso_alpha = (alpha[self.torso_top:].astype(np.float32) / 255.0)[..., None]

    # --- per frame ----------------------------------------------------------------------------------------------

    def head_texture(self, geo: HeadGeometry) -> np.ndarray:
        """The hair texture warped with the head of this frame, (H, W, 3) float32: strands, stubble, sheen."""
        x0, y0 = self.texture_origin
        p = geo.project(np.array([[x0, y0, SKULL_DEPTH, 1.0], [x0 + 1.0, y0, SKULL_DEPTH, 1.0],
                                  [x0, y0 + 1.0, SKULL_DEPTH, 1.0]]))
        m = np.column_stack([(p[1] - p[0]) / self.unit, (p[2] - p[0]) / self.unit, p[0]]).astype(np.float64)
        return cv2.warpAffine(self.texture, m, (self.width, self.height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)

    def _paint_hair(self, img: np.ndarray, polys: list[np.ndarray], geo: HeadGeometry, texture: np.ndarray,
                    brightness: float, alpha: float, circles: list[tuple[np.ndarray, float]] | None = None) -> None:
        if not polys and not circles:
            return
        mask = np.zeros((self.height, self.width), np.uint8)
        outlines = []
        for poly in polys:
            pts = geo.project(poly)
            fill_polygon(mask, pts, 255)
            outlines.append(pts)
        for centre, radius in circles or []:
            c = geo.project(centre[None])[0]
            r = radius * geo.unit
            fill_circle(mask, c, r, 255)
            outlines.append(np.array([c - r, c + r]))
        box = bounding_box(np.concatenate(outlines), self.height, self.width, 2.0)
        if box is None:
            return
        x0, y0, x1, y1 = box
        strands = texture[y0:y1, x0:x1, 0]
        base = np.asarray(self.appearance.hair_color, np.float32) * brightness
        if self.appearance.hair_style == "shaved":
            col = base[None, None] * (0.8 + 0.4 * texture[y0:y1, x0:x1, 1:2])
        else:
            sheen = texture[y0:y1, x0:x1, 2:3] * 0.22
            col = base[None, None] * (0.7 + 0.45 * strands[..., None]) + 10.0 * strands[..., None]
            col = col + sheen * (255.0 - col)
        blend(img, mask, col, box, alpha)

    def _paint_lock_shadow(self, img: np.ndarray, lock: np.ndarray, inwards: np.ndarray) -> None:
        """A soft shadow that the lock (pixel outline ``lock``) casts on the face next to it (``inwards``)."""
        unit = self.unit
        box = bounding_box(lock, self.height, self.width, 0.3 * unit)
        if box is None:
            return
        mask = np.zeros((self.height, self.width), np.uint8)
        fill_polygon(mask, lock + inwards * 0.08 * unit, 255)
        fill_polygon(mask, lock, 0)
        x0, y0, x1, y1 = box
        mask[y0:y1, x0:x1] = cv2.GaussianBlur(mask[y0:y1, x0:x1], (0, 0), max(0.6, 0.05 * unit))
        blend(img, mask, shade(self.appearance.skin, 0.5), box, 0.5)

    def paint(self, geo: HeadGeometry) -> np.ndarray:
        """The (H, W, 3) RGB frame of the head in ``geo``."""
        appearance, shape = self.appearance, self.shape
        unit = geo.unit
        img = self.background.copy()
        texture = self.head_texture(geo)
        hair = self.hair
        self._paint_hair(img, hair.back, geo, texture, 0.72, 1.0, hair.back_circles)
        # neck, then the static torso over its base
        neck_top = geo.project(np.array([[-shape.neck_width, 0.75, SKULL_DEPTH + 0.3],
                                         [shape.neck_width, 0.75, SKULL_DEPTH + 0.3]]))
        neck = np.concatenate([neck_top, self.neck_base[::-1]])
        fill_polygon(img, neck, self.neck_color)
        # ears and the earring (the head covers their inner half, and all of them when they turn away)
        for side in (-1.0, 1.0) if hair.show_ears else (hair.tucked,) if hair.tucked else ():
            c = marks.ear_centre(shape, geo, side)
            angle = geo.roll_degrees + side * 8.0
            axes = marks.ear_axes(shape, geo)
            fill_ellipse(img, c, axes, angle, shade(appearance.skin, 0.92))
            inner = np.array([side * 0.03 * unit, 0.0])
            fill_ellipse(img, c + inner, (axes[0] * 0.5, axes[1] * 0.62), angle, shade(appearance.skin, 0.72))
        marks.paint_earring(img, self, geo)
        head = np.concatenate([geo.landmarks[0:17], geo.project(self.skull)])
        fill_polygon(img, head, appearance.skin)
        features.shade_skin(img, self, geo, head, neck)
        top = self.torso_top  # the static torso, in front of the neck
        if top < self.height:
            roi = img[top:].astype(np.float32)
            img[top:] = np.clip(roi + (self.torso_rgb - roi) * self.torso_alpha + 0.5, 0, 255).astype(np.uint8)
        marks.paint_cheek_mark(img, self, geo, head)
        if appearance.beard != "none":
            features.paint_beard(img, self, geo, texture)
        features.paint_brows(img, self, geo)
        features.paint_nostrils(img, self, geo)
        for side in (-1, 1):
            features.paint_eye(img, self, geo, side)
        features.paint_mouth(img, self, geo)
        front = hair.front
        if hair.lock is not None:  # how much the lock's side of the head faces the camera decides its width
            lock = hair.lock.polygon(shape, hair.lock.side * float(geo.rotation[2, 0]))
            self._paint_lock_shadow(img, geo.project(lock), -hair.lock.side * geo.rotation[:2, 0])
            front = front + [lock]
        self._paint_hair(img, front, geo, texture, 1.0, hair.front_alpha)
        if hair.part_line is not None:
            draw_polyline(img, catmull_rom(geo.project(hair.part_line)[:, :2], False, 6),
                          shade(appearance.hair_color, 0.55), max(1, int(round(0.025 * unit))))
        if appearance.glasses:
            features.paint_glasses(img, self, geo, head)
        return img
