"""The city along one drive: the street's cross-section and every building, tree, pole, sign and car along it.

:func:`build_world` expands ``StreetMotion.world_seed`` into the objects. It draws a fixed number of uniforms in a
fixed order and only then maps them through the shape's ranges, so a motion combined with another city's shape gives
the corresponding street of that city. Positions are world metres: ``z`` along the street (the world repeats every
:data:`WORLD_PERIOD` metres), ``x`` across it (negative: left), sides 0 = left and 1 = right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.synth.street.params import StreetMotion, StreetShape, lerp

#: The procedural world repeats every WORLD_PERIOD metres along the street (a drive of 100 s at 16 m/s).
WORLD_PERIOD = 1600.0
#: Objects up to this far behind the camera are still considered (longer than the longest building).
BEHIND = 80.0
#: Width of the kerb stone between road and sidewalk (labelled sidewalk).
KERB = 0.25

#: Intervals along z, as sorted (starts, ends) arrays.
Intervals = tuple[np.ndarray, np.ndarray]


@dataclass
class Buildings:
    """One row per building."""

    side: np.ndarray  # 0 left, 1 right
    start: np.ndarray  # z of the near end
    length: np.ndarray
    facade_x: np.ndarray  # |x| of the facade
    height: np.ndarray
    depth: np.ndarray
    style: np.ndarray  # (N, 5) uniforms for colour and windows (RGB only)
    intervals: list[Intervals]  # per side: where there are buildings along z


@dataclass
class Trees:
    z: np.ndarray
    x: np.ndarray  # signed
    trunk_height: np.ndarray
    crown_radius: np.ndarray
    conifer: np.ndarray
    style: np.ndarray  # (N, 2) uniforms (column 0 mirrors the crown)


@dataclass
class Poles:
    z: np.ndarray
    x: np.ndarray  # signed
    height: np.ndarray
    arm: np.ndarray  # length of the lamp arm (0: none)
    sign_kind: np.ndarray  # -1 none, else the sign kind 0..4
    sign_height: np.ndarray


@dataclass
class Cars:
    """Parked cars (speed 0) and moving cars."""

    start: np.ndarray  # z of the rear end at t = 0
    x: np.ndarray  # signed centre
    speed: np.ndarray
    length: np.ndarray
    width: np.ndarray
    body_height: np.ndarray  # body top height
    cabin_height: np.ndarray
    van: np.ndarray
    faces_camera: np.ndarray  # True: the car's front is seen
    color_u: np.ndarray  # uniform that picks the colour


@dataclass
class StreetWorld:
    """Everything along one drive's street, in world metres."""

    road_half: float  # |x| of the road edge (kerb)
    lanes_half: float  # |x| of the outer edge of the traffic lanes
    verge_inner: float  # |x| where the verge (if present) starts
    verge_outer: float
    sidewalk_outer: float
    line_types: np.ndarray  # per lane boundary k = 0..n: 0 none, 1 dashed, 2 solid, 3 double solid
    verges: list[Intervals]  # per side
    lawns: list[Intervals]  # per side: front lawns between sidewalk and facades
    crossings: Intervals  # zebra crossings
    buildings: Buildings
    trees: Trees
    poles: Poles
    cars: Cars
    camera_lane_x: float  # centre of the lane the camera drives in


