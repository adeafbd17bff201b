"""The dance task's 15-class body-part map (``parts`` layer) from COCO-18 keypoints, optionally inside a silhouette.

Every part is a capsule (a segment with a radius) between keypoints, with a radius proportional to the body height:
the head around the face keypoints, the torso from the neck to the middle of the hips as wide as the shoulders,
upper/lower arms and legs between their joints, hands and feet as short stubs past the wrists and ankles.

* With a silhouette (mediapipe's person mask), every silhouette pixel gets the part whose capsule surface is nearest
  (signed distance, negative inside), so the map has the person's real outline.
* Without one, the capsules themselves are drawn (each pixel inside at least one capsule gets the one it is deepest
  in), like the benchmark's drawn bodies.
"""

from __future__ import annotations

import numpy as np

from fsvid2vid.data.semantics import DANCE_PART_NAMES

#: Capsule radii as fractions of the body height.
_RADIUS = {"head": 0.065, "torso": 0.085, "upper_arm": 0.032, "lower_arm": 0.028, "hand": 0.028,
           "upper_leg": 0.048, "lower_leg": 0.038, "foot": 0.03}
#: Silhouette pixels further than this (fraction of body height) outside every capsule stay background.
_SILHOUETTE_MARGIN = 0.12


def body_height(keypoints: np.ndarray) -> float:
    """Estimated standing height in pixels of a person from (18, 3) COCO-18 keypoints (0 if unknown).

    The larger of: the vertical extent of the visible keypoints plus head and feet (x 1.15), and 3.3 torso lengths
    (neck to the middle of the hips), so that upper-body views still get a full-body scale.
    """
    kp = np.asarray(keypoints, np.float64)
    vis = kp[:, 2] > 0
    if vis.sum() < 2:
        return 0.0
    extent = float(np.ptp(kp[vis, 1])) * 1.15
    hips = [i for i in (8, 11) if vis[i]]
    if vis[1] and hips:
        torso = float(np.linalg.norm(kp[1, :2] - kp[hips, :2].mean(axis=0)))
        extent = max(extent, 3.3 * torso)
    return extent


def part_capsules(keypoints: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
    """(part label, end a (2,), end b (2,), radius px) of every part whose keypoints are visible."""
    kp = np.asarray(keypoints, np.float64)
    vis = kp[:, 2] > 0
    height = body_height(kp)
    if height <= 0:
        return []
    label = {name: i for i, name in enumerate(DANCE_PART_NAMES)}
    caps: list[tuple[int, np.ndarray, np.ndarray, float]] = []

    def add(part: str, radius_key: str, a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> None:
        caps.append((label[part], a, b, _RADIUS[radius_key] * height * scale))

    face = [i for i in (0, 14, 15, 16, 17) if vis[i]]
    if face:
        centre = kp[face, :2].mean(axis=0)
        up = centre - kp[1, :2] if vis[1] else np.array([0.0, -1.0]) * height * 0.05
        up = up / max(np.linalg.norm(up), 1e-6)
        add("head", "head", centre - up * height * 0.015, centre + up * height * 0.035)
    hips = [i for i in (8, 11) if vis[i]]
    if vis[1] and hips:
        mid_hip = kp[hips, :2].mean(axis=0)
        shoulder_half = np.linalg.norm(kp[2, :2] - kp[5, :2]) / 2 if vis[2] and vis[5] else 0.0
        caps.append((label["torso"], kp[1, :2], mid_hip, max(_RADIUS["torso"] * height, 0.8 * shoulder_half)))
        for hip in hips:  # the hips' side of the torso
            caps.append((label["torso"], kp[1, :2] + (kp[hip, :2] - mid_hip), kp[hip, :2], _RADIUS["torso"] * height
                         * 0.7))
    for side, sh, el, wr in (("right", 2, 3, 4), ("left", 5, 6, 7)):
        if vis[sh] and vis[el]:
            add(f"{side}_upper_arm", "upper_arm", kp[sh, :2], kp[el, :2])
        if vis[el] and vis[wr]:
            add(f"{side}_lower_arm", "lower_arm", kp[el, :2], kp[wr, :2])
            add(f"{side}_hand", "hand", kp[wr, :2], kp[wr, :2] + 0.3 * (kp[wr, :2] - kp[el, :2]))
    for side, hp, kn, an in (("right", 8, 9, 10), ("left", 11, 12, 13)):
        if vis[hp] and vis[kn]:
            add(f"{side}_upper_leg", "upper_leg", kp[hp, :2], kp[kn, :2])
        if vis[kn] and vis[an]:
            add(f"{side}_lower_leg", "lower_leg", kp[kn, :2], kp[an, :2])
            add(f"{side}_foot", "foot", kp[an, :2], kp[an, :2] + np.array([0.0, 0.035 * height]))
    return caps


def parts_map(keypoints: np.ndarray, height: int, width: int, silhouette: np.ndarray | None = None) -> np.ndarray:
    """(height, width) uint8 body-part labels (0 background, 1..14 as :data:`DANCE_PART_NAMES`).

    Args:
        keypoints: (18, 3) COCO-18 [x, y, confidence] in pixels of the output frame.
        silhouette: optional (height, width) bool person mask; when given, labels fill exactly the mask (minus
            pixels far from every part).
    """
    caps = part_capsules(keypoints)
    out = np.zeros((height, width), np.uint8)
    if not caps:
        return out
    ys, xs = np.mgrid[0:height, 0:width]
    p = np.stack([xs, ys], axis=-1).astype(np.float64)  # (H, W, 2) pixel positions, same convention as points
    best = np.full((height, width), np.inf)
    for lab, a, b, r in caps:
        ab = b - a
        t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
        d = np.linalg.norm(p - (a + t[..., None] * ab), axis=-1) - r
        closer = d < best
        best[closer] = d[closer]
        out[closer] = lab
    if silhouette is None:
        out[best > 0] = 0
    else:
        margin = _SILHOUETTE_MARGIN * body_height(keypoints)
        out[~np.asarray(silhouette, bool) | (best > margin)] = 0
    return out
