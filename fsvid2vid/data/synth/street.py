"""Street scenes: a camera driving down a procedural city street, labelled with ten Cityscapes-like classes.

The scene is a true pinhole-camera view (the camera sits ``camera_height`` metres above the road and looks down the
street, pitched slightly down, so everything converges towards a vanishing point near the horizon). The world is a
flat ground plane seen from a camera that moves forward along the street axis ``z``; ``x`` points to the right and
``y`` up. A gentle bend of the street is modelled by shifting every point sideways by ``kappa * dz**2 / 2`` in camera
space (``dz`` = distance ahead of the camera), the usual small-curvature approximation of a curved road.

The three random draws:

* :class:`StreetShape` (the city's geometry, which the label maps depend on): number and width of lanes, parking
  strips, sidewalks, grass verges, building setbacks, heights and frontages, the density of trees, poles, signs and
  cars, the road markings' geometry, and the camera's height and pitch.
* :class:`StreetMotion` (one drive): speed, speed wobble, lateral sway, the lane driven in, the bend of the street and
  a ``world_seed`` from which the sequence of buildings, trees, poles, signs, parked cars and moving cars along the
  street is expanded at render time. The expansion draws a fixed number of uniforms in a fixed order and only then
  maps them through the shape's ranges, so a motion combined with another city's shape gives the corresponding
  street of that city, and the label map is a function of (shape, motion, t, height, width) only.
* :class:`StreetAppearance` (the city's style): facade palette and texture, windows, asphalt, markings, sidewalks,
  vegetation, sky, light, cars and poles, plus a ``texture_seed`` for the static textures. Textures are attached to
  the world (road and sidewalk textures to ground coordinates, facade textures to facade coordinates), so they move
  with the scene instead of flickering.

Rendering is a painter's algorithm: sky and ground are shaded per pixel from each pixel's viewing ray (vectorised
numpy, analytically box-filtered for anti-aliasing), buildings are drawn far to near as polygons and then shaded per
pixel from their facade coordinates (windows, bricks, panels), and trees, poles, signs and cars are drawn far to
near as anti-aliased polygons and discs. Label maps are drawn from the same geometry without anti-aliasing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from fsvid2vid.data.semantics import STREET_CLASSES, task_aspect, task_layers
from fsvid2vid.data.synth.common import SHIFT, Frame, hsv_color, mix, shade, value_noise

CLASSES = STREET_CLASSES
SKY, ROAD, LANE_MARKING, SIDEWALK, BUILDING, VEGETATION, POLE, CAR, TRAFFIC_SIGN, TERRAIN = range(10)

#: Focal length in units of the frame height (vertical field of view about 41 degrees, horizontal about 73).
FOCAL = 1.35
#: Near clipping distance of the camera (metres).
NEAR = 0.3
#: The procedural world repeats every WORLD_PERIOD metres along the street (a drive of 100 s at 16 m/s).
WORLD_PERIOD = 1600.0
#: Objects up to this far behind the camera are still considered (longer than the longest building).
BACK = 80.0
#: Draw distances (metres) of buildings and of the small objects (trees, poles, signs, cars).
FAR_BUILDINGS = 500.0
FAR_OBJECTS = 220.0
#: Cars nearer than this (m) get a shadow, tyres and wheels.
CAR_DETAIL_DISTANCE = 90.0
#: Width of the kerb stone between road and sidewalk (labelled sidewalk).
KERB = 0.25

Color = tuple[int, int, int]

FACADE_TEXTURES = ("plain", "brick", "panels", "stucco")
VEGETATION_KINDS = ("green", "yellow_green", "dark_green", "autumn")
SKY_KINDS = ("clear", "overcast", "sunset", "dusk")
SIDEWALK_PATTERNS = ("plain", "square", "slab", "brick")


# ----------------------------------------------------------------------------------------------------------------
# The three random draws
# ----------------------------------------------------------------------------------------------------------------


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
    """One drive down the street; ``world_seed`` expands into the objects along it (see :func:`build_world`)."""

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


# ----------------------------------------------------------------------------------------------------------------
# Small numeric helpers
# ----------------------------------------------------------------------------------------------------------------


def _lerp(a: float, b: float, u: float | np.ndarray) -> float | np.ndarray:
    return a + (b - a) * u


def _band(x: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, fp: np.ndarray | float) -> np.ndarray:
    """Fraction of the pixel footprint ``[x - fp/2, x + fp/2]`` inside ``[lo, hi]`` (a box-filtered step)."""
    h = 0.5 * fp
    return np.clip((np.minimum(hi, x + h) - np.maximum(lo, x - h)) / fp, 0.0, 1.0)


def _pbox_integral(x: np.ndarray, a: float, b: float) -> np.ndarray:
    fl = np.floor(x)
    return fl * (b - a) + np.clip(x - fl, a, b) - a


def _pbox(x: np.ndarray, a: float, b: float, w: np.ndarray | float) -> np.ndarray:
    """Box-filtered indicator of the period-1 pattern ``frac(x) in [a, b]`` over a footprint ``w`` (period units)."""
    w = np.maximum(w, 1e-4)
    return (_pbox_integral(x + 0.5 * w, a, b) - _pbox_integral(x - 0.5 * w, a, b)) / w


def _pin(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """Point-sampled indicator of ``frac(x) in [a, b)``."""
    f = x - np.floor(x)
    return (f >= a) & (f < b)


def _in_intervals(z: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each world position ``z`` (wrapped into the world period) lies in one of the sorted intervals."""
    zm = np.mod(z, WORLD_PERIOD)
    if len(starts) == 0:
        return np.zeros(zm.shape, bool)
    idx = np.searchsorted(starts, zm, side="right") - 1
    return (idx >= 0) & (zm < ends[np.maximum(idx, 0)])


def _wrap_rel(z: np.ndarray, cam_z: float) -> np.ndarray:
    """World positions relative to the camera, wrapped into ``[-BACK, WORLD_PERIOD - BACK)``."""
    return np.mod(z - cam_z + BACK, WORLD_PERIOD) - BACK


def _fog(d: float, fog_distance: float) -> float:
    return 1.0 - math.exp(-max(d, 0.0) / fog_distance)


# ----------------------------------------------------------------------------------------------------------------
# The world along the street
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _World:
    """Everything along one drive's street, in world metres (sides: 0 = left, 1 = right)."""

    road_half: float  # |x| of the road edge (kerb)
    lanes_half: float  # |x| of the outer edge of the traffic lanes
    verge_inner: float  # |x| where the verge (if present) starts
    verge_outer: float
    sidewalk_outer: float
    line_types: np.ndarray  # per lane boundary k = 0..n: 0 none, 1 dashed, 2 solid, 3 double solid
    # buildings, one row each
    b_side: np.ndarray
    b_z1: np.ndarray
    b_len: np.ndarray
    b_x: np.ndarray  # |x| of the facade
    b_height: np.ndarray
    b_depth: np.ndarray
    b_u: np.ndarray  # (N, 5) uniforms for colour and style (RGB only)
    bld_iv: list[tuple[np.ndarray, np.ndarray]]  # per side: building intervals along z
    verge_iv: list[tuple[np.ndarray, np.ndarray]]
    lawn_iv: list[tuple[np.ndarray, np.ndarray]]
    cross_iv: tuple[np.ndarray, np.ndarray]
    # trees
    t_z: np.ndarray
    t_x: np.ndarray  # signed
    t_trunk: np.ndarray
    t_radius: np.ndarray
    t_conifer: np.ndarray
    t_u: np.ndarray
    # poles
    p_z: np.ndarray
    p_x: np.ndarray  # signed
    p_height: np.ndarray
    p_arm: np.ndarray
    p_sign: np.ndarray  # -1 none, else the sign kind 0..4
    p_sign_h: np.ndarray
    # cars (parked cars have speed 0)
    c_z0: np.ndarray
    c_x: np.ndarray  # signed centre
    c_speed: np.ndarray
    c_len: np.ndarray
    c_width: np.ndarray
    c_body: np.ndarray  # body top height
    c_cabin: np.ndarray  # cabin height
    c_van: np.ndarray
    c_front: np.ndarray  # True: the car faces the camera (its front is seen)
    c_u: np.ndarray  # colour uniform
    # the camera's lane centre
    cam_lane_x: float


def _segments(u: np.ndarray, fraction: float, min_len: float, max_len: float) -> tuple[np.ndarray, np.ndarray]:
    """On-intervals of an on/off segmentation of the street: (K, 2) uniforms -> lengths and on-flags."""
    lengths = min_len + (max_len - min_len) * u[:, 0]
    ends = np.cumsum(lengths)
    starts = ends - lengths
    keep = (u[:, 1] < fraction) & (starts < WORLD_PERIOD)
    return starts[keep], np.minimum(ends[keep], WORLD_PERIOD)


