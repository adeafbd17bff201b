"""Trees, lamp posts with traffic signs, and cars: world polygons and discs drawn far to near."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fsvid2vid.data.synth.street.camera import NEAR, Camera
from fsvid2vid.data.synth.street.drawing import CAR, NO_LABEL, POLE, ROAD, TRAFFIC_SIGN, VEGETATION, DrawList
from fsvid2vid.data.synth.street.params import Color
from fsvid2vid.data.synth.street.world import distance_ahead

if TYPE_CHECKING:
    from fsvid2vid.data.synth.street.clip import StreetClip

#: Draw distance of trees, poles, signs and cars (m).
FAR_OBJECTS = 220.0
#: Cars nearer than this (m) get a shadow, tyres and wheels.
CAR_DETAIL_DISTANCE = 90.0

_TREE, _POLE, _CAR = range(3)


def _regular_polygon(n: int, radius: float, phase: float = 0.0) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False) + phase
    return np.stack([np.cos(a), np.sin(a)], axis=1) * radius


#: Traffic sign outlines (metres, centred): round, warning triangle, square, priority diamond, stop octagon.
_SIGN_SHAPES: list[np.ndarray] = [
    _regular_polygon(16, 0.36),
    np.array([[-0.42, -0.28], [0.42, -0.28], [0.0, 0.45]]),
    np.array([[-0.32, -0.32], [0.32, -0.32], [0.32, 0.32], [-0.32, 0.32]]),
    _regular_polygon(4, 0.4),
    _regular_polygon(8, 0.38, np.pi / 8),
]
#: Face colours (rim, inner) of the sign kinds; the inner part is the outline scaled by 0.72 around its centre.
_SIGN_COLORS: list[tuple[Color, Color]] = [
    ((200, 30, 35), (240, 240, 238)), ((205, 35, 35), (245, 240, 235)), ((30, 80, 170), (40, 95, 190)),
    ((245, 245, 240), (235, 190, 30)), ((190, 25, 30), (200, 35, 40)),
]
#: A wheel as an octagon (metres, around the hub).
_WHEEL = _regular_polygon(8, 0.32)


def draw_objects(clip: StreetClip, cam: Camera, labels: np.ndarray, rgb: np.ndarray, t: float) -> None:
    """Trees, poles with signs and cars at time ``t``, sorted far to near (painter's algorithm)."""
    world = clip.world
    trees, poles, cars = world.trees, world.poles, world.cars
    items: list[tuple[float, int, int]] = []
    tree_ahead = distance_ahead(trees.z, cam.z)
    items += [(-float(tree_ahead[i]), _TREE, int(i))
              for i in np.nonzero((tree_ahead > -4.0) & (tree_ahead < FAR_OBJECTS))[0]]
    pole_ahead = distance_ahead(poles.z, cam.z)
    items += [(-float(pole_ahead[i]), _POLE, int(i))
              for i in np.nonzero((pole_ahead > -2.0) & (pole_ahead < FAR_OBJECTS))[0]]
    car_ahead = distance_ahead(cars.start + cars.speed * t, cam.z)
    items += [(-float(car_ahead[i] + 0.5 * cars.length[i]), _CAR, int(i))
              for i in np.nonzero((car_ahead > -7.0) & (car_ahead < FAR_OBJECTS))[0]]
    items.sort()
    draw_list = DrawList()
    for _, kind, i in items:
        if kind == _TREE:
            _tree(clip, draw_list, i, float(tree_ahead[i]))
        elif kind == _POLE:
            _pole(clip, draw_list, i, float(pole_ahead[i]))
        else:
            _car(clip, cam, draw_list, i, float(car_ahead[i]))
    draw_list.draw(cam, labels, rgb)


def _tree(clip: StreetClip, draw_list: DrawList, i: int, dz: float) -> None:
    trees = clip.world.trees
    x, trunk, r = float(trees.x[i]), float(trees.trunk_height[i]), float(trees.crown_radius[i])
    foliage = clip.appearance.foliage_colors
    light = clip.side_light[1 if x > 0 else 0]
    half_width = 0.14 + 0.04 * r
    conifer = bool(trees.conifer[i])
    top = trunk + (0.5 if conifer else r * 0.6)
    draw_list.poly([x - half_width, x + half_width, x + half_width * 0.7, x - half_width * 0.7], [0.0, 0.0, top, top],
                   [dz] * 4, VEGETATION, clip.hazed(clip.appearance.trunk_color, dz, light))
    flip = 1.0 if trees.style[i, 0] < 0.5 else -1.0
    if conifer:
        h = 2.6 * r
        tiers = ((trunk * 0.5, trunk + h * 0.65, 1.0), (trunk + h * 0.3, trunk + h * 0.9, 0.72),
                 (trunk + h * 0.55, trunk + h * 1.1, 0.45))
        for j, (y0, y1, scale) in enumerate(tiers):
            draw_list.poly([x - r * scale, x + r * scale, x + 0.05 * flip], [y0, y0, y1], [dz] * 3, VEGETATION,
                           clip.hazed(clip.conifer_colors[j], dz, light))
        return
    crown_y = trunk + r
    # Five discs: offset (in crown radii), size, and which of the dark / mid / light foliage colours.
    for ox, oy, size, tone in ((0.0, 0.0, 1.0, 0), (-0.5, 0.25, 0.68, 1), (0.48, 0.15, 0.7, 1), (0.1, 0.6, 0.6, 2),
                               (-0.2, -0.35, 0.55, 0)):
        draw_list.disc(x + ox * flip * r, crown_y + oy * r, dz, r * size, VEGETATION,
                       clip.hazed(foliage[tone], dz, light))


def _pole(clip: StreetClip, draw_list: DrawList, i: int, dz: float) -> None:
    poles, appearance = clip.world.poles, clip.appearance
    x, h = float(poles.x[i]), float(poles.height[i])
    sign = 1.0 if x > 0 else -1.0
    depth = max(dz * clip.cos_pitch, NEAR)
    half_width = max(0.08, 0.55 * depth / clip.focal)  # at least about a pixel wide
    c = clip.hazed(appearance.pole_color, dz)
    draw_list.poly([x - half_width, x + half_width, x + half_width * 0.7, x - half_width * 0.7], [0.0, 0.0, h, h],
                   [dz] * 4, POLE, c)
    arm = float(poles.arm[i])
    if arm > 0:
        th = max(0.06, 0.5 * depth / clip.focal)
        end = x - sign * arm
        draw_list.poly([x, end, end, x], [h - th, h + 0.15 - th, h + 0.15 + th, h + th], [dz] * 4, POLE, c)
        lamp = (255, 230, 170) if appearance.sky == "dusk" else c
        draw_list.poly([end + 0.3, end - 0.3, end - 0.3, end + 0.3],
                       [h - 0.05 - th, h - 0.05 - th, h + 0.12 + th, h + 0.12 + th], [dz] * 4, POLE, lamp)
    kind = int(poles.sign_kind[i])
    if kind < 0:
        return
    outline = _SIGN_SHAPES[kind]
    cx, cy = x - sign * 0.05, float(poles.sign_height[i])
    zs = [dz - 0.05] * len(outline)
    if sign < 0 and not clip.shape.one_way:  # faces the oncoming traffic: we see its back
        draw_list.poly((cx + outline[:, 0]).tolist(), (cy + outline[:, 1]).tolist(), zs, TRAFFIC_SIGN,
                       clip.hazed((150, 152, 155), dz))
        return
    rim, inner = _SIGN_COLORS[kind]
    draw_list.poly((cx + outline[:, 0]).tolist(), (cy + outline[:, 1]).tolist(), zs, TRAFFIC_SIGN,
                   clip.hazed(rim, dz))
    centre = outline.mean(axis=0)
    small = centre + (outline - centre) * 0.72
    draw_list.poly((cx + small[:, 0]).tolist(), (cy + small[:, 1]).tolist(), zs, NO_LABEL, clip.hazed(inner, dz))


def _car(clip: StreetClip, cam: Camera, draw_list: DrawList, i: int, dz: float) -> None:
    """A car as boxes: shadow, tyres, body (top, rear or front, visible sides, wheels), lights, plate, cabin."""
    cars = clip.world.cars
    x, length, width = float(cars.x[i]), float(cars.length[i]), float(cars.width[i])
    bottom, top, roof = 0.28, float(cars.body_height[i]), float(cars.body_height[i] + cars.cabin_height[i])
    left, right = x - width / 2, x + width / 2
    z0, z1 = dz, dz + length
    mid = z0 + 0.5 * length
    body = clip.car_colors[i]
    front = bool(cars.faces_camera[i])
    camera_x = cam.x - 0.5 * cam.bend * mid * mid  # the camera's lateral position in the car's frame
    sides = ((camera_x < left, left, clip.side_light[0]), (camera_x > right, right, clip.side_light[1]))
    dark = clip.hazed((22, 22, 24), mid)
    near = z0 < CAR_DETAIL_DISTANCE  # shadow, tyres and wheels only on the nearer cars
    rgb_detail = z0 < 0 or clip.focal * width / z0 > 6.0  # lights and plate only where they cover pixels
    if near:
        draw_list.poly([left - 0.1, right + 0.1, right + 0.1, left - 0.1], [0.01] * 4,
                       [z0 - 0.15, z0 - 0.15, z1 + 0.15, z1 + 0.15], ROAD, clip.hazed(clip.road_shadow, mid))
    if near and z0 > 0:  # tyres seen below the rear (or front) bumper
        tyre_z = [z0 + 0.75] * 4
        draw_list.poly([left + 0.05, left + 0.32, left + 0.32, left + 0.05], [0.0, 0.0, 0.45, 0.45], tyre_z, CAR,
                       dark)
        draw_list.poly([right - 0.32, right - 0.05, right - 0.05, right - 0.32], [0.0, 0.0, 0.45, 0.45], tyre_z, CAR,
                       dark)
    if clip.camera_height > top:
        draw_list.poly([left, right, right, left], [top] * 4, [z0, z0, z1, z1], CAR, clip.hazed(body, mid, 1.12))
    if z0 > 0:
        draw_list.poly([left, right, right, left], [bottom, bottom, top, top], [z0] * 4, CAR,
                       clip.hazed(body, z0, 0.9))
    for visible, side_x, light in sides:
        if visible:
            draw_list.poly([side_x] * 4, [bottom, bottom, top, top], [z0, z1, z1, z0], CAR,
                           clip.hazed(body, mid, 0.78 * light))
            for wheel_z in (z0 + 0.8, z1 - 0.8) if near else ():
                draw_list.poly([side_x] * 8, (0.32 + _WHEEL[:, 1]).tolist(), (wheel_z + _WHEEL[:, 0]).tolist(), CAR,
                               dark)
    if z0 > 0 and rgb_detail:  # lights and number plate (RGB only)
        light_color: Color = (250, 245, 220) if front else (200, 20, 25)
        if clip.appearance.sky == "dusk":
            light_color = (255, 255, 235) if front else (255, 60, 50)
        lights = clip.hazed(light_color, z0)
        lights_y = [top - 0.28, top - 0.28, top - 0.12, top - 0.12]
        draw_list.poly([left + 0.08, left + 0.38, left + 0.38, left + 0.08], lights_y, [z0] * 4, NO_LABEL, lights)
        draw_list.poly([right - 0.38, right - 0.08, right - 0.08, right - 0.38], lights_y, [z0] * 4, NO_LABEL, lights)
        draw_list.poly([x - 0.25, x + 0.25, x + 0.25, x - 0.25], [bottom + 0.1, bottom + 0.1, bottom + 0.22,
                       bottom + 0.22], [z0] * 4, NO_LABEL, clip.hazed((225, 225, 220), z0))
    # Cabin: a frustum on top of the body, glass all round and a painted roof.
    if cars.van[i]:
        setback0, setback1, inset0, inset1 = 0.15, 0.9, 0.1, 0.2
    else:
        share0, share1, inset0, inset1 = (0.25, 0.2, 0.55, 0.4) if not front else (0.2, 0.25, 0.4, 0.55)
        setback0, setback1 = length * share0 + 0.3, length * share1 + 0.5
    base0, base1 = z0 + setback0, z1 - setback1  # cabin bottom, near and far
    roof0, roof1 = base0 + inset0, base1 - inset1  # cabin top, near and far
    base_left, base_right, roof_left, roof_right = left + 0.06, right - 0.06, left + 0.18, right - 0.18
    glass = clip.hazed((28, 32, 40), mid)
    if base0 > 0:
        draw_list.poly([base_left, base_right, roof_right, roof_left], [top, top, roof, roof],
                       [base0, base0, roof0, roof0], CAR, glass)
    for (visible, _, _), x_base, x_roof in zip(sides, (base_left, base_right), (roof_left, roof_right)):
        if visible:
            draw_list.poly([x_base, x_base, x_roof, x_roof], [top, top, roof, roof], [base0, base1, roof1, roof0], CAR,
                           glass)
    if clip.camera_height > roof:
        draw_list.poly([roof_left, roof_right, roof_right, roof_left], [roof] * 4, [roof0, roof0, roof1, roof1], CAR,
                       clip.hazed(body, mid, 1.08))
