"""The driving camera: where it is at time ``t``, and the pinhole projection of one frame.

The camera sits ``camera_height`` metres above the road and looks down the street, pitched slightly down, so
everything converges towards a vanishing point near the horizon. A gentle bend of the street is modelled by shifting
every point sideways by ``bend * dz**2 / 2`` in camera space (``dz`` = distance ahead of the camera), the usual
small-curvature approximation of a curved road.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.synth.common import SHIFT
from fsvid2vid.data.synth.street.params import StreetMotion

#: Focal length in units of the frame height (vertical field of view about 41 degrees, horizontal about 73).
FOCAL = 1.35
#: Near clipping distance of the camera (metres).
NEAR = 0.3
#: Scale of the fixed-point pixel coordinates that the cv2 drawing calls take.
FIXED_POINT = float(1 << SHIFT)


def camera_path(motion: StreetMotion, t: float) -> tuple[float, float, float]:
    """The camera's sway (m, added to its lane centre), its position along the street (m) and the street's bend
    (1/m) at time ``t`` (s); all smooth functions of t."""
    w_s = 2 * math.pi / motion.speed_period
    z = motion.speed * t + motion.speed_wobble * (math.sin(w_s * t + motion.speed_phase)
                                                  - math.sin(motion.speed_phase))
    sway = motion.sway * math.sin(2 * math.pi * t / motion.sway_period + motion.sway_phase)
    bend = motion.curvature * math.sin(2 * math.pi * t / motion.curve_period + motion.curve_phase)
    return sway, z, bend


@dataclass
class Camera:
    """The pinhole camera of one frame, at lateral ``x`` and ``z`` along the street, with the street's bend."""

    x: float
    z: float
    bend: float  # curvature of the street (1/m)
    height: float  # above the road (m)
    cos_pitch: float
    sin_pitch: float
    focal: float  # pixels
    cx: float  # principal point (pixels)
    cy: float

    def to_camera(self, x: np.ndarray, y: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Camera coordinates (right, up, forward) of world points given as (x, y, distance ahead ``dz``)."""
        xc = x - self.x + 0.5 * self.bend * dz * dz
        yr = y - self.height
        return xc, yr * self.cos_pitch + dz * self.sin_pitch, dz * self.cos_pitch - yr * self.sin_pitch

    def clip_at_near_plane(self, xc: np.ndarray, yc: np.ndarray, zc: np.ndarray) -> np.ndarray | None:
        """Clip a polygon given in camera coordinates at the near plane (Sutherland-Hodgman); fixed-point pixels."""
        pts = []
        n = len(xc)
        for i in range(n):
            j = (i + 1) % n
            a_in, b_in = zc[i] >= NEAR, zc[j] >= NEAR
            if a_in:
                pts.append((xc[i], yc[i], zc[i]))
            if a_in != b_in:
                s = (NEAR - zc[i]) / (zc[j] - zc[i])
                pts.append((xc[i] + s * (xc[j] - xc[i]), yc[i] + s * (yc[j] - yc[i]), NEAR))
        if len(pts) < 3:
            return None
        q = np.array(pts)
        pix = np.stack([self.cx + self.focal * q[:, 0] / q[:, 2], self.cy - self.focal * q[:, 1] / q[:, 2]], axis=1)
        return np.round((pix - 0.5) * FIXED_POINT).astype(np.int32)
