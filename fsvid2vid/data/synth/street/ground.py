"""The ground: road, lane markings, zebra crossings, kerbs, verges, sidewalks and terrain.

Each ground pixel is shaded from the ground point its viewing ray hits, so the textures are attached to ground
coordinates (they move with the scene instead of flickering), and every edge is box-filtered over the pixel's
footprint on the ground. The label of a pixel is the material at its point (markings point-sampled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from fsvid2vid.data.synth.street.camera import Camera
from fsvid2vid.data.synth.street.drawing import LANE_MARKING, ROAD, SIDEWALK, TERRAIN
from fsvid2vid.data.synth.street.filtering import box_step, lookup, lookup_smooth, periodic_box, periodic_in
from fsvid2vid.data.synth.street.params import StreetAppearance
from fsvid2vid.data.synth.street.world import WORLD_PERIOD, Intervals, in_intervals

if TYPE_CHECKING:
    from fsvid2vid.data.synth.street.clip import StreetClip

# Ground materials (rows of material_colors) and their labels.
_ROAD, _KERB, _SIDEWALK, _TERRAIN, _MARKING = range(5)
_MATERIAL_LABEL = np.array([ROAD, SIDEWALK, SIDEWALK, TERRAIN, LANE_MARKING], np.uint8)


def material_colors(appearance: StreetAppearance) -> np.ndarray:
    """(5, 3) float32 colours of the ground materials: road, kerb, sidewalk, terrain, marking."""
    return np.array([appearance.road_color, appearance.kerb_color, appearance.sidewalk_color,
                     appearance.terrain_color, appearance.marking_color], np.float32)


def _on_side(right: np.ndarray, z: np.ndarray, per_side: list[Intervals]) -> np.ndarray:
    """Whether each ground point lies in one of the intervals of its side of the street."""
    return np.where(right, in_intervals(z, *per_side[1])[:, None], in_intervals(z, *per_side[0])[:, None])


def draw_ground(clip: StreetClip, cam: Camera, labels: np.ndarray, rgb: np.ndarray) -> None:
    """Road, markings, kerbs, sidewalks and terrain, shaded per pixel from the ground point each pixel sees."""
    world, appearance = clip.world, clip.appearance
    if clip.first_ground_row >= clip.height:
        return
    colors = material_colors(appearance)
    ahead = clip.ground_ahead
    x = clip.ground_across + (cam.x - 0.5 * cam.bend * ahead * ahead).astype(np.float32)[:, None]  # world lateral
    z = cam.z + ahead  # world position along the street, per row
    ax = np.abs(x)
    right = x > 0
    footprint = clip.footprint_across
    verge = _on_side(right, z, world.verges)
    beyond_terrain = _on_side(right, z, world.lawns) | ~_on_side(right, z, world.buildings.intervals)
    verge_material = np.where(verge, _TERRAIN, _SIDEWALK)
    beyond_material = np.where(beyond_terrain, _TERRAIN, _SIDEWALK)
    material = np.where(ax < world.road_half, _ROAD, np.where(ax < world.verge_inner, _KERB, np.where(
        ax < world.verge_outer, verge_material, np.where(ax < world.sidewalk_outer, _SIDEWALK, beyond_material))))

    # Texture modulation attached to ground coordinates (fine grain fades out where pixels get large).
    fine = lookup_smooth(clip.tex_fine, (z * (1 / 0.12))[:, None], x * (1 / 0.12)) - 0.5
    fine *= np.clip(2.0 - footprint * (1 / 0.12), 0.0, 1.0) * 1.6
    coarse = lookup(clip.tex_coarse, np.floor(z * (1 / 2.5))[:, None], np.floor(x * (1 / 2.5))) - 0.5
    m = np.where(material == _ROAD, 1.0 + appearance.road_noise * fine + 2.0 * appearance.road_patchiness * coarse,
                 np.where(material == _TERRAIN, 1.0 + 0.35 * fine + 0.3 * coarse, 1.0 + 0.06 * fine))
    if appearance.sidewalk_pattern != "plain":
        m = np.where(material == _SIDEWALK, (m + 0.08 * coarse) * (1.0 - 0.35 * _paving_joints(clip, x, z)), m)
    m = m.astype(np.float32)
    channels = [np.take(colors[:, c], material) * m for c in range(3)]  # planar colour channels

    # Lateral anti-aliasing between the materials (road | kerb | verge | sidewalk | beyond).
    for edge, inner, outer in ((world.road_half, _ROAD, _KERB), (world.verge_inner, _KERB, verge_material),
                               (world.verge_outer, verge_material, _SIDEWALK),
                               (world.sidewalk_outer, _SIDEWALK, beyond_material)):
        s = (ax - edge) / footprint
        near = np.nonzero(np.abs(s) < 0.5)
        if len(near[0]):
            s_near = s[near]
            weight = np.clip(0.5 + s_near, 0.0, 1.0) - (s_near >= 0)
            inner_near = inner[near] if isinstance(inner, np.ndarray) else inner
            outer_near = outer[near] if isinstance(outer, np.ndarray) else outer
            diff = colors[outer_near] - colors[inner_near]
            for c in range(3):
                channels[c][near] += weight * diff[..., c]

    # Lane markings and zebra crossings.
    marked, (near_marking, coverage) = _markings(clip, x, z, ax, footprint)
    if len(near_marking[0]):
        coverage = 0.92 * coverage
        for c in range(3):
            channels[c][near_marking] += coverage * (colors[_MARKING, c] - channels[c][near_marking])

    haze = clip.ground_haze
    for c in range(3):
        channels[c] += haze * (clip.haze[c] - channels[c])
    rgb[clip.first_ground_row:] = cv2.convertScaleAbs(cv2.merge(channels))
    ground_labels = _MATERIAL_LABEL[material]
    ground_labels[marked] = LANE_MARKING
    labels[clip.first_ground_row:] = ground_labels


def _paving_joints(clip: StreetClip, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Joint coverage of the sidewalk paving pattern at ground positions (0 = tile, 1 = joint)."""
    pattern, size = clip.appearance.sidewalk_pattern, clip.appearance.tile_size
    tile_x, tile_z = (size * 2.0, size) if pattern == "slab" else (size, size)
    across = x / tile_x
    if pattern == "brick":
        across = across + (0.5 * (np.floor(z / tile_z) % 2)).astype(np.float32)[:, None]
    joint = 0.03
    joint_x = periodic_box(across, 0.0, joint / tile_x, clip.footprint_across / tile_x)
    joint_z = periodic_box(z / tile_z, 0.0, joint / tile_z, clip.footprint_along / tile_z).astype(np.float32)[:, None]
    return 1.0 - (1.0 - joint_x) * (1.0 - joint_z)


