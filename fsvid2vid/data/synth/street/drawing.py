"""The street's label ids, and the draw list that renders world polygons into the label map and the RGB frame.

Every shape is drawn hard-edged into the label map (unless its label is :data:`NO_LABEL`) and anti-aliased into the
RGB frame, far to near in the order it was added (a painter's algorithm), so labels and pixels always agree.
"""

from __future__ import annotations

import cv2
import numpy as np

from fsvid2vid.data.semantics import STREET_CLASSES
from fsvid2vid.data.synth.common import SHIFT
from fsvid2vid.data.synth.street.camera import FIXED_POINT, NEAR, Camera
from fsvid2vid.data.synth.street.params import Color

CLASSES = STREET_CLASSES
SKY, ROAD, LANE_MARKING, SIDEWALK, BUILDING, VEGETATION, POLE, CAR, TRAFFIC_SIGN, TERRAIN = range(len(CLASSES))
#: Label of RGB-only details (lights, number plates, the inside of a sign): they leave the label map alone.
NO_LABEL = -1

_POLYGON, _DISC = 0, 1


class DrawList:
    """Polygons and discs in world coordinates, projected in batches and drawn in insertion order.

    Building shapes also write their facade number into an id map used for per-pixel facade shading.
    """

    def __init__(self) -> None:
        self.ops: list[tuple[int, int, Color, int, int]] = []  # kind, label, colour, facade id, index
        self.polygons: list[tuple[list[float], list[float], list[float]]] = []
        self.discs: list[tuple[float, float, float, float]] = []

    def poly(self, xs: list[float], ys: list[float], zs: list[float], label: int, color: Color,
             facade_id: int = -1) -> None:
        """A polygon with world corners (x, y, distance ahead z)."""
        self.ops.append((_POLYGON, label, color, facade_id, len(self.polygons)))
        self.polygons.append((xs, ys, zs))

    def disc(self, x: float, y: float, z: float, r: float, label: int, color: Color) -> None:
        """A disc of radius ``r`` facing the camera."""
        self.ops.append((_DISC, label, color, -1, len(self.discs)))
        self.discs.append((x, y, z, r))

    def _project_polygons(self, cam: Camera) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = [None] * len(self.polygons)
        by_corner_count: dict[int, list[int]] = {}
        for i, (xs, _, _) in enumerate(self.polygons):
            by_corner_count.setdefault(len(xs), []).append(i)
        for indices in by_corner_count.values():
            corners = np.array([self.polygons[i] for i in indices], np.float64)  # (M, 3, K)
            xc, yc, zc = cam.to_camera(corners[:, 0], corners[:, 1], corners[:, 2])
            in_front = zc >= NEAR
            zs = np.maximum(zc, NEAR)
            pix = np.stack([cam.cx + cam.focal * xc / zs, cam.cy - cam.focal * yc / zs], axis=-1)
            fixed = np.round((pix - 0.5) * FIXED_POINT).astype(np.int32)
            all_in, any_in = in_front.all(axis=1), in_front.any(axis=1)
            for m, i in enumerate(indices):
                if all_in[m]:
                    out[i] = fixed[m]
                elif any_in[m]:
                    out[i] = cam.clip_at_near_plane(xc[m], yc[m], zc[m])
        return out

    def draw(self, cam: Camera, labels: np.ndarray, rgb: np.ndarray, facade_ids: np.ndarray | None = None) -> None:
        """Draw everything into ``labels``, ``rgb`` and (for facades) ``facade_ids``."""
        polygons = self._project_polygons(cam) if self.polygons else []
        if self.discs:
            d = np.array(self.discs, np.float64)
            xc, yc, zc = cam.to_camera(d[:, 0], d[:, 1], d[:, 2])
            zs = np.maximum(zc, NEAR)
            disc_u = np.round((cam.cx + cam.focal * xc / zs - 0.5) * FIXED_POINT).astype(np.int64)
            disc_v = np.round((cam.cy - cam.focal * yc / zs - 0.5) * FIXED_POINT).astype(np.int64)
            disc_r = np.maximum(1, np.round(cam.focal * d[:, 3] / zs * FIXED_POINT)).astype(np.int64)
            disc_visible = zc > NEAR
        for kind, label, color, facade_id, i in self.ops:
            if kind == _POLYGON:
                pts = polygons[i]
                if pts is None:
                    continue
                p = [pts.reshape(-1, 1, 2)]
                if label != NO_LABEL:
                    cv2.fillPoly(labels, p, label, lineType=cv2.LINE_8, shift=SHIFT)
                cv2.fillPoly(rgb, p, color, lineType=cv2.LINE_AA, shift=SHIFT)
                if facade_id >= 0 and facade_ids is not None:
                    cv2.fillPoly(facade_ids, p, facade_id, lineType=cv2.LINE_8, shift=SHIFT)
            elif disc_visible[i]:
                c, r = (int(disc_u[i]), int(disc_v[i])), int(disc_r[i])
                cv2.circle(labels, c, r, label, -1, lineType=cv2.LINE_8, shift=SHIFT)
                cv2.circle(rgb, c, r, color, -1, lineType=cv2.LINE_AA, shift=SHIFT)
