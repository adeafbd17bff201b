"""Buildings: facades drawn far to near as polygons, then shaded per pixel from their facade coordinates.

A facade's texture (plaster, stucco, bricks, panels), cornice, windows and shop windows are computed for every
facade pixel from the point where its viewing ray meets the facade plane, and box-filtered over the pixel's
footprint there. The label map only sees the facade polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fsvid2vid.data.synth.street.camera import NEAR, Camera
from fsvid2vid.data.synth.street.drawing import BUILDING, DrawList
from fsvid2vid.data.synth.street.filtering import box_step, lookup, periodic_box
from fsvid2vid.data.synth.street.params import StreetAppearance
from fsvid2vid.data.synth.street.world import Buildings, distance_ahead

if TYPE_CHECKING:
    from fsvid2vid.data.synth.street.clip import StreetClip

#: Draw distance of buildings (m).
FAR_BUILDINGS = 500.0
#: Distances ahead (m) at which facade edges are subdivided when the street bends.
_BEND_LADDER = np.array([2.0, 5.0, 9.0, 14.0, 20.0, 28.0, 38.0, 50.0, 65.0, 85.0, 110.0, 140.0, 180.0, 230.0, 300.0,
                         380.0, 460.0])

# Columns of the per-frame facade table (row k: the visible facade drawn with id k + 1): the facade's signed x, the
# distance ahead of its near end, the flat colour it was filled with, its base colour, height, window spacing, floor
# height, first window column, number of columns, height of the first floor of windows, number of floors, shop
# ground floor (0 / 1), length, and a hash that varies textures between buildings.
(_FACADE_X, _NEAR_END, _FLAT_R, _FLAT_G, _FLAT_B, _BASE_R, _BASE_G, _BASE_B, _HEIGHT, _SPACING, _FLOOR, _FIRST_COLUMN,
 _COLUMNS, _FIRST_FLOOR, _FLOORS, _SHOP, _LENGTH, _HASH) = range(18)


@dataclass
class FacadeLayout:
    """Per-building colours and window grids (RGB only), one entry per building."""

    color: np.ndarray  # (N, 3) base colour
    window_spacing: np.ndarray
    floor_height: np.ndarray
    shop: np.ndarray  # shop windows on the ground floor
    columns: np.ndarray  # window columns
    first_column: np.ndarray  # distance of the first column from the near end
    first_floor: np.ndarray  # height of the lowest floor of windows
    floors: np.ndarray  # floors of windows


def facade_layout(appearance: StreetAppearance, buildings: Buildings) -> FacadeLayout:
    """The facades of ``buildings`` in the city style ``appearance``."""
    palette = np.array(appearance.facade_palette, np.float64)
    style = buildings.style
    index = np.minimum((style[:, 0] * len(palette)).astype(np.int64), len(palette) - 1)
    spacing = appearance.window_spacing * (0.85 + 0.3 * style[:, 2])
    floor_height = appearance.floor_height * (0.93 + 0.14 * style[:, 3])
    shop = style[:, 4] < appearance.shop_prob
    columns = np.maximum(1.0, np.floor((buildings.length - 1.5) / spacing))
    first_floor = np.where(shop, appearance.ground_floor_height, 0.6)
    return FacadeLayout(
        color=palette[index] * (0.88 + 0.24 * style[:, 1])[:, None], window_spacing=spacing,
        floor_height=floor_height, shop=shop, columns=columns,
        first_column=(buildings.length - columns * spacing) / 2.0, first_floor=first_floor,
        floors=np.maximum(0.0, np.floor((buildings.height - first_floor - 0.9) / floor_height)),
    )


def draw_buildings(clip: StreetClip, cam: Camera, labels: np.ndarray, rgb: np.ndarray) -> None:
    """Facades far to near (each after its near end wall), then per-pixel facade shading."""
    buildings, layout = clip.world.buildings, clip.facades
    near_end = distance_ahead(buildings.start, cam.z)
    far_end = near_end + buildings.length
    visible = np.nonzero((far_end > 0.5) & (near_end < FAR_BUILDINGS))[0]
    if len(visible) == 0:
        return
    visible = visible[np.argsort(-near_end[visible], kind="stable")][-255:]
    draw_list = DrawList()
    table = np.zeros((len(visible), 18), np.float32)
    for k, b in enumerate(visible):
        side = int(buildings.side[b])
        sign = 1.0 if side else -1.0
        facade_x, height = sign * float(buildings.facade_x[b]), float(buildings.height[b])
        near, far = float(near_end[b]), float(far_end[b])
        c = layout.color[b] * clip.side_light[side]
        base = (float(c[0]), float(c[1]), float(c[2]))
        if near > NEAR:  # near end wall: faces the camera, seen above a lower neighbour or across a gap
            back_x = facade_x + sign * float(buildings.depth[b])
            draw_list.poly([facade_x, back_x, back_x, facade_x], [0.0, 0.0, height, height], [near] * 4, BUILDING,
                           clip.hazed(base, near, 0.72), 0)
        start = max(near, -1.0)
        edge = [start, far]
        if cam.bend != 0:
            edge = [start, *_BEND_LADDER[(_BEND_LADDER > start) & (_BEND_LADDER < far)].tolist(), far]
        flat = clip.hazed(base, max(start, 0.0) + 0.5 * (far - max(start, 0.0)))
        draw_list.poly([facade_x] * (2 * len(edge)), [0.0] * len(edge) + [height] * len(edge), edge + edge[::-1],
                       BUILDING, flat, k + 1)
        table[k] = (facade_x, near, *flat, *base, height, layout.window_spacing[b], layout.floor_height[b],
                    layout.first_column[b], layout.columns[b], layout.first_floor[b], layout.floors[b],
                    float(layout.shop[b]), buildings.length[b], b % 64)
    facade_ids = np.zeros((clip.height, clip.width), np.uint8)
    draw_list.draw(cam, labels, rgb, facade_ids)
    _shade_facades(clip, cam, rgb, facade_ids, table)


def _shade_facades(clip: StreetClip, cam: Camera, rgb: np.ndarray, facade_ids: np.ndarray, table: np.ndarray) -> None:
    """Per-pixel facade texture and windows from each pixel's position on its facade plane."""
    appearance = clip.appearance
    flat_ids = facade_ids.ravel()
    pixels = np.flatnonzero(flat_ids)
    if len(pixels) == 0:
        return
    rows, cols = pixels // clip.width, pixels % clip.width
    facade = np.take(table, np.take(flat_ids, pixels).astype(np.int64) - 1, axis=0).T  # (18, N): each pixel's row
    ray_x, ray_y, ray_z = np.take(clip.ray_x, cols), np.take(clip.ray_y, rows), np.take(clip.ray_z, rows)
    ray_x = np.where(np.abs(ray_x) < 1e-6, np.float32(1e-6), ray_x)
    offset = facade[_FACADE_X] - np.float32(cam.x)
    # Ray / facade-plane intersection; with a bend the plane is curved in camera space (a quadratic in t).
    if cam.bend != 0:
        a = np.float32(0.5 * cam.bend) * ray_z * ray_z
        root = np.sqrt(np.maximum(ray_x * ray_x - 4.0 * a * offset, 0.0))
        t = 2.0 * offset / (ray_x + np.sign(ray_x) * root)
    else:
        t = offset / ray_x
    t = np.maximum(t, 1e-3)
    ahead = t * ray_z
    y = np.maximum(clip.camera_height + t * ray_y, 0.0)
    along = ahead - facade[_NEAR_END]  # position along the facade from its near end
    facade_hash = facade[_HASH].astype(np.int64)
    lateral = np.maximum(np.abs(t * ray_x), 0.3)
    inv_focal = 1.0 / clip.focal
    footprint_along = ahead * ahead / (lateral * clip.focal) + t * inv_focal  # pixel footprint along the facade
    footprint_up = t * inv_focal * (1.0 + np.abs(y - clip.camera_height) / lateral * 0.25)
    base = facade[_BASE_R:_BASE_B + 1]  # (3, N)

    strength = appearance.texture_strength
    texture = appearance.facade_texture
    if texture in ("plain", "stucco"):
        m = 0.05 * (lookup(clip.tex_fine, np.floor(y * 2.0), np.floor(along * 2.0)) - 0.5)
        m *= np.clip(1.5 - np.maximum(footprint_along, footprint_up) * 2.0, 0.0, 1.0)
        if texture == "stucco":
            blotches = lookup(clip.tex_coarse, np.floor(y * (1 / 3.0)), np.floor(along * (1 / 3.0)) + 7 * facade_hash)
            streak = np.take(clip.tex_streak, (np.floor(along * 2.5).astype(np.int64) + 31 * facade_hash) & 255)
            m = strength * (4.0 * m + 0.25 * (blotches - 0.5) - 0.14 * streak * (y < 12))
        col = base * (1.0 + m)
    elif texture == "brick":
        brick_h = appearance.brick_size
        course = y * (1.0 / brick_h)
        course_index = np.floor(course)
        brick = along * (1.0 / (2.2 * brick_h)) + 0.5 * (course_index % 2)
        mortar = 1.0 - (1.0 - periodic_box(course, 0.0, 0.16, footprint_up / brick_h)) * (
            1.0 - periodic_box(brick, 0.0, 0.07, footprint_along / (2.2 * brick_h)))
        variation = lookup(clip.tex_cell, course_index, np.floor(brick) + 5 * facade_hash)
        fade = np.clip(1.5 - np.maximum(footprint_along, footprint_up) / brick_h, 0.0, 1.0)
        col = base * (1.0 + strength * 0.3 * (variation - 0.5) * fade)
        col += (0.7 * strength * mortar) * (np.asarray(appearance.mortar_color, np.float32)[:, None] * 0.9 - col)
    else:  # panels
        panel_w, floor_h = appearance.panel_width, facade[_FLOOR]
        seam = 1.0 - (1.0 - periodic_box(along / panel_w, 0.0, 0.08 / panel_w, footprint_along / panel_w)) * (
            1.0 - periodic_box(y / floor_h, 0.0, 0.05, footprint_up / floor_h))
        variation = lookup(clip.tex_cell, np.floor(y / floor_h), np.floor(along / panel_w) + 3 * facade_hash)
        col = base * (1.0 + strength * (0.14 * (variation - 0.5) - 0.45 * seam))

    # Cornice at the top and ambient occlusion near the ground.
    height = facade[_HEIGHT]
    cornice = box_step(y, height - 0.45, height + 1.0, footprint_up)
    col *= (1.0 + (appearance.cornice_shade - 1.0) * cornice) * (1.0 - 0.28 * np.exp(-y * 2.0))

    # Windows: a grid of floors x columns (with frames); shop windows on the ground floor of some buildings.
    spacing, floor_h = facade[_SPACING], facade[_FLOOR]
    first_column, first_floor = facade[_FIRST_COLUMN], facade[_FIRST_FLOOR]
    column_pos = (along - first_column) / spacing
    floor_pos = (y - first_floor) / floor_h
    window_w, window_h, frame = appearance.window_width_ratio, appearance.window_height_ratio, 0.09
    grid = (box_step(along, first_column, first_column + facade[_COLUMNS] * spacing, footprint_along)
            * box_step(y, first_floor, first_floor + facade[_FLOORS] * floor_h, footprint_up))
    cell_fx = np.minimum(footprint_along / spacing, 1.0)
    cell_fy = np.minimum(footprint_up / floor_h, 1.0)
    column_index, floor_index = np.floor(column_pos), np.floor(floor_pos)
    window_x = column_pos - column_index - 0.5
    window_y = floor_pos - floor_index - (0.3 + window_h / 2)
    glass_cover = (box_step(window_x, -window_w / 2, window_w / 2, cell_fx)
                   * box_step(window_y, -window_h / 2, window_h / 2, cell_fy) * grid)
    frame_cover = (box_step(window_x, -window_w / 2 - frame / spacing, window_w / 2 + frame / spacing, cell_fx)
                   * box_step(window_y, -window_h / 2 - frame / floor_h, window_h / 2 + frame / floor_h, cell_fy)
                   * grid)
    # Glass: a graded reflection within each window; at dusk some windows are lit.
    gradient = np.clip(window_y / window_h + 0.5, 0.0, 1.0)
    cell = lookup(clip.tex_cell, floor_index + 11 * facade_hash, column_index + 17 * facade_hash)
    glass = np.asarray(appearance.window_color, np.float32)[:, None] * (
        1.0 + appearance.window_reflect * (0.7 * gradient - 0.2 + 0.3 * (cell - 0.5)))
    if appearance.lit_windows > 0:
        lit = (cell < appearance.lit_windows).astype(np.float32)
        glass += lit * (np.array([255.0, 205.0, 120.0], np.float32)[:, None] - glass)
    shop = facade[_SHOP]
    if shop.any():
        inside = box_step(along, 0.6, facade[_LENGTH] - 0.6, footprint_along) * shop
        shop_spacing = spacing * 1.4
        shop_cover = (periodic_box(along / shop_spacing, 0.1, 0.9, footprint_along / shop_spacing)
                      * box_step(y, 0.5, appearance.ground_floor_height - 0.8, footprint_up) * inside)
        glass_cover = np.maximum(glass_cover, shop_cover)
        frame_cover = np.maximum(frame_cover,
                                 box_step(y, 0.3, appearance.ground_floor_height - 0.6, footprint_up) * inside)
    col += frame_cover * (np.asarray(appearance.window_frame_color, np.float32)[:, None] - col)
    col += glass_cover * (glass - col)

    haze = 1.0 - np.exp(-np.sqrt(ahead * ahead + (t * ray_x) ** 2) / appearance.fog_distance)
    col += haze * (clip.haze[:, None] - col)
    # Replace the flat colour the polygon was filled with (keeps the anti-aliased edges).
    col -= facade[_FLAT_R:_FLAT_B + 1]
    flat = rgb.reshape(-1)
    first_channel = pixels * 3
    for c in range(3):
        index = first_channel + c
        flat[index] = np.clip(np.take(flat, index) + col[c], 0, 255).astype(np.uint8)
