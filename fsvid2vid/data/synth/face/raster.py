"""Pixel helpers of the face painter: boxes around points, masked blending, normals of a drawn curve."""

from __future__ import annotations

import numpy as np

from fsvid2vid.data.synth.face.params import RGB

Box = tuple[int, int, int, int]


def bounding_box(points: np.ndarray, height: int, width: int, pad: float) -> Box | None:
    """Clipped integer box (x0, y0, x1, y1) around points, or None when it is empty."""
    if len(points) == 0:
        return None
    lo = np.floor(points.min(axis=0) - pad).astype(int)
    hi = np.ceil(points.max(axis=0) + pad).astype(int) + 1
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(width, int(hi[0])), min(height, int(hi[1]))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def blend(img: np.ndarray, mask: np.ndarray, color: np.ndarray | RGB, box: Box, alpha: float = 1.0) -> None:
    """img[box] <- img + (color - img) * alpha * mask / 255, in place; ``color`` is RGB or an image of the box."""
    x0, y0, x1, y1 = box
    weight = mask[y0:y1, x0:x1].astype(np.float32) * (alpha / 255.0)
    roi = img[y0:y1, x0:x1].astype(np.float32)
    col = np.asarray(color, dtype=np.float32)
    roi += (col - roi) * weight[..., None]
    img[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)


def curve_normals(curve: np.ndarray) -> np.ndarray:
    """Unit normals (tangent rotated by +90 degrees) of a polyline."""
    tangent = np.gradient(curve, axis=0)
    n = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