def build_world(shape: StreetShape, motion: StreetMotion) -> _World:
    """Expand ``motion.world_seed`` into the street's objects, using ``shape``'s ranges (deterministic)."""
    rng = np.random.default_rng([motion.world_seed, 7])
    # Fixed-size draws in a fixed order, independent of the shape.
    ub = rng.random((2, 400, 12))
    useg = rng.random((2, 2, 200, 2))
    ucross = rng.random((12, 3))
    utree = rng.random((2, 250, 7))
    upole = rng.random((2, 120, 6))
    upark = rng.random((2, 300, 6))
    utraffic = rng.random((4, 80, 7))
    ulane = rng.random(4)

    n = shape.n_lanes
    lanes_half = n * shape.lane_width / 2.0
    road_half = lanes_half + shape.parking_width
    verge_inner = road_half + KERB
    verge_outer = verge_inner + shape.verge_width
    sidewalk_outer = verge_outer + shape.sidewalk_width
    n_opp = 0 if shape.one_way else n // 2

    line_types = np.ones(n + 1, np.int64)
    line_types[0] = line_types[n] = 2 if shape.parking_width > 0 else 0
    if n_opp > 0:
        line_types[n_opp] = 3 if shape.centre_line == "double" else 1

    # Buildings and the gaps between them.
    rows: list[tuple[float, ...]] = []
    bld_iv = []
    for side in range(2):
        u = ub[side]
        z = 12.0 * u[0, 11]
        starts, ends = [], []
        for i in range(u.shape[0]):
            length = _lerp(shape.frontage_min, shape.frontage_max, u[i, 0])
            length = min(length, WORLD_PERIOD - 3.0 - z)
            if length < 4.0:
                break
            x = sidewalk_outer + shape.setback + shape.setback_jitter * u[i, 1] ** 2
            height = _lerp(shape.building_height_min, shape.building_height_max, u[i, 2])
            depth = shape.building_depth * (0.7 + 0.6 * u[i, 3])
            rows.append((side, z, length, x, height, depth, *u[i, 4:9]))
            starts.append(z)
            ends.append(z + length)
            z += length
            if u[i, 9] < shape.gap_prob:
                z += _lerp(shape.gap_min, shape.gap_max, u[i, 10])
        bld_iv.append((np.array(starts), np.array(ends)))
    b = np.array(rows, np.float64)

    verge_iv = [_segments(useg[s, 0], shape.verge_fraction, 15.0, 70.0) for s in range(2)]
    lawn_iv = [_segments(useg[s, 1], shape.lawn_fraction, 15.0, 60.0) for s in range(2)]
    cz = np.arange(len(ucross)) * 150.0 + 20.0 + 100.0 * ucross[:, 0]
    ckeep = (ucross[:, 1] < shape.crosswalk_prob) & (cz < WORLD_PERIOD - 10.0)
    cross_iv = (cz[ckeep], cz[ckeep] + 3.0 + 1.5 * ucross[ckeep, 2])

    # Trees: on the verge where there is one, else in a tree pit near the kerb or on the front lawn.
    tz, tx, ttr, tr, tcon, tu = [], [], [], [], [], []
    for side in range(2):
        sign = 1.0 if side else -1.0
        u = utree[side]
        slots = np.arange(len(u)) * shape.tree_spacing + shape.tree_spacing * 0.6 * u[:, 0]
        keep = (u[:, 1] < shape.tree_prob) & (slots < WORLD_PERIOD - 2.0)
        z = slots[keep]
        uu = u[keep]
        on_verge = _in_intervals(z, *verge_iv[side])
        on_lawn = _in_intervals(z, *lawn_iv[side]) & (shape.setback > 2.5) & (uu[:, 2] < 0.5)
        x = np.where(on_verge, (verge_inner + verge_outer) / 2.0, verge_inner + 0.7)
        x = np.where(on_lawn, sidewalk_outer + shape.setback * (0.35 + 0.3 * uu[:, 3]), x)
        tz.append(z)
        tx.append(sign * x)
        ttr.append((1.6 + 1.4 * uu[:, 4]) * shape.tree_scale)
        tr.append((1.4 + 1.6 * uu[:, 5]) * shape.tree_scale)
        tcon.append(uu[:, 6] < shape.conifer_fraction)
        tu.append(uu[:, 2:4])

    # Poles (lamp posts), some carrying a traffic sign.
    pz, px, ph, parm, psign, psh = [], [], [], [], [], []
    for side in range(2):
        sign = 1.0 if side else -1.0
        u = upole[side]
        slots = np.arange(len(u)) * shape.pole_spacing + 6.0 * u[:, 0]
        keep = (u[:, 1] < 0.92) & (slots < WORLD_PERIOD - 2.0)
        uu = u[keep]
        pz.append(slots[keep])
        px.append(np.full(len(uu), sign * (verge_inner + 0.3)))
        ph.append(shape.pole_height * (0.9 + 0.2 * uu[:, 2]))
        parm.append(np.where(uu[:, 3] < 0.8, 1.0 + 1.2 * uu[:, 3], 0.0))
        psign.append(np.where(uu[:, 4] < shape.sign_prob, np.minimum((uu[:, 5] * 5).astype(np.int64), 4), -1))
        psh.append(2.3 + 0.6 * uu[:, 5])

    # Parked cars in the parking strips.
    cars: list[np.ndarray] = []
    if shape.parking_width > 0:
        for side in range(2):
            sign = 1.0 if side else -1.0
            u = upark[side]
            slots = np.arange(len(u)) * 6.5 + 0.8 * u[:, 0]
            keep = (u[:, 1] < shape.parked_density) & (slots < WORLD_PERIOD - 8.0)
            uu = u[keep]
            x = sign * (lanes_half + shape.parking_width / 2.0 + 0.2 * (uu[:, 2] - 0.5))
            facing_front = np.full(len(uu), float(side == 0 and not shape.one_way))
            cars.append(np.column_stack([slots[keep], x, np.zeros(len(uu)), uu[:, 3], uu[:, 4], uu[:, 5],
                                         facing_front]))

    # Moving cars: every lane has its own speed; the camera's lane moves with the camera's mean speed.
    n_same = n - n_opp
    cam_lane = n_opp + min(int(motion.lane_u * n_same), n_same - 1)
    for lane in range(n):
        u = utraffic[lane]
        centre = -lanes_half + (lane + 0.5) * shape.lane_width
        if lane < n_opp:
            speed = -(7.0 + 7.0 * ulane[lane])
        elif lane == cam_lane:
            speed = motion.speed
        else:
            speed = max(2.0, motion.speed - 3.0 + 8.0 * ulane[lane])
        slots = np.arange(len(u)) * 20.0 + 8.0 * u[:, 0]
        keep = (u[:, 1] < shape.traffic_density) & (slots < WORLD_PERIOD - 10.0)
        if lane == cam_lane:
            keep &= (u[:, 2] < 0.5) & (slots > 22.0) & (slots < WORLD_PERIOD - BACK - 20.0)
        uu = u[keep]
        x = centre + 0.3 * (uu[:, 3] - 0.5)
        front = np.full(len(uu), float(lane < n_opp))
        cars.append(np.column_stack([slots[keep], x, np.full(len(uu), speed), uu[:, 4], uu[:, 5], uu[:, 6], front]))
    c = np.concatenate(cars, axis=0) if cars else np.zeros((0, 7))
    van = c[:, 5] > 0.85

    return _World(
        road_half=road_half, lanes_half=lanes_half, verge_inner=verge_inner, verge_outer=verge_outer,
        sidewalk_outer=sidewalk_outer, line_types=line_types,
        b_side=b[:, 0].astype(np.int64), b_z1=b[:, 1], b_len=b[:, 2], b_x=b[:, 3], b_height=b[:, 4],
        b_depth=b[:, 5], b_u=b[:, 6:11], bld_iv=bld_iv, verge_iv=verge_iv, lawn_iv=lawn_iv, cross_iv=cross_iv,
        t_z=np.concatenate(tz), t_x=np.concatenate(tx), t_trunk=np.concatenate(ttr), t_radius=np.concatenate(tr),
        t_conifer=np.concatenate(tcon), t_u=np.concatenate(tu),
        p_z=np.concatenate(pz), p_x=np.concatenate(px), p_height=np.concatenate(ph), p_arm=np.concatenate(parm),
        p_sign=np.concatenate(psign), p_sign_h=np.concatenate(psh),
        c_z0=c[:, 0], c_x=c[:, 1], c_speed=c[:, 2], c_len=np.where(van, 4.9, 3.9 + 0.8 * c[:, 3]),
        c_width=np.where(van, 1.95, 1.7 + 0.2 * c[:, 3]), c_body=np.where(van, 1.05, 0.95 + 0.1 * c[:, 5]),
        c_cabin=np.where(van, 1.0, 0.42 + 0.12 * c[:, 3]), c_van=van, c_front=c[:, 6] > 0.5, c_u=c[:, 4],
        cam_lane_x=-lanes_half + (cam_lane + 0.5) * shape.lane_width,
    )


# ----------------------------------------------------------------------------------------------------------------
# Camera and drawing
# ----------------------------------------------------------------------------------------------------------------


_FIX = float(1 << SHIFT)