def in_intervals(z: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each world position ``z`` (wrapped into the world period) lies in one of the sorted intervals."""
    zm = np.mod(z, WORLD_PERIOD)
    if len(starts) == 0:
        return np.zeros(zm.shape, bool)
    idx = np.searchsorted(starts, zm, side="right") - 1
    return (idx >= 0) & (zm < ends[np.maximum(idx, 0)])


def distance_ahead(z: np.ndarray, camera_z: float) -> np.ndarray:
    """World positions relative to the camera, wrapped into ``[-BEHIND, WORLD_PERIOD - BEHIND)``."""
    return np.mod(z - camera_z + BEHIND, WORLD_PERIOD) - BEHIND


def _segments(u: np.ndarray, fraction: float, min_len: float, max_len: float) -> Intervals:
    """On-intervals of an on/off segmentation of the street: (K, 2) uniforms -> lengths and on-flags."""
    lengths = min_len + (max_len - min_len) * u[:, 0]
    ends = np.cumsum(lengths)
    starts = ends - lengths
    keep = (u[:, 1] < fraction) & (starts < WORLD_PERIOD)
    return starts[keep], np.minimum(ends[keep], WORLD_PERIOD)


def build_world(shape: StreetShape, motion: StreetMotion) -> StreetWorld:
    """Expand ``motion.world_seed`` into the street's objects, using ``shape``'s ranges (deterministic)."""
    rng = np.random.default_rng([motion.world_seed, 7])
    # Fixed-size draws in a fixed order, independent of the shape.
    building_u = rng.random((2, 400, 12))
    segment_u = rng.random((2, 2, 200, 2))
    crossing_u = rng.random((12, 3))
    tree_u = rng.random((2, 250, 7))
    pole_u = rng.random((2, 120, 6))
    parked_u = rng.random((2, 300, 6))
    traffic_u = rng.random((4, 80, 7))
    lane_speed_u = rng.random(4)

    n = shape.n_lanes
    lanes_half = n * shape.lane_width / 2.0
    road_half = lanes_half + shape.parking_width
    verge_inner = road_half + KERB
    verge_outer = verge_inner + shape.verge_width
    sidewalk_outer = verge_outer + shape.sidewalk_width
    n_oncoming = 0 if shape.one_way else n // 2

    line_types = np.ones(n + 1, np.int64)
    line_types[0] = line_types[n] = 2 if shape.parking_width > 0 else 0
    if n_oncoming > 0:
        line_types[n_oncoming] = 3 if shape.centre_line == "double" else 1

    # Buildings and the gaps between them.
    rows: list[tuple[float, ...]] = []
    building_intervals = []
    for side in range(2):
        u = building_u[side]
        z = 12.0 * u[0, 11]
        starts, ends = [], []
        for i in range(u.shape[0]):
            length = lerp(shape.frontage_min, shape.frontage_max, u[i, 0])
            length = min(length, WORLD_PERIOD - 3.0 - z)
            if length < 4.0:
                break
            x = sidewalk_outer + shape.setback + shape.setback_jitter * u[i, 1] ** 2
            height = lerp(shape.building_height_min, shape.building_height_max, u[i, 2])
            depth = shape.building_depth * (0.7 + 0.6 * u[i, 3])
            rows.append((side, z, length, x, height, depth, *u[i, 4:9]))
            starts.append(z)
            ends.append(z + length)
            z += length
            if u[i, 9] < shape.gap_prob:
                z += lerp(shape.gap_min, shape.gap_max, u[i, 10])
        building_intervals.append((np.array(starts), np.array(ends)))
    b = np.array(rows, np.float64)
    buildings = Buildings(side=b[:, 0].astype(np.int64), start=b[:, 1], length=b[:, 2], facade_x=b[:, 3],
                          height=b[:, 4], depth=b[:, 5], style=b[:, 6:11], intervals=building_intervals)

    verges = [_segments(segment_u[s, 0], shape.verge_fraction, 15.0, 70.0) for s in range(2)]
    lawns = [_segments(segment_u[s, 1], shape.lawn_fraction, 15.0, 60.0) for s in range(2)]
    crossing_z = np.arange(len(crossing_u)) * 150.0 + 20.0 + 100.0 * crossing_u[:, 0]
    keep = (crossing_u[:, 1] < shape.crosswalk_prob) & (crossing_z < WORLD_PERIOD - 10.0)
    crossings = (crossing_z[keep], crossing_z[keep] + 3.0 + 1.5 * crossing_u[keep, 2])

    # Trees: on the verge where there is one, else in a tree pit near the kerb or on the front lawn.
    trees = []
    for side in range(2):
        sign = 1.0 if side else -1.0
        u = tree_u[side]
        slots = np.arange(len(u)) * shape.tree_spacing + shape.tree_spacing * 0.6 * u[:, 0]
        keep = (u[:, 1] < shape.tree_prob) & (slots < WORLD_PERIOD - 2.0)
        z = slots[keep]
        kept = u[keep]
        on_verge = in_intervals(z, *verges[side])
        on_lawn = in_intervals(z, *lawns[side]) & (shape.setback > 2.5) & (kept[:, 2] < 0.5)
        x = np.where(on_verge, (verge_inner + verge_outer) / 2.0, verge_inner + 0.7)
        x = np.where(on_lawn, sidewalk_outer + shape.setback * (0.35 + 0.3 * kept[:, 3]), x)
        trees.append(Trees(z=z, x=sign * x, trunk_height=(1.6 + 1.4 * kept[:, 4]) * shape.tree_scale,
                           crown_radius=(1.4 + 1.6 * kept[:, 5]) * shape.tree_scale,
                           conifer=kept[:, 6] < shape.conifer_fraction, style=kept[:, 2:4]))

    # Poles (lamp posts), some carrying a traffic sign.
    poles = []
    for side in range(2):
        sign = 1.0 if side else -1.0
        u = pole_u[side]
        slots = np.arange(len(u)) * shape.pole_spacing + 6.0 * u[:, 0]
        keep = (u[:, 1] < 0.92) & (slots < WORLD_PERIOD - 2.0)
        kept = u[keep]
        poles.append(Poles(
            z=slots[keep], x=np.full(len(kept), sign * (verge_inner + 0.3)),
            height=shape.pole_height * (0.9 + 0.2 * kept[:, 2]),
            arm=np.where(kept[:, 3] < 0.8, 1.0 + 1.2 * kept[:, 3], 0.0),
            sign_kind=np.where(kept[:, 4] < shape.sign_prob, np.minimum((kept[:, 5] * 5).astype(np.int64), 4), -1),
            sign_height=2.3 + 0.6 * kept[:, 5],
        ))

    # Cars as rows: start, x, speed, size uniform, colour uniform, body uniform, faces the camera.
    car_rows: list[np.ndarray] = []
    # Parked cars in the parking strips.
    if shape.parking_width > 0:
        for side in range(2):
            sign = 1.0 if side else -1.0
            u = parked_u[side]
            slots = np.arange(len(u)) * 6.5 + 0.8 * u[:, 0]
            keep = (u[:, 1] < shape.parked_density) & (slots < WORLD_PERIOD - 8.0)
            kept = u[keep]
            x = sign * (lanes_half + shape.parking_width / 2.0 + 0.2 * (kept[:, 2] - 0.5))
            faces_camera = np.full(len(kept), float(side == 0 and not shape.one_way))
            car_rows.append(np.column_stack([slots[keep], x, np.zeros(len(kept)), kept[:, 3], kept[:, 4], kept[:, 5],
                                             faces_camera]))

    # Moving cars: every lane has its own speed; the camera's lane moves with the camera's mean speed.
    n_along = n - n_oncoming
    camera_lane = n_oncoming + min(int(motion.lane_u * n_along), n_along - 1)
    for lane in range(n):
        u = traffic_u[lane]
        centre = -lanes_half + (lane + 0.5) * shape.lane_width
        if lane < n_oncoming:
            speed = -(7.0 + 7.0 * lane_speed_u[lane])
        elif lane == camera_lane:
            speed = motion.speed
        else:
            speed = max(2.0, motion.speed - 3.0 + 8.0 * lane_speed_u[lane])
        slots = np.arange(len(u)) * 20.0 + 8.0 * u[:, 0]
        keep = (u[:, 1] < shape.traffic_density) & (slots < WORLD_PERIOD - 10.0)
        if lane == camera_lane:
            keep &= (u[:, 2] < 0.5) & (slots > 22.0) & (slots < WORLD_PERIOD - BEHIND - 20.0)
        kept = u[keep]
        x = centre + 0.3 * (kept[:, 3] - 0.5)
        faces_camera = np.full(len(kept), float(lane < n_oncoming))
        car_rows.append(np.column_stack([slots[keep], x, np.full(len(kept), speed), kept[:, 4], kept[:, 5], kept[:, 6],
                                         faces_camera]))
    c = np.concatenate(car_rows, axis=0) if car_rows else np.zeros((0, 7))
    van = c[:, 5] > 0.85
    cars = Cars(start=c[:, 0], x=c[:, 1], speed=c[:, 2], length=np.where(van, 4.9, 3.9 + 0.8 * c[:, 3]),
                width=np.where(van, 1.95, 1.7 + 0.2 * c[:, 3]), body_height=np.where(van, 1.05, 0.95 + 0.1 * c[:, 5]),
                cabin_height=np.where(van, 1.0, 0.42 + 0.12 * c[:, 3]), van=van, faces_camera=c[:, 6] > 0.5,
                color_u=c[:, 4])

    return StreetWorld(
        road_half=road_half, lanes_half=lanes_half, verge_inner=verge_inner, verge_outer=verge_outer,
        sidewalk_outer=sidewalk_outer, line_types=line_types, verges=verges, lawns=lawns, crossings=crossings,
        buildings=buildings, trees=_concatenate(Trees, trees), poles=_concatenate(Poles, poles), cars=cars,
        camera_lane_x=-lanes_half + (camera_lane + 0.5) * shape.lane_width,
    )


def _concatenate(kind: type, parts: list) -> Trees | Poles:
    """One ``kind`` (Trees or Poles) holding the rows of both sides' ``parts``, left side first."""
    return kind(*(np.concatenate([getattr(p, name) for p in parts]) for name in kind.__dataclass_fields__))
