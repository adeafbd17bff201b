"""The dance task's renderer: the three random draws, then per frame the pose, its keypoints, labels and picture."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from fsvid2vid.data.draw.pose import draw_openpose
from fsvid2vid.data.synth.common import BenchmarkRenderer, Frame, hsv_color, shade
from fsvid2vid.data.synth.dance.body import part_map
from fsvid2vid.data.synth.dance.painting import SUPERSAMPLE, paint_frame, room_background
from fsvid2vid.data.synth.dance.params import (
    BACK_PRINTS,
    BOTTOMS,
    FLOORS,
    FRONT_PRINTS,
    HAIR_COLORS,
    HAIR_STYLES,
    PATTERNS,
    SLEEVES,
    STYLES,
    TURNS,
    DanceAppearance,
    DanceMotion,
    DanceShape,
)
from fsvid2vid.data.synth.dance.skeleton import keypoints, pose_at


class DanceRenderer(BenchmarkRenderer):
    """Renderer of the dance task (see :mod:`fsvid2vid.data.synth.dance`)."""

    def __init__(self) -> None:
        super().__init__("dance", task_id=1)

    def sample_appearance(self, rng: np.random.Generator) -> DanceAppearance:
        """Skin, hair, garments and their pattern, shoes, the room (wall, decor, floor), then (benchmark version 2,
        drawn last so the earlier draws and the splits stay as they were) the front print, the back of the top and
        the bag."""
        tone = rng.random()
        skin = hsv_color(0.055 + 0.03 * rng.random(), 0.25 + 0.35 * tone, 0.95 - 0.6 * tone)
        decor = []
        for _ in range(int(rng.integers(0, 4))):
            color = _random_color(rng, (0.1, 0.7), (0.3, 0.9))
            decor.append((round(_uniform(rng, 0.0, 0.85), 4), round(_uniform(rng, 0.05, 0.45), 4),
                          round(_uniform(rng, 0.1, 0.3), 4), round(_uniform(rng, 0.08, 0.25), 4), *color))
        wall = _random_color(rng, (0.05, 0.45), (0.45, 0.95))
        drawn = dict(
            skin=skin,
            hair_style=_pick(rng, HAIR_STYLES),
            hair_color=_pick(rng, tuple(HAIR_COLORS)),
            top_pattern=_pick(rng, PATTERNS),
            top_color=_random_color(rng),
            top_color2=_random_color(rng, (0.0, 0.9), (0.2, 1.0)),
            pattern_scale=round(_uniform(rng, 0.035, 0.07), 4),
            sleeves=_pick(rng, SLEEVES),
            bottom=_pick(rng, BOTTOMS),
            bottom_color=_random_color(rng, (0.2, 0.8), (0.15, 0.8)),
            shoe_color=_random_color(rng, (0.0, 0.6), (0.1, 0.9)),
            wall_top=wall,
            wall_bottom=shade(wall, _uniform(rng, 0.7, 1.0)),
            floor_color=_random_color(rng, (0.1, 0.6), (0.2, 0.7)),
            floor=_pick(rng, FLOORS),
            decor=tuple(decor),
            texture_seed=int(rng.integers(2**31)),
        )
        return DanceAppearance(**drawn, **_sample_views(rng, drawn))

    def is_held_out(self, appearance: DanceAppearance) -> bool:
        """Checked tops with a skirt never occur in train (about 8 % of draws)."""
        return appearance.top_pattern == "checks" and appearance.bottom == "skirt"

    def sample_shape(self, rng: np.random.Generator) -> DanceShape:
        """Body proportions and limb widths, scaled together by a build from slim to broad."""
        build = _uniform(rng, 0.8, 1.25)  # slim .. broad
        return DanceShape(
            height=_uniform(rng, 0.66, 0.78),
            head_r=_uniform(rng, 0.058, 0.07),
            neck=_uniform(rng, 0.03, 0.05),
            torso=_uniform(rng, 0.27, 0.32),
            shoulder_w=_uniform(rng, 0.2, 0.26) * (0.9 + 0.1 * build),
            hip_w=_uniform(rng, 0.1, 0.15) * build,
            upper_arm=_uniform(rng, 0.16, 0.2),
            forearm=_uniform(rng, 0.14, 0.17),
            thigh=_uniform(rng, 0.23, 0.27),
            shin=_uniform(rng, 0.22, 0.26),
            foot=_uniform(rng, 0.05, 0.07),
            arm_w=_uniform(rng, 0.022, 0.03) * build,
            forearm_w=_uniform(rng, 0.017, 0.023) * build,
            thigh_w=_uniform(rng, 0.035, 0.045) * build,
            shin_w=_uniform(rng, 0.025, 0.033) * build,
            waist_w=_uniform(rng, 0.065, 0.09) * build,
        )

    def sample_motion(self, rng: np.random.Generator) -> DanceMotion:
        """A dance style with its tempo, arm and leg amplitudes, turning, sway, wandering and lean."""
        style = _pick(rng, STYLES)
        arms = 1.6 if style == "arms" else 1.0
        legs = 1.6 if style == "steps" else 1.0
        return DanceMotion(
            style=style,
            tempo=_uniform(rng, 0.7, 1.6),
            phase=_uniform(rng, 0, 2 * np.pi),
            arm_abduct=(_uniform(rng, 0.2, 1.2), _uniform(rng, 0.2, 0.6) * arms),
            arm_flex=(_uniform(rng, -0.2, 0.6), _uniform(rng, 0.1, 0.5) * arms),
            elbow=(_uniform(rng, 0.2, 1.2), _uniform(rng, 0.1, 0.6) * arms),
            arm_phase=float(rng.choice([0.0, np.pi, np.pi / 2])),
            hip_flex=(_uniform(rng, -0.05, 0.15), _uniform(rng, 0.05, 0.3) * legs),
            hip_abduct=(_uniform(rng, 0.0, 0.2), _uniform(rng, 0.0, 0.12) * legs),
            knee=(_uniform(rng, 0.05, 0.3), _uniform(rng, 0.05, 0.35) * legs),
            leg_phase=float(rng.choice([np.pi, np.pi / 2])),
            yaw0=_uniform(rng, -0.3, 0.3),  # the wobble stays within 0.6 rad: see skeleton.yaw_at
            yaw_amp=_uniform(rng, 0.05, 0.3),
            yaw_freq=_uniform(rng, 0.1, 0.35),
            spin_speed=float(rng.choice([-1, 1]) * _uniform(rng, 4.0, 5.5)) if style == "spin" else 0.0,
            sway=_uniform(rng, 0.005, 0.02),
            wander=_uniform(rng, 0.02, 0.08),
            wander_freq=_uniform(rng, 0.05, 0.2),
            wander_phase=_uniform(rng, 0, 2 * np.pi),
            bounce=_uniform(rng, 0.0, 0.015) * (1.5 if style == "groove" else 1.0),
            lean=_uniform(rng, 0.0, 0.12),
            center_x=_uniform(rng, 0.42, 0.58),
            turn_start=_uniform(rng, 0.0, 0.3),
            turn_time=_uniform(rng, 0.35, 0.5),
            turn_hold=_uniform(rng, 0.3, 1.2),
            turn_direction=float(rng.choice([-1.0, 1.0])),
            turn=_pick(rng, TURNS),
        )

    def render(self, appearance: DanceAppearance, shape: DanceShape, motion: DanceMotion, n_frames: int,
               height: int, width: int) -> Iterator[Frame]:
        room = room_background(appearance, height * SUPERSAMPLE, width * SUPERSAMPLE)
        for index in range(n_frames):
            pose = pose_at(shape, motion, index / self.fps, height, width)
            points = keypoints(pose)
            rgb, worn = paint_frame(appearance, shape, pose, room, height, width)
            parts = part_map(shape, pose, height, width)
            parts = np.where(parts == 0, worn, parts)  # the hair, bag and skirt beyond the body (version 3)
            layers = {"pose": draw_openpose(points, height, width), "parts": parts}
            yield Frame(rgb=rgb, layers=layers, points=points, view=pose.yaw)


def _sample_views(rng: np.random.Generator, drawn: dict[str, object]) -> dict[str, object]:
    """The view-dependent part of the look: a chest print that contrasts with the top, a back whose colour is the
    farthest of a few candidates from every colour of the front, its print, and (for about 40 % of dancers) a
    backpack of yet another colour."""
    top, top2 = drawn["top_color"], drawn["top_color2"]
    front = [top, top2] if drawn["top_pattern"] != "solid" else [top]
    front_print = _pick(rng, FRONT_PRINTS)
    print_color = _far_color(rng, front)
    back_color = _far_color(rng, [*front, print_color])
    back_print = _pick(rng, BACK_PRINTS)
    back_print_color = _far_color(rng, [back_color, *front])
    bag = "backpack" if rng.random() < 0.4 else "none"
    bag_color = _far_color(rng, [back_color, back_print_color, *front])
    return {"front_print": front_print, "print_color": print_color, "back_color": back_color,
            "back_print": back_print, "back_print_color": back_print_color, "bag": bag, "bag_color": bag_color}


def _far_color(rng: np.random.Generator, avoid: list, candidates: int = 12) -> tuple[int, int, int]:
    """Of ``candidates`` random colours, the one farthest (RGB distance) from the nearest colour of ``avoid``."""
    drawn = [_random_color(rng, (0.2, 0.95), (0.12, 1.0)) for _ in range(candidates)]
    avoid_rgb = np.asarray(avoid, np.float64)
    distance = [float(np.linalg.norm(avoid_rgb - np.asarray(c, np.float64), axis=1).min()) for c in drawn]
    return drawn[int(np.argmax(distance))]


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _random_color(rng: np.random.Generator, saturation: tuple[float, float] = (0.3, 0.9),
                  value: tuple[float, float] = (0.25, 0.95)) -> tuple[int, int, int]:
    return hsv_color(rng.random(), _uniform(rng, *saturation), _uniform(rng, *value))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


RENDERER = DanceRenderer()
