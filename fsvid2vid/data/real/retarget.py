"""Retargeting ("relative mode"): the driving subject's motion with the example subject's proportions and placement.

Pose (COCO-18): every bone of the driving pose (a parent -> child vector of the skeleton tree rooted at the neck)
is scaled by (example bone length / the driving subject's own length of that bone), so joint angles and
foreshortening are kept while limb lengths become the example's. The driving subject's length of a bone is its
median over the driving frames, so a constant pose gets exactly the example's bone lengths. Then the root is placed
relatively: frame t's neck = example neck + s * (driving neck(t) - driving neck(0)), with s the ratio of body
heights, so the first frame stands where the example stands and later motion keeps its direction and relative size.

Face (dlib-68): per region (jaw, each brow, nose, each eye, mouth), the region's shape change since the driving's
first frame is added to the example's region, scaled by the ratio of the region sizes, and the region's movement is
added scaled by the ratio of the face sizes; the first driving frame therefore reproduces the example exactly. This is
the few-shot vid2vid anchors' per-part normalisation in relative form.

Retargeting a sequence onto its own first frame returns it unchanged (up to float rounding).
"""

from __future__ import annotations

import numpy as np

from fsvid2vid.data.real.parts import body_height

#: COCO-18 skeleton tree: child -> parent (the neck, 1, is the root).
COCO18_PARENT = {0: 1, 2: 1, 3: 2, 4: 3, 5: 1, 6: 5, 7: 6, 8: 1, 9: 8, 10: 9, 11: 1, 12: 11, 13: 12,
                 14: 0, 15: 0, 16: 14, 17: 15}
#: Children before grandchildren (parents are always placed first).
_ORDER = (0, 2, 5, 8, 11, 3, 6, 9, 12, 14, 15, 4, 7, 10, 13, 16, 17)

#: dlib-68 regions normalised separately by the face retargeting.
FACE_REGIONS = {"jaw": range(0, 17), "right_brow": range(17, 22), "left_brow": range(22, 27),
                "nose": range(27, 36), "right_eye": range(36, 42), "left_eye": range(42, 48),
                "mouth": range(48, 68)}


def bone_lengths(poses: np.ndarray) -> np.ndarray:
    """(18,) median length (pixels) of the bone ending at each joint over (T, 18, 3) poses; NaN where never seen
    and for the root."""
    poses = np.asarray(poses, np.float64).reshape(-1, 18, 3)
    out = np.full(18, np.nan)
    for child, parent in COCO18_PARENT.items():
        ok = (poses[:, child, 2] > 0) & (poses[:, parent, 2] > 0)
        if ok.any():
            out[child] = float(np.median(np.linalg.norm(poses[ok, child, :2] - poses[ok, parent, :2], axis=-1)))
    return out


def retarget_pose(driving: np.ndarray, example: np.ndarray) -> np.ndarray:
    """Retarget (T, 18, 3) driving poses onto the subject of ``example`` ((18, 3) or (K, 18, 3): bone lengths are
    the median over the K examples, placement follows the first). Returns (T, 18, 3) float32 with the driving's
    confidences."""
    drv = np.asarray(driving, np.float64)
    ex = np.asarray(example, np.float64).reshape(-1, 18, 3)
    first_ex = ex[0]
    drv_len, ex_len = bone_lengths(drv), bone_lengths(ex)
    ratio = ex_len / drv_len
    drv_height = np.median([body_height(p) for p in drv])
    global_scale = body_height(first_ex) / drv_height if drv_height > 0 else 1.0
    if not np.isfinite(global_scale) or global_scale <= 0:
        global_scale = 1.0
    ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, global_scale)
    out = np.zeros_like(drv)
    out[:, :, 2] = drv[:, :, 2]
    ref = drv[0, 1, :2] if drv[0, 1, 2] > 0 else None
    anchor = first_ex[1, :2] if first_ex[1, 2] > 0 else None
    for t, pose in enumerate(drv):
        if pose[1, 2] <= 0:  # no root: scale the whole pose about the driving's first root, no per-bone lengths
            centre = ref if ref is not None else pose[pose[:, 2] > 0, :2].mean(axis=0) if (pose[:, 2] > 0).any() \
                else np.zeros(2)
            target = anchor if anchor is not None else centre
            out[t, :, :2] = target + global_scale * (pose[:, :2] - centre)
            continue
        root_ref = ref if ref is not None else pose[1, :2]
        root_target = anchor if anchor is not None else root_ref
        out[t, 1, :2] = root_target + global_scale * (pose[1, :2] - root_ref)
        for child in _ORDER:
            parent = COCO18_PARENT[child]
            if pose[child, 2] <= 0:
                continue
            if pose[parent, 2] > 0:
                out[t, child, :2] = out[t, parent, :2] + ratio[child] * (pose[child, :2] - pose[parent, :2])
            else:  # parent unseen in this frame: hang the joint off the root with the global scale
                out[t, child, :2] = out[t, 1, :2] + global_scale * (pose[child, :2] - pose[1, :2])
    return out.astype(np.float32)


def _region_frame(points: np.ndarray) -> tuple[np.ndarray, float]:
    centre = points.mean(axis=0)
    return centre, float(np.sqrt(((points - centre) ** 2).sum(axis=1).mean())) + 1e-6


def retarget_face(driving: np.ndarray, example: np.ndarray) -> np.ndarray:
    """Retarget (T, 68, 3) driving landmarks onto the face of ``example`` ((68, 3), or (K, 68, 3): the first is
    used). Returns (T, 68, 3) float32 with the driving's confidences."""
    drv = np.asarray(driving, np.float64)
    ex = np.asarray(example, np.float64).reshape(-1, 68, 3)[0]
    _, drv_face = _region_frame(drv[0, :, :2])
    _, ex_face = _region_frame(ex[:, :2])
    face_scale = ex_face / drv_face
    out = drv.copy()
    for idx in FACE_REGIONS.values():
        idx = list(idx)
        ref = drv[0, idx, :2]
        ref_c, ref_s = _region_frame(ref)
        ex_c, ex_s = _region_frame(ex[idx, :2])
        for t in range(len(drv)):
            cur = drv[t, idx, :2]
            cur_c = cur.mean(axis=0)
            shape_change = (cur - cur_c) - (ref - ref_c)
            out[t, idx, :2] = ex[idx, :2] + face_scale * (cur_c - ref_c) + (ex_s / ref_s) * shape_change
    return out.astype(np.float32)