@dataclass
class _Camera:
    """The pinhole camera of one frame, at lateral ``x`` and ``z`` along the street, with the street's bend."""

    x: float
    z: float
    kappa: float
    height: float
    cos: float
    sin: float
    f: float
    cx: float
    cy: float

    def to_cam(self, x: np.ndarray, y: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Camera coordinates (right, up, forward) of world points given as (x, y, distance ahead ``dz``)."""
        xc = x - self.x + 0.5 * self.kappa * dz * dz
        yr = y - self.height
        return xc, yr * self.cos + dz * self.sin, dz * self.cos - yr * self.sin


class _DrawList:
    """Polygons and discs in world coordinates, projected in batches and drawn in insertion order.

    Every shape is drawn hard-edged into the label map (unless its label is -1) and anti-aliased into the RGB
    image; building shapes also write their facade number into an id map used for per-pixel facade shading.
    """

    def __init__(self) -> None:
        self.ops: list[tuple[int, int, tuple[int, int, int], int, int]] = []  # kind, label, colour, ident, index
        self.poly_pts: list[tuple[list[float], list[float], list[float]]] = []
        self.discs: list[tuple[float, float, float, float]] = []

    def poly(self, xs: list[float], ys: list[float], zs: list[float], label: int, color: Color,
             ident: int = -1) -> None:
        self.ops.append((0, label, color, ident, len(self.poly_pts)))
        self.poly_pts.append((xs, ys, zs))

    def disc(self, x: float, y: float, z: float, r: float, label: int, color: Color) -> None:
        self.ops.append((1, label, color, -1, len(self.discs)))
        self.discs.append((x, y, z, r))

    def _project_polys(self, cam: _Camera) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = [None] * len(self.poly_pts)
        groups: dict[int, list[int]] = {}
        for i, (xs, _, _) in enumerate(self.poly_pts):
            groups.setdefault(len(xs), []).append(i)
        for idx in groups.values():
            arr = np.array([self.poly_pts[i] for i in idx], np.float64)  # (M, 3, K)
            xc, yc, zc = cam.to_cam(arr[:, 0], arr[:, 1], arr[:, 2])
            front = zc >= NEAR
            zs = np.maximum(zc, NEAR)
            pix = np.stack([cam.cx + cam.f * xc / zs, cam.cy - cam.f * yc / zs], axis=-1)
            fixed = np.round((pix - 0.5) * _FIX).astype(np.int32)
            all_in, any_in = front.all(axis=1), front.any(axis=1)
            for m, i in enumerate(idx):
                if all_in[m]:
                    out[i] = fixed[m]
                elif any_in[m]:
                    out[i] = _clip_near(cam, xc[m], yc[m], zc[m])
        return out

    def draw(self, cam: _Camera, labels: np.ndarray, rgb: np.ndarray, ids: np.ndarray | None = None) -> None:
        polys = self._project_polys(cam) if self.poly_pts else []
        if self.discs:
            d = np.array(self.discs, np.float64)
            xc, yc, zc = cam.to_cam(d[:, 0], d[:, 1], d[:, 2])
            zs = np.maximum(zc, NEAR)
            du = np.round((cam.cx + cam.f * xc / zs - 0.5) * _FIX).astype(np.int64)
            dv = np.round((cam.cy - cam.f * yc / zs - 0.5) * _FIX).astype(np.int64)
            dr = np.maximum(1, np.round(cam.f * d[:, 3] / zs * _FIX)).astype(np.int64)
            dok = zc > NEAR
        aa, hard = cv2.LINE_AA, cv2.LINE_8
        for kind, label, color, ident, i in self.ops:
            if kind == 0:
                pts = polys[i]
                if pts is None:
                    continue
                p = [pts.reshape(-1, 1, 2)]
                if label >= 0:
                    cv2.fillPoly(labels, p, label, lineType=hard, shift=SHIFT)
                cv2.fillPoly(rgb, p, color, lineType=aa, shift=SHIFT)
                if ident >= 0 and ids is not None:
                    cv2.fillPoly(ids, p, ident, lineType=hard, shift=SHIFT)
            elif dok[i]:
                c, r = (int(du[i]), int(dv[i])), int(dr[i])
                cv2.circle(labels, c, r, label, -1, lineType=hard, shift=SHIFT)
                cv2.circle(rgb, c, r, color, -1, lineType=aa, shift=SHIFT)


def _clip_near(cam: _Camera, xc: np.ndarray, yc: np.ndarray, zc: np.ndarray) -> np.ndarray | None:
    """Clip a polygon given in camera coordinates at the near plane (Sutherland-Hodgman); fixed-point pixels."""
    pts = []
    n = len(xc)
    for i in range(n):
        j = (i + 1) % n
        ina, inb = zc[i] >= NEAR, zc[j] >= NEAR
        if ina:
            pts.append((xc[i], yc[i], zc[i]))
        if ina != inb:
            s = (NEAR - zc[i]) / (zc[j] - zc[i])
            pts.append((xc[i] + s * (xc[j] - xc[i]), yc[i] + s * (yc[j] - yc[i]), NEAR))
    if len(pts) < 3:
        return None
    q = np.array(pts)
    pix = np.stack([cam.cx + cam.f * q[:, 0] / q[:, 2], cam.cy - cam.f * q[:, 1] / q[:, 2]], axis=1)
    return np.round((pix - 0.5) * _FIX).astype(np.int32)


def _regular(n: int, radius: float, phase: float = 0.0) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False) + phase
    return np.stack([np.cos(a), np.sin(a)], axis=1) * radius


#: Traffic sign outlines (metres, centred): round, warning triangle, square, priority diamond, stop octagon.
_SIGN_SHAPES: list[np.ndarray] = [
    _regular(16, 0.36),
    np.array([[-0.42, -0.28], [0.42, -0.28], [0.0, 0.45]]),
    np.array([[-0.32, -0.32], [0.32, -0.32], [0.32, 0.32], [-0.32, 0.32]]),
    _regular(4, 0.4),
    _regular(8, 0.38, np.pi / 8),
]
#: Face colours (rim, inner) of the sign kinds; the inner part is the outline scaled by 0.72 around its centre.
_SIGN_COLORS: list[tuple[Color, Color]] = [
    ((200, 30, 35), (240, 240, 238)), ((205, 35, 35), (245, 240, 235)), ((30, 80, 170), (40, 95, 190)),
    ((245, 245, 240), (235, 190, 30)), ((190, 25, 30), (200, 35, 40)),
]
#: Distances ahead (m) at which facade edges are subdivided when the street bends.
_BEND_LADDER = np.array([2.0, 5.0, 9.0, 14.0, 20.0, 28.0, 38.0, 50.0, 65.0, 85.0, 110.0, 140.0, 180.0, 230.0, 300.0,
                         380.0, 460.0])
#: A wheel as an octagon (metres, around the hub).
_WHEEL = _regular(8, 0.32)


# ----------------------------------------------------------------------------------------------------------------
# The renderer
# ----------------------------------------------------------------------------------------------------------------

class StreetRenderer:
    """Street scenes seen from a driving car (see the module docstring)."""

    name = "street"
    task_id = 3
    aspect = task_aspect("street")
    fps = 15
    layers = task_layers("street")
    points_name = None
    points_format = None

    # ------------------------------------------------------------------ random draws

    def sample_shape(self, rng: np.random.Generator) -> StreetShape:
        """A city's street geometry."""
        u = rng.random(40).tolist()
        n_lanes = int((2, 2, 3, 4)[int(u[0] * 4)])
        hmin = _lerp(6.0, 15.0, u[9])
        fmin = _lerp(7.0, 14.0, u[11])
        gmin = _lerp(2.5, 6.0, u[15])
        dash = _lerp(1.5, 3.5, u[28])
        return StreetShape(
            n_lanes=n_lanes, one_way=bool(u[1] < 0.15), lane_width=round(_lerp(2.8, 3.7, u[2]), 3),
            parking_width=0.0 if u[3] < 0.35 else round(_lerp(2.0, 2.5, u[4]), 3),
            sidewalk_width=_lerp(1.8, 5.0, u[5]), verge_width=_lerp(0.8, 2.5, u[6]),
            verge_fraction=_lerp(0.0, 0.8, u[7]) if u[8] < 0.7 else 0.0, lawn_fraction=_lerp(0.0, 0.7, u[39]),
            setback=_lerp(0.0, 4.5, u[10] ** 1.5), setback_jitter=_lerp(0.0, 2.5, u[36]),
            building_height_min=hmin, building_height_max=hmin + _lerp(4.0, 28.0, u[12]),
            frontage_min=fmin, frontage_max=fmin + _lerp(5.0, 28.0, u[13]), building_depth=_lerp(12.0, 30.0, u[14]),
            gap_prob=_lerp(0.08, 0.5, u[16]), gap_min=gmin, gap_max=gmin + _lerp(3.0, 14.0, u[17]),
            tree_spacing=_lerp(8.0, 20.0, u[18]), tree_prob=_lerp(0.3, 0.95, u[19]),
            conifer_fraction=_lerp(0.0, 0.5, u[20]) if u[21] < 0.4 else 0.0, tree_scale=_lerp(0.75, 1.3, u[22]),
            pole_spacing=_lerp(18.0, 38.0, u[23]), pole_height=_lerp(5.5, 9.0, u[24]),
            sign_prob=_lerp(0.3, 0.8, u[25]), parked_density=_lerp(0.25, 0.9, u[26]),
            traffic_density=_lerp(0.2, 0.6, u[27]), centre_line="double" if u[29] < 0.4 else "dashed",
            line_width=_lerp(0.1, 0.18, u[30]), dash_length=dash, dash_period=dash + _lerp(3.0, 9.0, u[31]),
            crosswalk_prob=_lerp(0.0, 0.8, u[32]), camera_height=_lerp(1.3, 1.9, u[33]),
            camera_pitch_deg=_lerp(0.0, 4.0, u[34]),
        )

    def sample_motion(self, rng: np.random.Generator) -> StreetMotion:
        """One drive: speed, sway, bend and the seed of the objects along the street."""
        u = rng.random(12).tolist()
        return StreetMotion(
            speed=_lerp(5.0, 14.0, u[0]), speed_wobble=_lerp(0.0, 1.5, u[1]), speed_period=_lerp(4.0, 10.0, u[2]),
            speed_phase=2 * math.pi * u[3], sway=_lerp(0.05, 0.35, u[4]), sway_period=_lerp(3.0, 8.0, u[5]),
            sway_phase=2 * math.pi * u[6], lane_u=float(u[7]),
            curvature=0.0 if u[8] < 0.5 else (1 if u[9] < 0.5 else -1) * _lerp(3e-4, 1.2e-3, u[10]),
            curve_period=_lerp(12.0, 30.0, u[11]), curve_phase=2 * math.pi * u[9],
            world_seed=int(rng.integers(0, 2**31 - 1)),
        )

    def sample_appearance(self, rng: np.random.Generator) -> StreetAppearance:
        """A city's visual style."""
        u = rng.random(64).tolist()

        def pick(options: tuple[str, ...], probs: tuple[float, ...], x: float) -> str:
            return options[int(np.searchsorted(np.cumsum(probs), x * sum(probs), side="right"))]

        family = int(u[0] * 5)
        n_pal = 2 + int(u[1] * 3)
        pal_rng = np.random.default_rng(int(u[2] * 2**31))
        palette = []
        for _ in range(n_pal):
            a, b, c = pal_rng.random(3)
            if family == 0:  # warm ochres and creams
                col = hsv_color(_lerp(0.05, 0.14, a), _lerp(0.2, 0.5, b), _lerp(0.6, 0.9, c))
            elif family == 1:  # cool greys and whites
                col = hsv_color(_lerp(0.5, 0.65, a), _lerp(0.02, 0.15, b), _lerp(0.55, 0.92, c))
            elif family == 2:  # pastels
                col = hsv_color(a, _lerp(0.18, 0.35, b), _lerp(0.78, 0.95, c))
            elif family == 3:  # reds and browns
                col = hsv_color(_lerp(-0.02, 0.06, a), _lerp(0.4, 0.65, b), _lerp(0.38, 0.62, c))
            else:  # concrete
                col = hsv_color(a, _lerp(0.0, 0.06, b), _lerp(0.42, 0.72, c))
            palette.append(col)

        texture = FACADE_TEXTURES[int(u[3] * 4)]
        vegetation = pick(VEGETATION_KINDS, (0.35, 0.2, 0.25, 0.2), u[4])
        sky = pick(SKY_KINDS, (0.4, 0.25, 0.2, 0.15), u[5])
        marking = "yellow" if u[6] < 0.35 else "white"

        if vegetation == "green":
            fol = hsv_color(_lerp(0.24, 0.33, u[7]), _lerp(0.5, 0.7, u[8]), _lerp(0.42, 0.58, u[9]))
        elif vegetation == "yellow_green":
            fol = hsv_color(_lerp(0.16, 0.21, u[7]), _lerp(0.55, 0.75, u[8]), _lerp(0.55, 0.7, u[9]))
        elif vegetation == "dark_green":
            fol = hsv_color(_lerp(0.3, 0.4, u[7]), _lerp(0.45, 0.7, u[8]), _lerp(0.22, 0.34, u[9]))
        else:
            fol = hsv_color(_lerp(0.0, 0.09, u[7]), _lerp(0.7, 0.88, u[8]), _lerp(0.55, 0.78, u[9]))
        foliage = (shade(fol, 0.7), fol, shade(mix(fol, (255, 240, 160), 0.15), 1.15))
        if vegetation == "autumn":
            terrain = hsv_color(_lerp(0.08, 0.14, u[10]), _lerp(0.35, 0.55, u[11]), _lerp(0.45, 0.6, u[12]))
        elif u[13] < 0.2:  # bare earth
            terrain = hsv_color(_lerp(0.06, 0.1, u[10]), _lerp(0.3, 0.45, u[11]), _lerp(0.38, 0.52, u[12]))
        else:
            terrain = shade(mix(fol, (120, 150, 60), 0.4), _lerp(0.85, 1.1, u[12]))

        if sky == "clear":
            top = hsv_color(_lerp(0.56, 0.62, u[14]), _lerp(0.5, 0.75, u[15]), _lerp(0.72, 0.9, u[16]))
            bottom = hsv_color(_lerp(0.55, 0.6, u[14]), _lerp(0.1, 0.25, u[15]), 0.96)
            cloud, cloudiness, fog = (250, 250, 250), _lerp(0.0, 0.35, u[17]), _lerp(600.0, 1200.0, u[18])
            brightness, tint, side_shade = _lerp(0.95, 1.1, u[19]), (1.0, 1.0, 1.0), _lerp(0.15, 0.35, u[20])
        elif sky == "overcast":
            g = _lerp(0.62, 0.8, u[14])
            top, bottom = hsv_color(0.6, 0.05, g), hsv_color(0.6, 0.03, min(1.0, g + 0.12))
            cloud, cloudiness, fog = hsv_color(0.6, 0.04, g - 0.12), _lerp(0.4, 0.8, u[17]), _lerp(250.0, 500.0, u[18])
            brightness, tint, side_shade = _lerp(0.8, 0.95, u[19]), (0.96, 0.99, 1.04), _lerp(0.0, 0.08, u[20])
        elif sky == "sunset":
            top = hsv_color(_lerp(0.62, 0.74, u[14]), _lerp(0.35, 0.55, u[15]), _lerp(0.5, 0.65, u[16]))
            bottom = hsv_color(_lerp(0.03, 0.1, u[14]), _lerp(0.55, 0.75, u[15]), 1.0)
            cloud, cloudiness, fog = hsv_color(0.95, 0.35, 0.95), _lerp(0.1, 0.5, u[17]), _lerp(400.0, 800.0, u[18])
            brightness, tint, side_shade = _lerp(0.85, 1.0, u[19]), (1.1, 0.95, 0.82), _lerp(0.25, 0.45, u[20])
        else:  # dusk
            top = hsv_color(_lerp(0.6, 0.68, u[14]), _lerp(0.55, 0.75, u[15]), _lerp(0.18, 0.3, u[16]))
            bottom = hsv_color(_lerp(0.05, 0.1, u[14]), _lerp(0.4, 0.6, u[15]), _lerp(0.5, 0.65, u[16]))
            cloud, cloudiness, fog = hsv_color(0.7, 0.3, 0.35), _lerp(0.0, 0.4, u[17]), _lerp(300.0, 600.0, u[18])
            brightness, tint, side_shade = _lerp(0.55, 0.7, u[19]), (0.9, 0.95, 1.12), _lerp(0.0, 0.1, u[20])

        wv = u[21]
        if sky == "dusk":
            window = hsv_color(0.62, 0.3, 0.18)
        elif wv < 0.4:
            window = hsv_color(_lerp(0.55, 0.62, u[22]), _lerp(0.3, 0.6, u[23]), _lerp(0.25, 0.45, u[24]))
        elif wv < 0.7:
            window = hsv_color(0.6, 0.05, _lerp(0.15, 0.3, u[24]))
        else:
            window = hsv_color(_lerp(0.5, 0.6, u[22]), _lerp(0.15, 0.35, u[23]), _lerp(0.55, 0.75, u[24]))
        frame = (240, 240, 235) if u[25] < 0.4 else hsv_color(u[26], _lerp(0.0, 0.3, u[26]), _lerp(0.15, 0.5, u[27]))

        road = hsv_color(_lerp(0.55, 0.65, u[28]), _lerp(0.0, 0.08, u[29]), _lerp(0.24, 0.5, u[30]))
        mcol = hsv_color(0.13, _lerp(0.75, 0.9, u[31]), 0.92) if marking == "yellow" else (238, 238, 232)
        sidewalk = hsv_color(_lerp(0.0, 0.12, u[32]), _lerp(0.0, 0.3, u[33] ** 2), _lerp(0.5, 0.8, u[34]))
        kerb = hsv_color(0.1, 0.03, _lerp(0.6, 0.85, u[35]))

        car_base = [(235, 235, 235), (25, 25, 28), (160, 162, 168), (95, 98, 104), (170, 25, 30), (30, 60, 140),
                    (30, 80, 50), (220, 180, 40), (120, 70, 40), (200, 90, 30)]
        car_rng = np.random.default_rng(int(u[36] * 2**31))
        n_car = 3 + int(u[37] * 3)
        car_palette = tuple(shade(car_base[int(i)], _lerp(0.85, 1.1, car_rng.random()))
                            for i in car_rng.choice(len(car_base), n_car, replace=False))
        pole = ((70, 72, 76), (40, 70, 50), (175, 178, 182), (30, 30, 32))[int(u[38] * 4)]

        return StreetAppearance(
            facade_palette=tuple(palette), facade_texture=texture, texture_strength=_lerp(0.5, 1.0, u[39]),
            brick_size=_lerp(0.22, 0.4, u[40]), panel_width=_lerp(1.2, 3.0, u[41]),
            mortar_color=hsv_color(0.1, 0.08, _lerp(0.55, 0.85, u[42])), window_color=window,
            window_reflect=_lerp(0.1, 0.8, u[43]), window_frame_color=frame,
            window_width_ratio=_lerp(0.35, 0.7, u[44]), window_height_ratio=_lerp(0.4, 0.65, u[45]),
            window_spacing=_lerp(2.2, 4.0, u[46]), floor_height=_lerp(2.9, 3.8, u[47]),
            ground_floor_height=_lerp(3.6, 4.8, u[48]), shop_prob=_lerp(0.0, 0.9, u[49]),
            lit_windows=_lerp(0.25, 0.6, u[50]) if sky == "dusk" else 0.0,
            cornice_shade=_lerp(0.75, 1.2, u[51]), road_color=road, road_noise=_lerp(0.04, 0.16, u[52]),
            road_patchiness=_lerp(0.0, 0.2, u[53]), marking=marking, marking_color=mcol, sidewalk_color=sidewalk,
            kerb_color=kerb, sidewalk_pattern=SIDEWALK_PATTERNS[int(u[54] * 4)], tile_size=_lerp(0.3, 0.9, u[55]),
            vegetation=vegetation, foliage_colors=foliage, trunk_color=hsv_color(0.07, 0.45, _lerp(0.22, 0.38, u[56])),
            terrain_color=terrain, sky=sky, sky_top=top, sky_bottom=bottom, cloud_color=cloud, cloudiness=cloudiness,
            fog_distance=fog, brightness=brightness,
            tint=tuple(round(t * _lerp(0.97, 1.03, u[57 + i]), 4) for i, t in enumerate(tint)),  # type: ignore[arg-type]
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


    # ------------------------------------------------------------------ rendering

    def camera_state(self, motion: StreetMotion, t: float) -> tuple[float, float, float]:
        """The camera's sway (m, added to its lane centre), its position along the street (m) and the street's bend
        (1/m) at time ``t`` (s); all smooth functions of t."""
        w_s = 2 * math.pi / motion.speed_period
        z = motion.speed * t + motion.speed_wobble * (math.sin(w_s * t + motion.speed_phase)
                                                      - math.sin(motion.speed_phase))
        sway = motion.sway * math.sin(2 * math.pi * t / motion.sway_period + motion.sway_phase)
        kappa = motion.curvature * math.sin(2 * math.pi * t / motion.curve_period + motion.curve_phase)
        return sway, z, kappa

    def render(self, appearance: StreetAppearance, shape: StreetShape, motion: StreetMotion, n_frames: int,
               height: int, width: int) -> Iterator[Frame]:
        """Yield ``n_frames`` frames of the drive; frame i shows time i / fps and does not depend on n_frames."""
        clip = _ClipRenderer(appearance, shape, motion, height, width)
        for i in range(n_frames):
            t = i / self.fps
            sway, z, kappa = self.camera_state(motion, t)
            labels, rgb = clip.frame(clip.world.cam_lane_x + sway, z, kappa, t)
            yield Frame(rgb, {"labels": labels}, None)


# ----------------------------------------------------------------------------------------------------------------
# Per-clip precomputation and per-frame rendering
# ----------------------------------------------------------------------------------------------------------------


def _lookup(tex: np.ndarray, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
    """Wrapped lookup ``tex[iy % 64, ix % 64]`` in a 64 x 64 texture tile (integer-valued float indices)."""
    return np.take(tex.ravel(), ((iy.astype(np.int64) & 63) << 6) | (ix.astype(np.int64) & 63))


def _lookup_smooth(tex: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Bilinearly interpolated wrapped lookup in a 64 x 64 texture tile at fractional texel coordinates."""
    y0, x0 = np.floor(fy), np.floor(fx)
    ty, tx = (fy - y0).astype(np.float32), (fx - x0).astype(np.float32)
    flat = tex.ravel()
    iy0, ix0 = (y0.astype(np.int64) & 63) << 6, x0.astype(np.int64) & 63
    iy1, ix1 = ((y0.astype(np.int64) + 1) & 63) << 6, (x0.astype(np.int64) + 1) & 63
    top = np.take(flat, iy0 | ix0) * (1 - tx) + np.take(flat, iy0 | ix1) * tx
    bottom = np.take(flat, iy1 | ix0) * (1 - tx) + np.take(flat, iy1 | ix1) * tx
    return top * (1 - ty) + bottom * ty


def _tileable_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with wrap-around borders, rescaled to [0, 1] (a seamless tile of smooth noise)."""
    h, w = a.shape
    big = cv2.GaussianBlur(np.tile(a, (3, 3)), (0, 0), sigma)[h:2 * h, w:2 * w]
    return ((big - big.min()) / max(float(np.ptp(big)), 1e-6)).astype(np.float32)


# Ground materials (index into _ClipRenderer.mat) and their labels.
_M_ROAD, _M_KERB, _M_SIDEWALK, _M_TERRAIN, _M_MARKING = range(5)
_MAT_LABEL = np.array([ROAD, SIDEWALK, SIDEWALK, TERRAIN, LANE_MARKING], np.uint8)

# Columns of the per-frame facade table.
(_T_X, _T_REL1, _T_FR, _T_FG, _T_FB, _T_BR, _T_BG, _T_BB, _T_HEIGHT, _T_SPACING, _T_FLOOR, _T_COL0, _T_NCOL, _T_Y0,
 _T_NFLOOR, _T_SHOP, _T_LEN, _T_HASH) = range(18)


class _ClipRenderer:
    """Everything computed once per clip (rays, sky, textures, the world) and the per-frame rendering."""

    def __init__(self, app: StreetAppearance, shape: StreetShape, motion: StreetMotion, height: int, width: int):
        self.app, self.shape, self.motion = app, shape, motion
        self.H, self.W = height, width
        self.world = w = build_world(shape, motion)
        self.f = FOCAL * height
        self.cx, self.cy = width / 2.0, height / 2.0
        pitch = math.radians(shape.camera_pitch_deg)
        self.cos, self.sin = math.cos(pitch), math.sin(pitch)
        self.h = shape.camera_height

        # Viewing rays of the pixel centres (camera pitched down: forward = (0, -sin, cos), up = (0, cos, sin)).
        self.dx = (((np.arange(width) + 0.5) - self.cx) / self.f).astype(np.float32)
        dy = -((np.arange(height) + 0.5) - self.cy) / self.f
        self.wy = (dy * self.cos - self.sin).astype(np.float32)
        self.wz = (dy * self.sin + self.cos).astype(np.float32)
        ground = np.nonzero(self.wy < -1e-4)[0]
        self.g0 = int(ground[0]) if len(ground) else height
        t_g = self.h / -self.wy[self.g0:].astype(np.float64)  # ray parameter of the ground hit, per ground row
        self.dz_g = t_g * self.wz[self.g0:]
        self.xc_g = (t_g[:, None] * self.dx[None, :]).astype(np.float32)  # camera-relative lateral ground position
        # Pixel footprints on the ground (m): across (x) and along (z) the street.
        self.fp_x = ((t_g / self.f)[:, None] * (1.0 + np.abs(self.xc_g) / self.h)).astype(np.float32)
        self.fp_z = self.dz_g ** 2 / (self.h * self.f) + t_g / self.f
        dist = np.sqrt(self.dz_g[:, None] ** 2 + self.xc_g.astype(np.float64) ** 2)
        self.fog_g = (1.0 - np.exp(-dist / app.fog_distance)).astype(np.float32)

        rng = np.random.default_rng([app.texture_seed, 11])
        self.tex_fine = rng.random((64, 64)).astype(np.float32)
        self.tex_coarse = _tileable_blur(rng.random((64, 64)), 2.0)
        self.tex_cell = rng.random((64, 64)).astype(np.float32)
        self.tex_streak = _tileable_blur(rng.random((1, 256)), 1.5)[0]

        self.haze = np.asarray(app.sky_bottom, np.float32)
        self.haze_t = tuple(float(c) for c in app.sky_bottom)
        self.sky = self._sky(rng)
        lut = np.arange(256, dtype=np.float64)[:, None] * app.brightness * np.asarray(app.tint)[None, :]
        self.lut = np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(256, 1, 3)

        self.mat = np.array([app.road_color, app.kerb_color, app.sidewalk_color, app.terrain_color,
                             app.marking_color], np.float32)
        shaded = 1.0 - app.side_shade
        self.sun = (1.0 if app.sun_side < 0 else shaded, 1.0 if app.sun_side > 0 else shaded)  # left, right side

        # Per-building colours and window layout (RGB only).
        pal = np.array(app.facade_palette, np.float64)
        idx = np.minimum((w.b_u[:, 0] * len(pal)).astype(np.int64), len(pal) - 1)
        self.b_color = pal[idx] * (0.88 + 0.24 * w.b_u[:, 1])[:, None]
        self.b_spacing = app.window_spacing * (0.85 + 0.3 * w.b_u[:, 2])
        self.b_floor = app.floor_height * (0.93 + 0.14 * w.b_u[:, 3])
        self.b_shop = w.b_u[:, 4] < app.shop_prob
        self.b_cols = np.maximum(1.0, np.floor((w.b_len - 1.5) / self.b_spacing))
        self.b_col0 = (w.b_len - self.b_cols * self.b_spacing) / 2.0
        self.b_y0 = np.where(self.b_shop, app.ground_floor_height, 0.6)
        self.b_floors = np.maximum(0.0, np.floor((w.b_height - self.b_y0 - 0.9) / self.b_floor))

        pal_c = app.car_palette
        self.c_color = [pal_c[min(int(u * len(pal_c)), len(pal_c) - 1)] for u in w.c_u]
        self.foliage = app.foliage_colors
        self.conifer = [mix(c, (38, 66, 44), 0.75) for c in app.foliage_colors]  # evergreen, whatever the season
        self.road_shadow = tuple(0.35 * c for c in app.road_color)

    # ------------------------------------------------------------------ static parts

    def _sky(self, rng: np.random.Generator) -> np.ndarray:
        """The sky (uint8 RGB): a gradient over the rays' elevation and clouds fixed to the view."""
        app = self.app
        elev = np.clip(np.arctan2(self.wy, self.wz), 0.0, None).astype(np.float64)
        s = np.clip(elev / 0.45, 0.0, 1.0) ** 0.7
        col = (1 - s)[:, None] * np.asarray(app.sky_bottom, np.float64) + s[:, None] * np.asarray(app.sky_top)
        img = np.broadcast_to(col[:, None, :], (self.H, self.W, 3)).copy()
        if app.cloudiness > 0:
            noise = value_noise(rng, self.H, self.W, 7) * 0.6 + value_noise(rng, self.H, self.W, 22) * 0.4
            sharp, opacity = (1.6, 0.75) if app.sky == "overcast" else (3.5, 0.9)
            c = np.clip((noise - (1.0 - app.cloudiness)) * sharp, 0.0, 1.0) * np.clip(s * 3.0, 0.0, opacity)[:, None]
            img += c[..., None] * (np.asarray(app.cloud_color, np.float64) - img)
        return np.clip(np.round(img), 0, 255).astype(np.uint8)

    def _color(self, c: Color | tuple[float, ...], depth: float, factor: float = 1.0) -> Color:
        """Colour ``c`` scaled by ``factor`` and faded into the haze at ``depth`` metres."""
        g = 1.0 - math.exp(-depth / self.app.fog_distance) if depth > 0 else 0.0
        k = (1.0 - g) * factor
        h = self.haze_t
        return (min(255, int(c[0] * k + g * h[0])), min(255, int(c[1] * k + g * h[1])),
                min(255, int(c[2] * k + g * h[2])))

    # ------------------------------------------------------------------ per frame

    def frame(self, cam_x: float, cam_z: float, kappa: float, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Label map and RGB image with the camera at (cam_x, cam_z), street bend ``kappa``, at time ``t``."""
        cam = _Camera(cam_x, cam_z, kappa, self.h, self.cos, self.sin, self.f, self.cx, self.cy)
        labels = np.zeros((self.H, self.W), np.uint8)
        rgb = np.empty((self.H, self.W, 3), np.uint8)
        rgb[: self.g0] = self.sky[: self.g0]
        self._ground(cam, labels, rgb)
        self._buildings(cam, labels, rgb)
        self._objects(cam, labels, rgb, t)
        return labels, cv2.LUT(rgb, self.lut)

    def _side_flag(self, right: np.ndarray, z: np.ndarray, ivs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        return np.where(right, _in_intervals(z, *ivs[1])[:, None], _in_intervals(z, *ivs[0])[:, None])

    def _ground(self, cam: _Camera, labels: np.ndarray, rgb: np.ndarray) -> None:
        """Road, markings, kerbs, sidewalks and terrain, shaded per pixel from the ground point each pixel sees."""
        w, app = self.world, self.app
        if self.g0 >= self.H:
            return
        dz = self.dz_g
        x = self.xc_g + (cam.x - 0.5 * cam.kappa * dz * dz).astype(np.float32)[:, None]  # world lateral position
        z = cam.z + dz  # world position along the street, per row
        ax = np.abs(x)
        right = x > 0
        fp = self.fp_x
        verge = self._side_flag(right, z, w.verge_iv)
        beyond_terrain = self._side_flag(right, z, w.lawn_iv) | ~self._side_flag(right, z, w.bld_iv)
        m_verge = np.where(verge, _M_TERRAIN, _M_SIDEWALK)
        m_beyond = np.where(beyond_terrain, _M_TERRAIN, _M_SIDEWALK)
        mat = np.where(ax < w.road_half, _M_ROAD, np.where(ax < w.verge_inner, _M_KERB, np.where(
            ax < w.verge_outer, m_verge, np.where(ax < w.sidewalk_outer, _M_SIDEWALK, m_beyond))))

        # Texture modulation attached to ground coordinates (fine grain fades out where pixels get large).
        n_fine = _lookup_smooth(self.tex_fine, (z * (1 / 0.12))[:, None], x * (1 / 0.12)) - 0.5
        n_fine *= np.clip(2.0 - fp * (1 / 0.12), 0.0, 1.0) * 1.6
        n_coarse = _lookup(self.tex_coarse, np.floor(z * (1 / 2.5))[:, None], np.floor(x * (1 / 2.5))) - 0.5
        m = np.where(mat == _M_ROAD, 1.0 + app.road_noise * n_fine + 2.0 * app.road_patchiness * n_coarse,
                     np.where(mat == _M_TERRAIN, 1.0 + 0.35 * n_fine + 0.3 * n_coarse, 1.0 + 0.06 * n_fine))
        if app.sidewalk_pattern != "plain":
            m = np.where(mat == _M_SIDEWALK, (m + 0.08 * n_coarse) * (1.0 - 0.35 * self._joints(x, z)), m)
        m = m.astype(np.float32)
        cols = [np.take(self.mat[:, c], mat) * m for c in range(3)]  # planar colour channels

        # Lateral anti-aliasing between the materials (road | kerb | verge | sidewalk | beyond).
        for b, m_in, m_out in ((w.road_half, _M_ROAD, _M_KERB), (w.verge_inner, _M_KERB, m_verge),
                               (w.verge_outer, m_verge, _M_SIDEWALK), (w.sidewalk_outer, _M_SIDEWALK, m_beyond)):
            s = (ax - b) / fp
            near = np.nonzero(np.abs(s) < 0.5)
            if len(near[0]):
                sn = s[near]
                wgt = np.clip(0.5 + sn, 0.0, 1.0) - (sn >= 0)
                mi = m_in[near] if isinstance(m_in, np.ndarray) else m_in
                mo = m_out[near] if isinstance(m_out, np.ndarray) else m_out
                diff = self.mat[mo] - self.mat[mi]
                for c in range(3):
                    cols[c][near] += wgt * diff[..., c]

        # Lane markings and zebra crossings.
        mark_in, (idx, cov) = self._markings(x, z, ax, fp)
        if len(idx[0]):
            cov = 0.92 * cov
            for c in range(3):
                cols[c][idx] += cov * (self.mat[_M_MARKING, c] - cols[c][idx])

        fog = self.fog_g
        for c in range(3):
            cols[c] += fog * (self.haze[c] - cols[c])
        rgb[self.g0:] = cv2.convertScaleAbs(cv2.merge(cols))
        lab = _MAT_LABEL[mat]
        lab[mark_in] = LANE_MARKING
        labels[self.g0:] = lab

    def _joints(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Joint coverage of the sidewalk paving pattern at ground positions (0 = tile, 1 = joint)."""
        pat, ts = self.app.sidewalk_pattern, self.app.tile_size
        tx, tz = (ts * 2.0, ts) if pat == "slab" else (ts, ts)
        xo = x / tx
        if pat == "brick":
            xo = xo + (0.5 * (np.floor(z / tz) % 2)).astype(np.float32)[:, None]
        jw = 0.03
        jx = _pbox(xo, 0.0, jw / tx, self.fp_x / tx)
        jz = _pbox(z / tz, 0.0, jw / tz, self.fp_z / tz).astype(np.float32)[:, None]
        return 1.0 - (1.0 - jx) * (1.0 - jz)

    def _markings(self, x: np.ndarray, z: np.ndarray, ax: np.ndarray,
                  fp: np.ndarray) -> tuple[np.ndarray, tuple[tuple[np.ndarray, np.ndarray], np.ndarray]]:
        """Point-sampled marking mask and, for the pixels near a marking, their box-filtered coverage."""
        w, sh = self.world, self.shape
        lw, n = sh.lane_width, sh.n_lanes
        k = np.clip(np.round((x + w.lanes_half) * (1.0 / lw)), 0, n).astype(np.int64)
        d = x - (-w.lanes_half + k * lw)
        lt = w.line_types[k]
        hw, gap = 0.5 * sh.line_width, 0.12
        pz = z / sh.dash_period
        dl = sh.dash_length / sh.dash_period
        dash_cov = _pbox(pz, 0.0, dl, self.fp_z / sh.dash_period)
        dash_in = _pin(pz, 0.0, dl)
        inside = np.zeros(x.shape, bool)
        cov = np.zeros(x.shape, np.float32)
        near = np.nonzero((np.abs(d) < 2 * hw + gap / 2 + fp) & (lt > 0) & (ax < w.road_half))
        if len(near[0]):
            dn, fpn, ltn, rows = d[near], fp[near], lt[near], near[0]
            single = _band(dn, -hw, hw, fpn)
            double = _band(dn, -gap / 2 - 2 * hw, -gap / 2, fpn) + _band(dn, gap / 2, gap / 2 + 2 * hw, fpn)
            dashed = ltn == 1
            cov[near] = np.where(ltn == 3, double, single) * np.where(dashed, dash_cov[rows], 1.0)
            ad = np.abs(dn)
            ins = np.where(ltn == 3, (ad >= gap / 2) & (ad < gap / 2 + 2 * hw), ad < hw)
            inside[near] = ins & (~dashed | dash_in[rows])
        # Zebra crossings: stripes 0.5 m wide across the traffic lanes.
        cs, ce = w.cross_iv
        if len(cs):
            zm = np.mod(z, WORLD_PERIOD)
            j = np.clip(np.searchsorted(cs, zm, side="right") - 1, 0, len(cs) - 1)
            zc_cov = _band(zm, cs[j], ce[j], self.fp_z)
            rows = np.nonzero(zc_cov > 0)[0]
            if len(rows):
                xr, fr = x[rows], fp[rows]
                lanes = np.abs(xr) < w.lanes_half - 0.2
                stripe = _pbox(xr, 0.0, 0.5, fr) * zc_cov[rows, None] * lanes
                cov[rows] = np.maximum(cov[rows], stripe)
                zin = ((zm[rows] >= cs[j[rows]]) & (zm[rows] < ce[j[rows]]))[:, None]
                inside[rows] |= _pin(xr, 0.0, 0.5) & zin & lanes
        idx = np.nonzero(cov > 0)
        return inside, (idx, cov[idx])

    # ------------------------------------------------------------------ buildings

    def _buildings(self, cam: _Camera, labels: np.ndarray, rgb: np.ndarray) -> None:
        """Facades far to near (each after its near end wall), then per-pixel facade shading."""
        w = self.world
        rel1 = _wrap_rel(w.b_z1, cam.z)
        rel2 = rel1 + w.b_len
        vis = np.nonzero((rel2 > 0.5) & (rel1 < FAR_BUILDINGS))[0]
        if len(vis) == 0:
            return
        vis = vis[np.argsort(-rel1[vis], kind="stable")][-255:]
        dl = _DrawList()
        table = np.zeros((len(vis), 18), np.float32)
        for k, bi in enumerate(vis):
            side = int(w.b_side[bi])
            sgn = 1.0 if side else -1.0
            xf, hgt = sgn * float(w.b_x[bi]), float(w.b_height[bi])
            r1, r2 = float(rel1[bi]), float(rel2[bi])
            c = self.b_color[bi] * self.sun[side]
            base = (float(c[0]), float(c[1]), float(c[2]))
            if r1 > NEAR:  # near end wall: faces the camera, seen above a lower neighbour or across a gap
                xe = xf + sgn * float(w.b_depth[bi])
                dl.poly([xf, xe, xe, xf], [0.0, 0.0, hgt, hgt], [r1] * 4, BUILDING, self._color(base, r1, 0.72), 0)
            d0 = max(r1, -1.0)
            ds = [d0, r2]
            if cam.kappa != 0:
                ds = [d0, *_BEND_LADDER[(_BEND_LADDER > d0) & (_BEND_LADDER < r2)].tolist(), r2]
            flat = self._color(base, max(d0, 0.0) + 0.5 * (r2 - max(d0, 0.0)))
            dl.poly([xf] * (2 * len(ds)), [0.0] * len(ds) + [hgt] * len(ds), ds + ds[::-1], BUILDING, flat, k + 1)
            table[k] = (xf, r1, *flat, *base, hgt, self.b_spacing[bi], self.b_floor[bi], self.b_col0[bi],
                        self.b_cols[bi], self.b_y0[bi], self.b_floors[bi], float(self.b_shop[bi]), w.b_len[bi],
                        bi % 64)
        ids = np.zeros((self.H, self.W), np.uint8)
        dl.draw(cam, labels, rgb, ids)
        self._shade_facades(cam, rgb, ids, table)

    def _shade_facades(self, cam: _Camera, rgb: np.ndarray, ids: np.ndarray, table: np.ndarray) -> None:
        """Per-pixel facade texture and windows from each pixel's position on its facade plane."""
        app = self.app
        flat_ids = ids.ravel()
        li = np.flatnonzero(flat_ids)
        if len(li) == 0:
            return
        ys, xs = li // self.W, li % self.W
        prm = np.take(table, np.take(flat_ids, li).astype(np.int64) - 1, axis=0).T  # (18, N)
        dxs, wyp, wzp = np.take(self.dx, xs), np.take(self.wy, ys), np.take(self.wz, ys)
        dxs = np.where(np.abs(dxs) < 1e-6, np.float32(1e-6), dxs)
        xr0 = prm[_T_X] - np.float32(cam.x)
        # Ray / facade-plane intersection; with a bend the plane is curved in camera space (a quadratic in t).
        if cam.kappa != 0:
            a = np.float32(0.5 * cam.kappa) * wzp * wzp
            disc = np.sqrt(np.maximum(dxs * dxs - 4.0 * a * xr0, 0.0))
            t = 2.0 * xr0 / (dxs + np.sign(dxs) * disc)
        else:
            t = xr0 / dxs
        t = np.maximum(t, 1e-3)
        dz = t * wzp
        y = np.maximum(self.h + t * wyp, 0.0)
        lz = dz - prm[_T_REL1]  # position along the facade from its near end
        hb = prm[_T_HASH].astype(np.int64)
        axr = np.maximum(np.abs(t * dxs), 0.3)
        inv_f = 1.0 / self.f
        fp_l = dz * dz / (axr * self.f) + t * inv_f  # pixel footprint along the facade
        fp_y = t * inv_f * (1.0 + np.abs(y - self.h) / axr * 0.25)
        base = prm[_T_BR:_T_BB + 1]  # (3, N)

        strength = app.texture_strength
        tex = app.facade_texture
        if tex in ("plain", "stucco"):
            m = 0.05 * (_lookup(self.tex_fine, np.floor(y * 2.0), np.floor(lz * 2.0)) - 0.5)
            m *= np.clip(1.5 - np.maximum(fp_l, fp_y) * 2.0, 0.0, 1.0)
            if tex == "stucco":
                n_big = _lookup(self.tex_coarse, np.floor(y * (1 / 3.0)), np.floor(lz * (1 / 3.0)) + 7 * hb)
                streak = np.take(self.tex_streak, (np.floor(lz * 2.5).astype(np.int64) + 31 * hb) & 255)
                m = strength * (4.0 * m + 0.25 * (n_big - 0.5) - 0.14 * streak * (y < 12))
            col = base * (1.0 + m)
        elif tex == "brick":
            bs = app.brick_size
            course = y * (1.0 / bs)
            ci = np.floor(course)
            brick = lz * (1.0 / (2.2 * bs)) + 0.5 * (ci % 2)
            mortar = 1.0 - (1.0 - _pbox(course, 0.0, 0.16, fp_y / bs)) * (
                1.0 - _pbox(brick, 0.0, 0.07, fp_l / (2.2 * bs)))
            var = _lookup(self.tex_cell, ci, np.floor(brick) + 5 * hb)
            bfade = np.clip(1.5 - np.maximum(fp_l, fp_y) / bs, 0.0, 1.0)
            col = base * (1.0 + strength * 0.3 * (var - 0.5) * bfade)
            col += (0.7 * strength * mortar) * (np.asarray(app.mortar_color, np.float32)[:, None] * 0.9 - col)
        else:  # panels
            pw, fh = app.panel_width, prm[_T_FLOOR]
            seam = 1.0 - (1.0 - _pbox(lz / pw, 0.0, 0.08 / pw, fp_l / pw)) * (1.0 - _pbox(y / fh, 0.0, 0.05, fp_y / fh))
            var = _lookup(self.tex_cell, np.floor(y / fh), np.floor(lz / pw) + 3 * hb)
            col = base * (1.0 + strength * (0.14 * (var - 0.5) - 0.45 * seam))

        # Cornice at the top and ambient occlusion near the ground.
        hgt = prm[_T_HEIGHT]
        corn = _band(y, hgt - 0.45, hgt + 1.0, fp_y)
        col *= (1.0 + (app.cornice_shade - 1.0) * corn) * (1.0 - 0.28 * np.exp(-y * 2.0))

        # Windows: a grid of floors x columns (with frames); shop windows on the ground floor of some buildings.
        sp, fh, col0, y0 = prm[_T_SPACING], prm[_T_FLOOR], prm[_T_COL0], prm[_T_Y0]
        pz = (lz - col0) / sp
        py = (y - y0) / fh
        wr, hr, fr = app.window_width_ratio, app.window_height_ratio, 0.09
        grid = _band(lz, col0, col0 + prm[_T_NCOL] * sp, fp_l) * _band(y, y0, y0 + prm[_T_NFLOOR] * fh, fp_y)
        fx = np.minimum(fp_l / sp, 1.0)
        fy = np.minimum(fp_y / fh, 1.0)
        pzi, pyi = np.floor(pz), np.floor(py)
        cxw = pz - pzi - 0.5
        cyw = py - pyi - (0.3 + hr / 2)
        c_glass = _band(cxw, -wr / 2, wr / 2, fx) * _band(cyw, -hr / 2, hr / 2, fy) * grid
        c_frame = _band(cxw, -wr / 2 - fr / sp, wr / 2 + fr / sp, fx) * _band(cyw, -hr / 2 - fr / fh,
                                                                             hr / 2 + fr / fh, fy) * grid
        # Glass: a graded reflection within each window; at dusk some windows are lit.
        gy = np.clip(cyw / hr + 0.5, 0.0, 1.0)
        cell = _lookup(self.tex_cell, pyi + 11 * hb, pzi + 17 * hb)
        glass = np.asarray(app.window_color, np.float32)[:, None] * (
            1.0 + app.window_reflect * (0.7 * gy - 0.2 + 0.3 * (cell - 0.5)))
        if app.lit_windows > 0:
            lit = (cell < app.lit_windows).astype(np.float32)
            glass += lit * (np.array([255.0, 205.0, 120.0], np.float32)[:, None] - glass)
        shop = prm[_T_SHOP]
        if shop.any():
            inside = _band(lz, 0.6, prm[_T_LEN] - 0.6, fp_l) * shop
            ss = sp * 1.4
            c_shop = _pbox(lz / ss, 0.1, 0.9, fp_l / ss) * _band(y, 0.5, app.ground_floor_height - 0.8, fp_y) * inside
            c_glass = np.maximum(c_glass, c_shop)
            c_frame = np.maximum(c_frame, _band(y, 0.3, app.ground_floor_height - 0.6, fp_y) * inside)
        col += c_frame * (np.asarray(app.window_frame_color, np.float32)[:, None] - col)
        col += c_glass * (glass - col)

        fog = 1.0 - np.exp(-np.sqrt(dz * dz + (t * dxs) ** 2) / app.fog_distance)
        col += fog * (self.haze[:, None] - col)
        # Replace the flat colour the polygon was filled with (keeps the anti-aliased edges).
        col -= prm[_T_FR:_T_FB + 1]
        flat = rgb.reshape(-1)
        li3 = li * 3
        for c in range(3):
            idx = li3 + c
            flat[idx] = np.clip(np.take(flat, idx) + col[c], 0, 255).astype(np.uint8)

    # ------------------------------------------------------------------ trees, poles, signs, cars

    def _objects(self, cam: _Camera, labels: np.ndarray, rgb: np.ndarray, t: float) -> None:
        """Trees, poles with signs and cars, sorted far to near (painter's algorithm)."""
        w = self.world
        items: list[tuple[float, int, int]] = []
        rt = _wrap_rel(w.t_z, cam.z)
        items += [(-float(rt[i]), 0, int(i)) for i in np.nonzero((rt > -4.0) & (rt < FAR_OBJECTS))[0]]
        rp = _wrap_rel(w.p_z, cam.z)
        items += [(-float(rp[i]), 1, int(i)) for i in np.nonzero((rp > -2.0) & (rp < FAR_OBJECTS))[0]]
        rc = _wrap_rel(w.c_z0 + w.c_speed * t, cam.z)
        items += [(-float(rc[i] + 0.5 * w.c_len[i]), 2, int(i))
                  for i in np.nonzero((rc > -7.0) & (rc < FAR_OBJECTS))[0]]
        items.sort()
        dl = _DrawList()
        for _, kind, i in items:
            if kind == 0:
                self._tree(dl, i, float(rt[i]))
            elif kind == 1:
                self._pole(dl, i, float(rp[i]))
            else:
                self._car(cam, dl, i, float(rc[i]))
        dl.draw(cam, labels, rgb)

    def _tree(self, dl: _DrawList, i: int, dz: float) -> None:
        w = self.world
        x, tr, r = float(w.t_x[i]), float(w.t_trunk[i]), float(w.t_radius[i])
        fol = self.foliage
        light = self.sun[1 if x > 0 else 0]
        tw = 0.14 + 0.04 * r
        conifer = bool(w.t_conifer[i])
        top = tr + (0.5 if conifer else r * 0.6)
        dl.poly([x - tw, x + tw, x + tw * 0.7, x - tw * 0.7], [0.0, 0.0, top, top], [dz] * 4, VEGETATION,
                self._color(self.app.trunk_color, dz, light))
        flip = 1.0 if w.t_u[i, 0] < 0.5 else -1.0
        if conifer:
            h = 2.6 * r
            for j, (y0, y1, rr) in enumerate(((tr * 0.5, tr + h * 0.65, 1.0), (tr + h * 0.3, tr + h * 0.9, 0.72),
                                               (tr + h * 0.55, tr + h * 1.1, 0.45))):
                dl.poly([x - r * rr, x + r * rr, x + 0.05 * flip], [y0, y0, y1], [dz] * 3, VEGETATION,
                        self._color(self.conifer[j], dz, light))
            return
        cy = tr + r
        for ox, oy, s, shade_i in ((0.0, 0.0, 1.0, 0), (-0.5, 0.25, 0.68, 1), (0.48, 0.15, 0.7, 1),
                                   (0.1, 0.6, 0.6, 2), (-0.2, -0.35, 0.55, 0)):
            dl.disc(x + ox * flip * r, cy + oy * r, dz, r * s, VEGETATION, self._color(fol[shade_i], dz, light))

    def _pole(self, dl: _DrawList, i: int, dz: float) -> None:
        w, app = self.world, self.app
        x, h = float(w.p_x[i]), float(w.p_height[i])
        sgn = 1.0 if x > 0 else -1.0
        zc = max(dz * self.cos, NEAR)
        hw = max(0.08, 0.55 * zc / self.f)  # at least about a pixel wide
        c = self._color(app.pole_color, dz)
        dl.poly([x - hw, x + hw, x + hw * 0.7, x - hw * 0.7], [0.0, 0.0, h, h], [dz] * 4, POLE, c)
        arm = float(w.p_arm[i])
        if arm > 0:
            th = max(0.06, 0.5 * zc / self.f)
            xe = x - sgn * arm
            dl.poly([x, xe, xe, x], [h - th, h + 0.15 - th, h + 0.15 + th, h + th], [dz] * 4, POLE, c)
            lamp = (255, 230, 170) if app.sky == "dusk" else c
            dl.poly([xe + 0.3, xe - 0.3, xe - 0.3, xe + 0.3], [h - 0.05 - th, h - 0.05 - th, h + 0.12 + th,
                    h + 0.12 + th], [dz] * 4, POLE, lamp)
        kind = int(w.p_sign[i])
        if kind < 0:
            return
        outline = _SIGN_SHAPES[kind]
        cx, cy = x - sgn * 0.05, float(w.p_sign_h[i])
        zs = [dz - 0.05] * len(outline)
        if sgn < 0 and not self.shape.one_way:  # faces the oncoming traffic: we see its back
            dl.poly((cx + outline[:, 0]).tolist(), (cy + outline[:, 1]).tolist(), zs, TRAFFIC_SIGN,
                    self._color((150, 152, 155), dz))
            return
        rim, inner = _SIGN_COLORS[kind]
        dl.poly((cx + outline[:, 0]).tolist(), (cy + outline[:, 1]).tolist(), zs, TRAFFIC_SIGN, self._color(rim, dz))
        cen = outline.mean(axis=0)
        small = cen + (outline - cen) * 0.72
        dl.poly((cx + small[:, 0]).tolist(), (cy + small[:, 1]).tolist(), zs, -1, self._color(inner, dz))

    def _car(self, cam: _Camera, dl: _DrawList, i: int, dz: float) -> None:
        w, app = self.world, self.app
        x, length, wid = float(w.c_x[i]), float(w.c_len[i]), float(w.c_width[i])
        yb, yt, yc = 0.28, float(w.c_body[i]), float(w.c_body[i] + w.c_cabin[i])
        xl, xr = x - wid / 2, x + wid / 2
        z0, z1 = dz, dz + length
        mid = z0 + 0.5 * length
        body = self.c_color[i]
        front = bool(w.c_front[i])
        rx = cam.x - 0.5 * cam.kappa * mid * mid  # the camera's lateral position in the car's frame
        see = ((rx < xl, xl, self.sun[0]), (rx > xr, xr, self.sun[1]))
        dark = self._color((22, 22, 24), mid)
        near = z0 < CAR_DETAIL_DISTANCE  # shadow, tyres and wheels only on the nearer cars
        rgb_detail = z0 < 0 or self.f * wid / z0 > 6.0  # lights and plate only where they cover pixels
        if near:
            dl.poly([xl - 0.1, xr + 0.1, xr + 0.1, xl - 0.1], [0.01] * 4, [z0 - 0.15, z0 - 0.15, z1 + 0.15,
                    z1 + 0.15], ROAD, self._color(self.road_shadow, mid))
        if near and z0 > 0:  # tyres seen below the rear (or front) bumper
            za = [z0 + 0.75] * 4
            dl.poly([xl + 0.05, xl + 0.32, xl + 0.32, xl + 0.05], [0.0, 0.0, 0.45, 0.45], za, CAR, dark)
            dl.poly([xr - 0.32, xr - 0.05, xr - 0.05, xr - 0.32], [0.0, 0.0, 0.45, 0.45], za, CAR, dark)
        if self.h > yt:
            dl.poly([xl, xr, xr, xl], [yt] * 4, [z0, z0, z1, z1], CAR, self._color(body, mid, 1.12))
        if z0 > 0:
            dl.poly([xl, xr, xr, xl], [yb, yb, yt, yt], [z0] * 4, CAR, self._color(body, z0, 0.9))
        for visible, xs, sun in see:
            if visible:
                dl.poly([xs] * 4, [yb, yb, yt, yt], [z0, z1, z1, z0], CAR, self._color(body, mid, 0.78 * sun))
                for zw in (z0 + 0.8, z1 - 0.8) if near else ():
                    dl.poly([xs] * 8, (0.32 + _WHEEL[:, 1]).tolist(), (zw + _WHEEL[:, 0]).tolist(), CAR, dark)
        if z0 > 0 and rgb_detail:  # lights and number plate (RGB only)
            lc: Color = (250, 245, 220) if front else (200, 20, 25)
            if app.sky == "dusk":
                lc = (255, 255, 235) if front else (255, 60, 50)
            cl = self._color(lc, z0)
            ly = [yt - 0.28, yt - 0.28, yt - 0.12, yt - 0.12]
            dl.poly([xl + 0.08, xl + 0.38, xl + 0.38, xl + 0.08], ly, [z0] * 4, -1, cl)
            dl.poly([xr - 0.38, xr - 0.08, xr - 0.08, xr - 0.38], ly, [z0] * 4, -1, cl)
            dl.poly([x - 0.25, x + 0.25, x + 0.25, x - 0.25], [yb + 0.1, yb + 0.1, yb + 0.22, yb + 0.22], [z0] * 4,
                    -1, self._color((225, 225, 220), z0))
        # Cabin: a frustum on top of the body, glass all round and a painted roof.
        if w.c_van[i]:
            a0, a1, ins0, ins1 = 0.15, 0.9, 0.1, 0.2
        else:
            r0, r1, ins0, ins1 = (0.25, 0.2, 0.55, 0.4) if not front else (0.2, 0.25, 0.4, 0.55)
            a0, a1 = length * r0 + 0.3, length * r1 + 0.5
        cb0, cb1 = z0 + a0, z1 - a1
        ct0, ct1 = cb0 + ins0, cb1 - ins1
        cxl, cxr, txl, txr = xl + 0.06, xr - 0.06, xl + 0.18, xr - 0.18
        glass = self._color((28, 32, 40), mid)
        if cb0 > 0:
            dl.poly([cxl, cxr, txr, txl], [yt, yt, yc, yc], [cb0, cb0, ct0, ct0], CAR, glass)
        for (visible, _, _), xb, xt in zip(see, (cxl, cxr), (txl, txr)):
            if visible:
                dl.poly([xb, xb, xt, xt], [yt, yt, yc, yc], [cb0, cb1, ct1, ct0], CAR, glass)
        if self.h > yc:
            dl.poly([txl, txr, txr, txl], [yc] * 4, [ct0, ct0, ct1, ct1], CAR, self._color(body, mid, 1.08))


RENDERER = StreetRenderer()
