"""The street task's renderer: the three random draws, then the frames of the drive."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from fsvid2vid.data.synth.common import BenchmarkRenderer, Frame, hsv_color, mix, shade
from fsvid2vid.data.synth.street.camera import camera_path
from fsvid2vid.data.synth.street.clip import StreetClip
from fsvid2vid.data.synth.street.params import (
    FACADE_TEXTURES,
    SIDEWALK_PATTERNS,
    SKY_KINDS,
    VEGETATION_KINDS,
    StreetAppearance,
    StreetMotion,
    StreetShape,
    lerp,
)


class StreetRenderer(BenchmarkRenderer):
    """Street scenes seen from a driving car (see :mod:`fsvid2vid.data.synth.street`)."""

    def __init__(self) -> None:
        super().__init__("street", task_id=3)

    def sample_shape(self, rng: np.random.Generator) -> StreetShape:
        """A city's street geometry."""
        u = rng.random(40).tolist()
        n_lanes = int((2, 2, 3, 4)[int(u[0] * 4)])
        min_height = lerp(6.0, 15.0, u[9])
        min_frontage = lerp(7.0, 14.0, u[11])
        min_gap = lerp(2.5, 6.0, u[15])
        dash = lerp(1.5, 3.5, u[28])
        return StreetShape(
            n_lanes=n_lanes, one_way=bool(u[1] < 0.15), lane_width=round(lerp(2.8, 3.7, u[2]), 3),
            parking_width=0.0 if u[3] < 0.35 else round(lerp(2.0, 2.5, u[4]), 3),
            sidewalk_width=lerp(1.8, 5.0, u[5]), verge_width=lerp(0.8, 2.5, u[6]),
            verge_fraction=lerp(0.0, 0.8, u[7]) if u[8] < 0.7 else 0.0, lawn_fraction=lerp(0.0, 0.7, u[39]),
            setback=lerp(0.0, 4.5, u[10] ** 1.5), setback_jitter=lerp(0.0, 2.5, u[36]),
            building_height_min=min_height, building_height_max=min_height + lerp(4.0, 28.0, u[12]),
            frontage_min=min_frontage, frontage_max=min_frontage + lerp(5.0, 28.0, u[13]),
            building_depth=lerp(12.0, 30.0, u[14]),
            gap_prob=lerp(0.08, 0.5, u[16]), gap_min=min_gap, gap_max=min_gap + lerp(3.0, 14.0, u[17]),
            tree_spacing=lerp(8.0, 20.0, u[18]), tree_prob=lerp(0.3, 0.95, u[19]),
            conifer_fraction=lerp(0.0, 0.5, u[20]) if u[21] < 0.4 else 0.0, tree_scale=lerp(0.75, 1.3, u[22]),
            pole_spacing=lerp(18.0, 38.0, u[23]), pole_height=lerp(5.5, 9.0, u[24]),
            sign_prob=lerp(0.3, 0.8, u[25]), parked_density=lerp(0.25, 0.9, u[26]),
            traffic_density=lerp(0.2, 0.6, u[27]), centre_line="double" if u[29] < 0.4 else "dashed",
            line_width=lerp(0.1, 0.18, u[30]), dash_length=dash, dash_period=dash + lerp(3.0, 9.0, u[31]),
            crosswalk_prob=lerp(0.0, 0.8, u[32]), camera_height=lerp(1.3, 1.9, u[33]),
            camera_pitch_deg=lerp(0.0, 4.0, u[34]),
        )

    def sample_motion(self, rng: np.random.Generator) -> StreetMotion:
        """One drive: speed, sway, bend and the seed of the objects along the street."""
        u = rng.random(12).tolist()
        return StreetMotion(
            speed=lerp(5.0, 14.0, u[0]), speed_wobble=lerp(0.0, 1.5, u[1]), speed_period=lerp(4.0, 10.0, u[2]),
            speed_phase=2 * math.pi * u[3], sway=lerp(0.05, 0.35, u[4]), sway_period=lerp(3.0, 8.0, u[5]),
            sway_phase=2 * math.pi * u[6], lane_u=float(u[7]),
            curvature=0.0 if u[8] < 0.5 else (1 if u[9] < 0.5 else -1) * lerp(3e-4, 1.2e-3, u[10]),
            curve_period=lerp(12.0, 30.0, u[11]), curve_phase=2 * math.pi * u[9],
            world_seed=int(rng.integers(0, 2**31 - 1)),
        )

    def sample_appearance(self, rng: np.random.Generator) -> StreetAppearance:
        """A city's visual style."""
        u = rng.random(64).tolist()

        def pick(options: tuple[str, ...], probs: tuple[float, ...], x: float) -> str:
            return options[int(np.searchsorted(np.cumsum(probs), x * sum(probs), side="right"))]

        family = int(u[0] * 5)
        n_facade_colors = 2 + int(u[1] * 3)
        palette_rng = np.random.default_rng(int(u[2] * 2**31))
        palette = []
        for _ in range(n_facade_colors):
            a, b, c = palette_rng.random(3)
            if family == 0:  # warm ochres and creams
                col = hsv_color(lerp(0.05, 0.14, a), lerp(0.2, 0.5, b), lerp(0.6, 0.9, c))
            elif family == 1:  # cool greys and whites
                col = hsv_color(lerp(0.5, 0.65, a), lerp(0.02, 0.15, b), lerp(0.55, 0.92, c))
            elif family == 2:  # pastels
                col = hsv_color(a, lerp(0.18, 0.35, b), lerp(0.78, 0.95, c))
            elif family == 3:  # reds and browns
                col = hsv_color(lerp(-0.02, 0.06, a), lerp(0.4, 0.65, b), lerp(0.38, 0.62, c))
            else:  # concrete
                col = hsv_color(a, lerp(0.0, 0.06, b), lerp(0.42, 0.72, c))
            palette.append(col)

        texture = FACADE_TEXTURES[int(u[3] * 4)]
        vegetation = pick(VEGETATION_KINDS, (0.35, 0.2, 0.25, 0.2), u[4])
        sky = pick(SKY_KINDS, (0.4, 0.25, 0.2, 0.15), u[5])
        marking = "yellow" if u[6] < 0.35 else "white"

        if vegetation == "green":
            leaf = hsv_color(lerp(0.24, 0.33, u[7]), lerp(0.5, 0.7, u[8]), lerp(0.42, 0.58, u[9]))
        elif vegetation == "yellow_green":
            leaf = hsv_color(lerp(0.16, 0.21, u[7]), lerp(0.55, 0.75, u[8]), lerp(0.55, 0.7, u[9]))
        elif vegetation == "dark_green":
            leaf = hsv_color(lerp(0.3, 0.4, u[7]), lerp(0.45, 0.7, u[8]), lerp(0.22, 0.34, u[9]))
        else:
            leaf = hsv_color(lerp(0.0, 0.09, u[7]), lerp(0.7, 0.88, u[8]), lerp(0.55, 0.78, u[9]))
        foliage = (shade(leaf, 0.7), leaf, shade(mix(leaf, (255, 240, 160), 0.15), 1.15))
        if vegetation == "autumn":
            terrain = hsv_color(lerp(0.08, 0.14, u[10]), lerp(0.35, 0.55, u[11]), lerp(0.45, 0.6, u[12]))
        elif u[13] < 0.2:  # bare earth
            terrain = hsv_color(lerp(0.06, 0.1, u[10]), lerp(0.3, 0.45, u[11]), lerp(0.38, 0.52, u[12]))
        else:
            terrain = shade(mix(leaf, (120, 150, 60), 0.4), lerp(0.85, 1.1, u[12]))

        if sky == "clear":
            top = hsv_color(lerp(0.56, 0.62, u[14]), lerp(0.5, 0.75, u[15]), lerp(0.72, 0.9, u[16]))
            bottom = hsv_color(lerp(0.55, 0.6, u[14]), lerp(0.1, 0.25, u[15]), 0.96)
            cloud, cloudiness, fog = (250, 250, 250), lerp(0.0, 0.35, u[17]), lerp(600.0, 1200.0, u[18])
            brightness, tint, side_shade = lerp(0.95, 1.1, u[19]), (1.0, 1.0, 1.0), lerp(0.15, 0.35, u[20])
        elif sky == "overcast":
            g = lerp(0.62, 0.8, u[14])
            top, bottom = hsv_color(0.6, 0.05, g), hsv_color(0.6, 0.03, min(1.0, g + 0.12))
            cloud, cloudiness, fog = hsv_color(0.6, 0.04, g - 0.12), lerp(0.4, 0.8, u[17]), lerp(250.0, 500.0, u[18])
            brightness, tint, side_shade = lerp(0.8, 0.95, u[19]), (0.96, 0.99, 1.04), lerp(0.0, 0.08, u[20])
        elif sky == "sunset":
            top = hsv_color(lerp(0.62, 0.74, u[14]), lerp(0.35, 0.55, u[15]), lerp(0.5, 0.65, u[16]))
            bottom = hsv_color(lerp(0.03, 0.1, u[14]), lerp(0.55, 0.75, u[15]), 1.0)
            cloud, cloudiness, fog = hsv_color(0.95, 0.35, 0.95), lerp(0.1, 0.5, u[17]), lerp(400.0, 800.0, u[18])
            brightness, tint, side_shade = lerp(0.85, 1.0, u[19]), (1.1, 0.95, 0.82), lerp(0.25, 0.45, u[20])
        else:  # dusk
            top = hsv_color(lerp(0.6, 0.68, u[14]), lerp(0.55, 0.75, u[15]), lerp(0.18, 0.3, u[16]))
            bottom = hsv_color(lerp(0.05, 0.1, u[14]), lerp(0.4, 0.6, u[15]), lerp(0.5, 0.65, u[16]))
            cloud, cloudiness, fog = hsv_color(0.7, 0.3, 0.35), lerp(0.0, 0.4, u[17]), lerp(300.0, 600.0, u[18])
            brightness, tint, side_shade = lerp(0.55, 0.7, u[19]), (0.9, 0.95, 1.12), lerp(0.0, 0.1, u[20])

        window_kind = u[21]
        if sky == "dusk":
            window = hsv_color(0.62, 0.3, 0.18)
        elif window_kind < 0.4:
            window = hsv_color(lerp(0.55, 0.62, u[22]), lerp(0.3, 0.6, u[23]), lerp(0.25, 0.45, u[24]))
        elif window_kind < 0.7:
            window = hsv_color(0.6, 0.05, lerp(0.15, 0.3, u[24]))
        else:
            window = hsv_color(lerp(0.5, 0.6, u[22]), lerp(0.15, 0.35, u[23]), lerp(0.55, 0.75, u[24]))
        frame = (240, 240, 235) if u[25] < 0.4 else hsv_color(u[26], lerp(0.0, 0.3, u[26]), lerp(0.15, 0.5, u[27]))

        road = hsv_color(lerp(0.55, 0.65, u[28]), lerp(0.0, 0.08, u[29]), lerp(0.24, 0.5, u[30]))
        marking_color = hsv_color(0.13, lerp(0.75, 0.9, u[31]), 0.92) if marking == "yellow" else (238, 238, 232)
        sidewalk = hsv_color(lerp(0.0, 0.12, u[32]), lerp(0.0, 0.3, u[33] ** 2), lerp(0.5, 0.8, u[34]))
        kerb = hsv_color(0.1, 0.03, lerp(0.6, 0.85, u[35]))

        car_base = [(235, 235, 235), (25, 25, 28), (160, 162, 168), (95, 98, 104), (170, 25, 30), (30, 60, 140),
                    (30, 80, 50), (220, 180, 40), (120, 70, 40), (200, 90, 30)]
        car_palette_rng = np.random.default_rng(int(u[36] * 2**31))
        n_car_colors = 3 + int(u[37] * 3)
        car_palette = tuple(shade(car_base[int(i)], lerp(0.85, 1.1, car_palette_rng.random()))
                            for i in car_palette_rng.choice(len(car_base), n_car_colors, replace=False))
        pole = ((70, 72, 76), (40, 70, 50), (175, 178, 182), (30, 30, 32))[int(u[38] * 4)]

        return StreetAppearance(
            facade_palette=tuple(palette), facade_texture=texture, texture_strength=lerp(0.5, 1.0, u[39]),
            brick_size=lerp(0.22, 0.4, u[40]), panel_width=lerp(1.2, 3.0, u[41]),
            mortar_color=hsv_color(0.1, 0.08, lerp(0.55, 0.85, u[42])), window_color=window,
            window_reflect=lerp(0.1, 0.8, u[43]), window_frame_color=frame,
            window_width_ratio=lerp(0.35, 0.7, u[44]), window_height_ratio=lerp(0.4, 0.65, u[45]),
            window_spacing=lerp(2.2, 4.0, u[46]), floor_height=lerp(2.9, 3.8, u[47]),
            ground_floor_height=lerp(3.6, 4.8, u[48]), shop_prob=lerp(0.0, 0.9, u[49]),
            lit_windows=lerp(0.25, 0.6, u[50]) if sky == "dusk" else 0.0,
            cornice_shade=lerp(0.75, 1.2, u[51]), road_color=road, road_noise=lerp(0.04, 0.16, u[52]),
            road_patchiness=lerp(0.0, 0.2, u[53]), marking=marking, marking_color=marking_color,
            sidewalk_color=sidewalk,
            kerb_color=kerb, sidewalk_pattern=SIDEWALK_PATTERNS[int(u[54] * 4)], tile_size=lerp(0.3, 0.9, u[55]),
            vegetation=vegetation, foliage_colors=foliage, trunk_color=hsv_color(0.07, 0.45, lerp(0.22, 0.38, u[56])),
            terrain_color=terrain, sky=sky, sky_top=top, sky_bottom=bottom, cloud_color=cloud, cloudiness=cloudiness,
            fog_distance=fog, brightness=brightness,
            tint=tuple(round(t * lerp(0.97, 1.03, u[57 + i]), 4) for i, t in enumerate(tint)),  # type: ignore[arg-type]
            sun_side=-1 if u[60] < 0.5 else 1, side_shade=side_shade, car_palette=car_palette, pole_color=pole,
            texture_seed=int(rng.integers(0, 2**31 - 1)),
        )

    def is_held_out(self, appearance: StreetAppearance) -> bool:
        """Held-out style combinations, never drawn for the train split (about 12 % of all draws).

        A city is held out when it has brick facades together with autumn vegetation (5 % of draws), or a sunset
        sky together with yellow lane markings (7 % of draws). Of the first 1000 subject seeds, 11.0 % are held out.
        """
        brick_autumn = appearance.facade_texture == "brick" and appearance.vegetation == "autumn"
        sunset_yellow = appearance.sky == "sunset" and appearance.marking == "yellow"
        return brick_autumn or sunset_yellow

    def render(self, appearance: StreetAppearance, shape: StreetShape, motion: StreetMotion, n_frames: int,
               height: int, width: int) -> Iterator[Frame]:
        """Yield ``n_frames`` frames of the drive; frame i shows time i / fps and does not depend on n_frames."""
        clip = StreetClip(appearance, shape, motion, height, width)
        for i in range(n_frames):
            t = i / self.fps
            sway, z, bend = camera_path(motion, t)
            labels, rgb = clip.frame(clip.world.camera_lane_x + sway, z, bend, t)
            yield Frame(rgb, {"labels": labels}, None)


RENDERER = StreetRenderer()