def _markings(clip: StreetClip, x: np.ndarray, z: np.ndarray, ax: np.ndarray, footprint: np.ndarray
              ) -> tuple[np.ndarray, tuple[tuple[np.ndarray, np.ndarray], np.ndarray]]:
    """Point-sampled marking mask and, for the pixels near a marking, their box-filtered coverage."""
    world, shape = clip.world, clip.shape
    lane_width, n = shape.lane_width, shape.n_lanes
    boundary = np.clip(np.round((x + world.lanes_half) * (1.0 / lane_width)), 0, n).astype(np.int64)
    d = x - (-world.lanes_half + boundary * lane_width)  # distance to the nearest lane boundary
    line = world.line_types[boundary]
    half, gap = 0.5 * shape.line_width, 0.12
    along = z / shape.dash_period
    dash = shape.dash_length / shape.dash_period
    dash_coverage = periodic_box(along, 0.0, dash, clip.footprint_along / shape.dash_period)
    in_dash = periodic_in(along, 0.0, dash)
    inside = np.zeros(x.shape, bool)
    coverage = np.zeros(x.shape, np.float32)
    near = np.nonzero((np.abs(d) < 2 * half + gap / 2 + footprint) & (line > 0) & (ax < world.road_half))
    if len(near[0]):
        d_near, footprint_near, line_near, rows = d[near], footprint[near], line[near], near[0]
        single = box_step(d_near, -half, half, footprint_near)
        double = (box_step(d_near, -gap / 2 - 2 * half, -gap / 2, footprint_near)
                  + box_step(d_near, gap / 2, gap / 2 + 2 * half, footprint_near))
        dashed = line_near == 1
        coverage[near] = np.where(line_near == 3, double, single) * np.where(dashed, dash_coverage[rows], 1.0)
        ad = np.abs(d_near)
        in_line = np.where(line_near == 3, (ad >= gap / 2) & (ad < gap / 2 + 2 * half), ad < half)
        inside[near] = in_line & (~dashed | in_dash[rows])
    # Zebra crossings: stripes 0.5 m wide across the traffic lanes.
    starts, ends = world.crossings
    if len(starts):
        zm = np.mod(z, WORLD_PERIOD)
        j = np.clip(np.searchsorted(starts, zm, side="right") - 1, 0, len(starts) - 1)
        crossing_coverage = box_step(zm, starts[j], ends[j], clip.footprint_along)
        rows = np.nonzero(crossing_coverage > 0)[0]
        if len(rows):
            x_rows, footprint_rows = x[rows], footprint[rows]
            lanes = np.abs(x_rows) < world.lanes_half - 0.2
            stripe = periodic_box(x_rows, 0.0, 0.5, footprint_rows) * crossing_coverage[rows, None] * lanes
            coverage[rows] = np.maximum(coverage[rows], stripe)
            in_crossing = ((zm[rows] >= starts[j[rows]]) & (zm[rows] < ends[j[rows]]))[:, None]
            inside[rows] |= periodic_in(x_rows, 0.0, 0.5) & in_crossing & lanes
    near_marking = np.nonzero(coverage > 0)
    return inside, (near_marking, coverage[near_marking])
