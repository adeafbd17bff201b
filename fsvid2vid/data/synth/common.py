"""What every procedural task renderer provides, and the small helpers they share.

A renderer turns three independent random draws into a clip:

* an **appearance** (who/what it looks like: colours, garments, textures, background),
* a **shape** (the geometry that the semantic maps depend on: body proportions, face shape, street layout style),
* a **motion** (how the shape moves over time).

Semantic maps and keypoints depend only on (shape, motion); the RGB frames depend on all three. That is what makes
the cross-identity ground truth possible: the same (shape, motion) rendered with two appearances gives identical
semantic maps and different pictures.

All geometry is computed in resolution-independent units (fractions of the frame height) and scaled to pixels at
the end, so one seed renders the same scene at every size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from fsvid2vid.data.semantics import SemanticLayer, task_aspect, task_layers, task_points

#: Sub-pixel precision used for every cv2 drawing call (coordinates are multiplied by 2**SHIFT).
SHIFT = 4
_SCALE = 1 << SHIFT


@dataclass
class Frame:
    """One rendered frame.

    rgb:    (H, W, 3) uint8, RGB order.
    layers: layer name -> (H, W, 3) or (H, W) uint8 array, one per ``TaskRenderer.layers``.
    points: (P, 3) float32 keypoints or landmarks in pixels, columns x, y, confidence (0 = not visible);
            ``None`` for tasks without points.
    view:   the subject's yaw in radians (0: facing the camera, +-pi: seen from behind; positive: turned to its own
            left), ``None`` for tasks without a subject that turns.
    """

    rgb: np.ndarray
    layers: dict[str, np.ndarray]
    points: np.ndarray | None = None
    view: float | None = None


class TaskRenderer(Protocol):
    """The interface of ``dance.RENDERER``, ``face.RENDERER`` and ``street.RENDERER``."""

    name: str
    task_id: int  # mixes into every seed, so task streams never coincide
    aspect: float  # width / height of the frame
    fps: int
    layers: tuple[SemanticLayer, ...]
    points_name: str | None  # JSON file stem in the clip folder ("keypoints", "landmarks") or None
    points_format: str | None  # "coco18", "dlib68" or None

    def sample_appearance(self, rng: np.random.Generator) -> Any: ...

    def is_held_out(self, appearance: Any) -> bool:
        """True for appearance combinations that never occur in the train split."""
        ...

    def sample_shape(self, rng: np.random.Generator) -> Any: ...

    def sample_motion(self, rng: np.random.Generator) -> Any: ...

    def render(self, appearance: Any, shape: Any, motion: Any, n_frames: int, height: int,
               width: int) -> Iterator[Frame]:
        """Yield ``n_frames`` frames; frame t shows time t / fps and does not depend on ``n_frames``."""
        ...


class BenchmarkRenderer:
    """What the three renderers share: their task's facts, from :mod:`fsvid2vid.data.semantics`, and the frame rate."""

    fps = 15

    def __init__(self, task: str, task_id: int) -> None:
        self.name, self.task_id = task, task_id
        self.aspect = task_aspect(task)
        self.layers = task_layers(task)
        self.points_name, self.points_format = task_points(task)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, tuples and numpy scalars/arrays to plain JSON types (for meta.json)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return round(float(obj), 6)
    if isinstance(obj, float):
        return round(obj, 6)
    return obj


# ----------------------------------------------------------------------------------------------------------------
# Colour helpers
# ----------------------------------------------------------------------------------------------------------------


def hsv_color(h: float, s: float, v: float) -> tuple[int, int, int]:
    """HSV in [0, 1] each (hue wraps) to an RGB uint8 triple."""
    h = (h % 1.0) * 6.0
    i = int(h) % 6
    f = h - int(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def shade(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """Scale an RGB colour's brightness by ``factor`` (clipped to [0, 255])."""
    return tuple(int(np.clip(round(c * factor), 0, 255)) for c in color)  # type: ignore[return-value]


def mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    """Linear blend of two RGB colours: ``(1 - t) * a + t * b``."""
    return tuple(int(round((1 - t) * x + t * y)) for x, y in zip(a, b))  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------------------
# Sub-pixel, anti-aliased drawing on numpy canvases (thin wrappers over OpenCV)
# ----------------------------------------------------------------------------------------------------------------


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points, dtype=np.float64) * _SCALE).astype(np.int32)


def fill_polygon(canvas: np.ndarray, points: np.ndarray, color, antialias: bool = True) -> None:
    """Fill a polygon given as (N, 2) float pixel coordinates."""
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    cv2.fillPoly(canvas, [_fixed(points).reshape(-1, 1, 2)], color, lineType=line, shift=SHIFT)


def draw_polyline(canvas: np.ndarray, points: np.ndarray, color, thickness: int, closed: bool = False,
                  antialias: bool = True) -> None:
    """Draw a polyline through (N, 2) float pixel coordinates with an integer ``thickness`` >= 1."""
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    cv2.polylines(canvas, [_fixed(points).reshape(-1, 1, 2)], closed, color, max(1, int(thickness)), lineType=line,
                  shift=SHIFT)


def fill_circle(canvas: np.ndarray, center, radius: float, color, antialias: bool = True) -> None:
    """Fill a disc at a float pixel ``center`` with a float ``radius``."""
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    c = tuple(int(v) for v in _fixed(center))
    cv2.circle(canvas, c, max(1, int(round(radius * _SCALE))), color, -1, lineType=line, shift=SHIFT)


def fill_ellipse(canvas: np.ndarray, center, axes, angle_deg: float, color, antialias: bool = True) -> None:
    """Fill an ellipse with float ``center`` and semi-axes ``axes`` (pixels), rotated by ``angle_deg``."""
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    c = tuple(int(v) for v in _fixed(center))
    ax = tuple(max(1, int(round(a * _SCALE))) for a in axes)
    cv2.ellipse(canvas, c, ax, angle_deg, 0, 360, color, -1, lineType=line, shift=SHIFT)


def vertical_gradient(height: int, width: int, top, bottom) -> np.ndarray:
    """(H, W, 3) uint8 image fading from colour ``top`` to ``bottom``."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.asarray(top, np.float32) + t * np.asarray(bottom, np.float32)
    return np.broadcast_to(np.round(img), (height, width, 3)).astype(np.uint8)


def value_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """(H, W) float32 smooth noise in [0, 1]: random values on a ``cells``-wide grid, bicubically upsampled."""
    return grid_noise(rng, height, width, int(round(cells * height / max(width, 1))), cells)


def grid_noise(rng: np.random.Generator, height: int, width: int, rows: int, cols: int) -> np.ndarray:
    """(H, W) float32 smooth noise in [0, 1]: random values on a ``rows`` x ``cols`` grid, bicubically upsampled."""
    grid = rng.random((max(2, rows), max(2, cols))).astype(np.float32)
    return np.clip(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
