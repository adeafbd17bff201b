"""One clip of the street task: everything computed once (rays, sky, textures, the world, colours) and its frames.

Rendering is a painter's algorithm: sky and ground are shaded per pixel from each pixel's viewing ray (vectorised
numpy, analytically box-filtered for anti-aliasing), buildings are drawn far to near as polygons and then shaded per
pixel from their facade coordinates (windows, bricks, panels), and trees, poles, signs and cars are drawn far to
near as anti-aliased polygons and discs. Label maps are drawn from the same geometry without anti-aliasing.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fsvid2vid.data.synth.common import mix, value_noise
from fsvid2vid.data.synth.street.buildings import draw_buildings, facade_layout
from fsvid2vid.data.synth.street.camera import FOCAL, Camera
from fsvid2vid.data.synth.street.filtering import tileable_blur
from fsvid2vid.data.synth.street.ground import draw_ground
from fsvid2vid.data.synth.street.objects import draw_objects
from fsvid2vid.data.synth.street.params import Color, StreetAppearance, StreetMotion, StreetShape
from fsvid2vid.data.synth.street.world import build_world


class StreetClip:
    """Everything computed once per clip and the per-frame rendering (:meth:`frame`)."""

    def __init__(self, appearance: StreetAppearance, shape: StreetShape, motion: StreetMotion, height: int,
                 width: int):
        self.appearance, self.shape = appearance, shape
        self.height, self.width = height, width
        self.world = world = build_world(shape, motion)
        self.focal = FOCAL * height
        self.cx, self.cy = width / 2.0, height / 2.0
        pitch = math.radians(shape.camera_pitch_deg)
        self.cos_pitch, self.sin_pitch = math.cos(pitch), math.sin(pitch)
        self.camera_height = shape.camera_height

        # Viewing rays of the pixel centres (camera pitched down: forward = (0, -sin, cos), up = (0, cos, sin)):
        # x per column, y and z per row.
        self.ray_x = (((np.arange(width) + 0.5) - self.cx) / self.focal).astype(np.float32)
        up = -((np.arange(height) + 0.5) - self.cy) / self.focal
        self.ray_y = (up * self.cos_pitch - self.sin_pitch).astype(np.float32)
        self.ray_z = (up * self.sin_pitch + self.cos_pitch).astype(np.float32)
        ground_rows = np.nonzero(self.ray_y < -1e-4)[0]
        self.first_ground_row = g0 = int(ground_rows[0]) if len(ground_rows) else height
        hit = self.camera_height / -self.ray_y[g0:].astype(np.float64)  # ray parameter of the ground hit, per row
        self.ground_ahead = hit * self.ray_z[g0:]  # distance ahead of the camera of each ground row
        self.ground_across = (hit[:, None] * self.ray_x[None, :]).astype(np.float32)  # camera-relative lateral position
        # Pixel footprints on the ground (m): across (x) and along (z) the street.
        self.footprint_across = ((hit / self.focal)[:, None]
                                 * (1.0 + np.abs(self.ground_across) / self.camera_height)).astype(np.float32)
        self.footprint_along = self.ground_ahead ** 2 / (self.camera_height * self.focal) + hit / self.focal
        distance = np.sqrt(self.ground_ahead[:, None] ** 2 + self.ground_across.astype(np.float64) ** 2)
        self.ground_haze = (1.0 - np.exp(-distance / appearance.fog_distance)).astype(np.float32)

        rng = np.random.default_rng([appearance.texture_seed, 11])
        self.tex_fine = rng.random((64, 64)).astype(np.float32)
        self.tex_coarse = tileable_blur(rng.random((64, 64)), 2.0)
        self.tex_cell = rng.random((64, 64)).astype(np.float32)
        self.tex_streak = tileable_blur(rng.random((1, 256)), 1.5)[0]

        self.haze = np.asarray(appearance.sky_bottom, np.float32)
        self._haze_rgb = tuple(float(c) for c in appearance.sky_bottom)
        self.sky = self._sky(rng)
        lut = np.arange(256, dtype=np.float64)[:, None] * appearance.brightness * np.asarray(appearance.tint)[None, :]
        self.light_lut = np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(256, 1, 3)

        shaded = 1.0 - appearance.side_shade
        # Light on the left and on the right side of the street.
        self.side_light = (1.0 if appearance.sun_side < 0 else shaded, 1.0 if appearance.sun_side > 0 else shaded)
        self.facades = facade_layout(appearance, world.buildings)
        palette = appearance.car_palette
        self.car_colors = [palette[min(int(u * len(palette)), len(palette) - 1)] for u in world.cars.color_u]
        # Evergreen, whatever the season.
        self.conifer_colors = [mix(c, (38, 66, 44), 0.75) for c in appearance.foliage_colors]
        self.road_shadow = tuple(0.35 * c for c in appearance.road_color)

    def _sky(self, rng: np.random.Generator) -> np.ndarray:
        """The sky (uint8 RGB): a gradient over the rays' elevation and clouds fixed to the view."""
        appearance = self.appearance
        elevation = np.clip(np.arctan2(self.ray_y, self.ray_z), 0.0, None).astype(np.float64)
        s = np.clip(elevation / 0.45, 0.0, 1.0) ** 0.7
        col = (1 - s)[:, None] * np.asarray(appearance.sky_bottom, np.float64) + s[:, None] * np.asarray(
            appearance.sky_top)
        img = np.broadcast_to(col[:, None, :], (self.height, self.width, 3)).copy()
        if appearance.cloudiness > 0:
            noise = (value_noise(rng, self.height, self.width, 7) * 0.6
                     + value_noise(rng, self.height, self.width, 22) * 0.4)
            sharp, opacity = (1.6, 0.75) if appearance.sky == "overcast" else (3.5, 0.9)
            cover = (np.clip((noise - (1.0 - appearance.cloudiness)) * sharp, 0.0, 1.0)
                     * np.clip(s * 3.0, 0.0, opacity)[:, None])
            img += cover[..., None] * (np.asarray(appearance.cloud_color, np.float64) - img)
        return np.clip(np.round(img), 0, 255).astype(np.uint8)

    def hazed(self, color: Color | tuple[float, ...], depth: float, factor: float = 1.0) -> Color:
        """Colour ``color`` scaled by ``factor`` and faded into the haze at ``depth`` metres."""
        g = 1.0 - math.exp(-depth / self.appearance.fog_distance) if depth > 0 else 0.0
        k = (1.0 - g) * factor
        h = self._haze_rgb
        return (min(255, int(color[0] * k + g * h[0])), min(255, int(color[1] * k + g * h[1])),
                min(255, int(color[2] * k + g * h[2])))

    def frame(self, camera_x: float, camera_z: float, bend: float, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Label map and RGB image with the camera at (camera_x, camera_z), street bend ``bend``, at time ``t``."""
        cam = Camera(camera_x, camera_z, bend, self.camera_height, self.cos_pitch, self.sin_pitch, self.focal,
                     self.cx, self.cy)
        labels = np.zeros((self.height, self.width), np.uint8)
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        rgb[: self.first_ground_row] = self.sky[: self.first_ground_row]
        draw_ground(self, cam, labels, rgb)
        draw_buildings(self, cam, labels, rgb)
        draw_objects(self, cam, labels, rgb, t)
        return labels, cv2.LUT(rgb, self.light_lut)
