"""Anti-aliasing and texture helpers of the street shading: box-filtered steps and stripes, wrapped texture tiles.

A pixel sees a footprint on the ground or on a facade; box-filtering a pattern over that footprint (instead of
point-sampling it) keeps far-away stripes, joints and windows from flickering.
"""

from __future__ import annotations

import cv2
import numpy as np


def box_step(x: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, footprint: np.ndarray | float
             ) -> np.ndarray:
    """Fraction of the pixel footprint ``[x - footprint/2, x + footprint/2]`` inside ``[lo, hi]`` (a box-filtered
    step)."""
    h = 0.5 * footprint
    return np.clip((np.minimum(hi, x + h) - np.maximum(lo, x - h)) / footprint, 0.0, 1.0)


def _periodic_box_integral(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """Integral from 0 to ``x`` of the indicator of ``frac(x) in [a, b]``."""
    whole = np.floor(x)
    return whole * (b - a) + np.clip(x - whole, a, b) - a


def periodic_box(x: np.ndarray, a: float, b: float, w: np.ndarray | float) -> np.ndarray:
    """Box-filtered indicator of the period-1 pattern ``frac(x) in [a, b]`` over a footprint ``w`` (period units)."""
    w = np.maximum(w, 1e-4)
    return (_periodic_box_integral(x + 0.5 * w, a, b) - _periodic_box_integral(x - 0.5 * w, a, b)) / w


def periodic_in(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """Point-sampled indicator of ``frac(x) in [a, b)``."""
    f = x - np.floor(x)
    return (f >= a) & (f < b)


def lookup(tex: np.ndarray, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
    """Wrapped lookup ``tex[iy % 64, ix % 64]`` in a 64 x 64 texture tile (integer-valued float indices)."""
    return np.take(tex.ravel(), ((iy.astype(np.int64) & 63) << 6) | (ix.astype(np.int64) & 63))


def lookup_smooth(tex: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Bilinearly interpolated wrapped lookup in a 64 x 64 texture tile at fractional texel coordinates."""
    y0, x0 = np.floor(fy), np.floor(fx)
    ty, tx = (fy - y0).astype(np.float32), (fx - x0).astype(np.float32)
    flat = tex.ravel()
    iy0, ix0 = (y0.astype(np.int64) & 63) << 6, x0.astype(np.int64) & 63
    iy1, ix1 = ((y0.astype(np.int64) + 1) & 63) << 6, (x0.astype(np.int64) + 1) & 63
    top = np.take(flat, iy0 | ix0) * (1 - tx) + np.take(flat, iy0 | ix1) * tx
    bottom = np.take(flat, iy1 | ix0) * (1 - tx) + np.take(flat, iy1 | ix1) * tx
    return top * (1 - ty) + bottom * ty


def tileable_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with wrap-around borders, rescaled to [0, 1] (a seamless tile of smooth noise)."""
    h, w = a.shape
    big = cv2.GaussianBlur(np.tile(a, (3, 3)), (0, 0), sigma)[h:2 * h, w:2 * w]
    return ((big - big.min()) / max(float(np.ptp(big)), 1e-6)).astype(np.float32)
