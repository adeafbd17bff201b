"""What the three random draws of a street clip decide: the city's geometry, one drive, the city's style.

Field names are part of every clip's meta.json (``params``), so they stay as they are. Colours are RGB uint8 triples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Color = tuple[int, int, int]

FACADE_TEXTURES = ("plain", "brick", "panels", "stucco")
VEGETATION_KINDS = ("green", "yellow_green", "dark_green", "autumn")
SKY_KINDS = ("clear", "overcast", "sunset", "dusk")
SIDEWALK_PATTERNS = ("plain", "square", "slab", "brick")


@dataclass(frozen=True)
class StreetShape:
    """A city's street geometry (metres unless stated); the label maps depend on these values."""

    n_lanes: int  # traffic lanes, both directions together
    one_way: bool  # all lanes run in the camera's direction
    lane_width: float
    parking_width: float  # width of the parking strip on each side of the lanes (0: none)
    sidewalk_width: float
    verge_width: float  # grass strip between kerb and sidewalk, where present
    verge_fraction: float  # fraction of the street length that has a verge
    lawn_fraction: float  # fraction of the street length with a front lawn between sidewalk and facade
    setback: float  # distance from the sidewalk's outer edge to the facades
    setback_jitter: float  # extra setback of individual buildings, up to this much
    building_height_min: float
    building_height_max: float
    frontage_min: float
    frontage_max: float
    building_depth: float
    gap_prob: float  # probability of a gap after each building
    gap_min: float
    gap_max: float
    tree_spacing: float
    tree_prob: float  # probability that a tree slot holds a tree
    conifer_fraction: float
    tree_scale: float
    pole_spacing: float
    pole_height: float
    sign_prob: float  # probability that a pole carries a traffic sign
    parked_density: float  # probability that a parking slot holds a car
    traffic_density: float  # probability that a traffic slot (every 20 m of each lane) holds a car
    centre_line: str  # "dashed" or "double" (solid double line between the two directions)
    line_width: float
    dash_length: float
    dash_period: float
    crosswalk_prob: float  # probability of a zebra crossing in each 150 m of street
    camera_height: float
    camera_pitch_deg: float  # downward tilt of the camera


@dataclass(frozen=True)
class StreetMotion:
    """One drive down the street; ``world_seed`` expands into the objects along it (see :func:`.world.build_world`)."""

    speed: float  # mean forward speed (m/s)
    speed_wobble: float  # amplitude (m) of the smooth back-and-forth around constant speed
    speed_period: float  # seconds
    speed_phase: float
    sway: float  # amplitude (m) of the lateral sway within the lane
    sway_period: float
    sway_phase: float
    lane_u: float  # which of the camera's-direction lanes is driven in, as a uniform in [0, 1)
    curvature: float  # peak bend of the street (1/m); 0 for a straight street
    curve_period: float
    curve_phase: float
    world_seed: int


@dataclass(frozen=True)
class StreetAppearance:
    """A city's visual style (RGB only, never the labels). Colours are RGB uint8 triples."""

    facade_palette: tuple[Color, ...]
    facade_texture: str  # one of FACADE_TEXTURES
    texture_strength: float
    brick_size: float  # brick course height (m)
    panel_width: float
    mortar_color: Color
    window_color: Color
    window_reflect: float  # 0 = flat glass colour, 1 = strongly graded reflection
    window_frame_color: Color
    window_width_ratio: float  # of the window column spacing
    window_height_ratio: float  # of the floor height
    window_spacing: float
    floor_height: float
    ground_floor_height: float
    shop_prob: float  # probability that a building has a shop-window ground floor
    lit_windows: float  # fraction of windows lit from inside
    cornice_shade: float
    road_color: Color
    road_noise: float
    road_patchiness: float
    marking: str  # "white" or "yellow"
    marking_color: Color
    sidewalk_color: Color
    kerb_color: Color
    sidewalk_pattern: str  # one of SIDEWALK_PATTERNS
    tile_size: float
    vegetation: str  # one of VEGETATION_KINDS
    foliage_colors: tuple[Color, Color, Color]  # dark, mid, light
    trunk_color: Color
    terrain_color: Color
    sky: str  # one of SKY_KINDS
    sky_top: Color
    sky_bottom: Color
    cloud_color: Color
    cloudiness: float
    fog_distance: float  # metres at which 63 % of the colour is haze
    brightness: float
    tint: tuple[float, float, float]
    sun_side: int  # -1: facades on the left are sunlit, +1: the right ones
    side_shade: float  # how much darker the shaded side is
    car_palette: tuple[Color, ...]
    pole_color: Color
    texture_seed: int


def lerp(a: float, b: float, u: float | np.ndarray) -> float | np.ndarray:
    """``a`` at ``u`` = 0, ``b`` at ``u`` = 1."""
    return a + (b - a) * u
