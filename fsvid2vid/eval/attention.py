"""Where E_A looks: the attention of a back-view target split between a front and a back example (Figure 7(c)).

For every unseen subject of a test split whose clips record the subject's view per frame (benchmark version 2), the
model gets two examples of the subject's own clip, its most frontal and its most-behind frame, and animates the
cross-identity clip. For each target frame seen from behind (|yaw| > 135 degrees), the attention rows of the target's
torso positions are split over the two examples: a model whose attention works gives the back example most of it,
since the back of the garment is what the frame must show. The frames seen from the front (|yaw| < 45 degrees) are
the check on it: there the front example should get most of it. A model that always prefers one example scores high
on one of the two shares and low on the other; their mean (``view_choice``) is 0.5 for such a model and for uniform
attention, 1 for one that always attends to the right view.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from fsvid2vid.data.encode import tensor_to_rgb
from fsvid2vid.data.layout import RGB_DIR, frame_name, read_image, read_meta
from fsvid2vid.data.preview import sheet_row
from fsvid2vid.data.semantics import DANCE_PART_NAMES
from fsvid2vid.data.views import view_indices, wrap_angle
from fsvid2vid.eval.pairs import CrossPair
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples

BACK_VIEW = math.radians(135)  # |yaw| above this: the target shows the subject's back
FRONT_VIEW = math.radians(45)  # |yaw| below this: the target shows the subject's front
TORSO = DANCE_PART_NAMES.index("torso")


def region_attention(attention: torch.Tensor, region: np.ndarray) -> np.ndarray:
    """Where the target positions of ``region`` attend, per example position.

    attention: (h_a, w_a, K, h_a, w_a), each target row a distribution over all K examples' positions; region:
    (H, W) bool in the target frame. Each attention cell's row is weighed by the share of the region it covers.
    Returns (K, h_a, w_a) summing to 1, or None when the region is empty.
    """
    h_a, w_a = attention.shape[:2]
    weights = cv2.resize(region.astype(np.float32), (w_a, h_a), interpolation=cv2.INTER_AREA)
    if weights.sum() <= 0:
        return None
    rows = attention.float().reshape(h_a * w_a, -1).cpu().numpy()  # (N, K * N)
    mass = (weights.reshape(-1, 1) * rows).sum(axis=0) / weights.sum()
    return mass.reshape(attention.shape[2:])


def _torso_warp_l1(result, torso: np.ndarray) -> list[float] | None:
    """Per warped example, the mean L1 (images in [-1, 1]) between its warp and the true frame on the torso; None
    unless every example is warped (the attention warp) and the driving clip has its RGB frames."""
    warped = result.output.warped_example
    if warped is None or warped.shape[1] < 2 or result.driving.rgb is None:
        return None
    truth = torch.from_numpy(result.driving.rgb).permute(2, 0, 1).float() / 127.5 - 1  # (3, H, W)
    mask = torch.from_numpy(torso)
    return [float((warped[0, k].float() - truth).abs().mean(dim=0)[mask].mean()) for k in range(warped.shape[1])]


def _overlay(image: np.ndarray, heat: np.ndarray, peak: float) -> np.ndarray:
    """Tint ``image`` (H, W, 3) uint8 red where ``heat`` (h, w, >= 0) is high (``peak`` and above: fully red)."""
    big = cv2.resize(heat.astype(np.float32), image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    big = np.clip(big / max(peak, 1e-12), 0, 1)
    red = np.zeros_like(image)
    red[..., 0] = 255
    alpha = 0.65 * big[..., None]
    return (image * (1 - alpha) + red * alpha).round().astype(np.uint8)


def attention_by_view(synth: Synthesizer, pairs: list[CrossPair], n_frames: int, sheet_clips: int = 4
                      ) -> tuple[dict[str, Any] | None, list[np.ndarray], list[str]]:
    """The torso attention share of the back example on back-view target frames (module docstring).

    Returns the report entry (None when the model has no attention, the task is not dance or the clips record no
    views), and the rows of a Figure 7(c) sheet: per clip, the front and back examples tinted where the torso
    attends, then the driving semantic map, the generated and the ground-truth frame of one back-view frame.
    """
    if synth.config.task != "dance" or not synth.config.generator.attention \
            or synth.config.generator.conditioning != "ours":
        return None, [], []
    per_clip, rows, labels = [], [], []
    fits: dict[str, list[list[float]]] = {"front_views": [], "back_views": []}  # per frame: each example's warp L1
    for pair in pairs:
        own_meta, cross_meta = read_meta(pair.own), read_meta(pair.cross)
        if not own_meta.views or not cross_meta.views:
            return None, [], []
        yaw = [abs(wrap_angle(cross_meta.views[t])) for t in range(min(n_frames, len(cross_meta.views)))]
        back_frames = [t for t, a in enumerate(yaw) if a > BACK_VIEW]
        front_frames = [t for t, a in enumerate(yaw) if a < FRONT_VIEW]
        if not back_frames:
            continue
        front, back = view_indices(own_meta.views, 2)  # the evaluation's K = 2 examples
        examples = load_examples([pair.own / RGB_DIR / frame_name(front), pair.own / RGB_DIR / frame_name(back)],
                                 synth.layers)
        size = (cross_meta.height, cross_meta.width)
        shares, front_shares, shown = [], [], None
        for t, result in enumerate(synth.animate(examples, driving_clip(pair.cross, n_frames), attention=True)):
            if t not in back_frames and t not in front_frames:
                continue
            torso = read_image(pair.cross / "parts" / frame_name(t), 1, size) == TORSO
            mass = region_attention(result.output.attention[0], torso)
            if mass is None:
                continue
            fit = _torso_warp_l1(result, torso)
            if fit is not None:
                fits["front_views" if t in front_frames else "back_views"].append(fit)
            if t in front_frames:
                front_shares.append(float(mass[0].sum()))
                continue
            shares.append(float(mass[1].sum()))
            if shown is None:
                shown = (mass, result)
        if not shares:
            continue
        per_clip.append({"clip": pair.cross.name, "front_frame": front, "back_frame": back,
                         "back_view_frames": len(shares), "back_example_torso_share": float(np.mean(shares)),
                         "front_view_frames": len(front_shares),
                         "front_example_torso_share": float(np.mean(front_shares)) if front_shares else None})
        if shown is not None and len(rows) < sheet_clips:
            mass, result = shown
            tinted = [_overlay(tensor_to_rgb(e), m, float(mass.max())) for e, m in zip(examples.rgb, mass)]
            rows.append(sheet_row(tinted, [(result.rgb, result.driving.rgb)], gap=2))
            labels.append(f"{pair.cross.name}: back share {np.mean(shares):.2f}")
    if not per_clip:
        return None, [], []
    frames = np.array([c["back_view_frames"] for c in per_clip], np.float64)
    fronts = [c["front_example_torso_share"] for c in per_clip if c["front_example_torso_share"] is not None]
    back_share = float(np.mean([c["back_example_torso_share"] for c in per_clip]))
    front_share = float(np.mean(fronts)) if fronts else None
    entry = {"back_example_torso_share": back_share,
             "front_example_torso_share": front_share,
             "view_choice": None if front_share is None else (back_share + front_share) / 2,
             "front_view_frames": int(sum(c["front_view_frames"] for c in per_clip)),
             "back_example_torso_share_by_frame": float(np.average(
                 [c["back_example_torso_share"] for c in per_clip], weights=frames)),
             "clips": len(per_clip), "back_view_frames": int(frames.sum()), "per_clip": per_clip,
             "torso_warp_l1": {view: np.mean(values, axis=0).round(4).tolist() if values else None
                               for view, values in fits.items()} if any(fits.values()) else None,
             "what": "K = 2 (the most frontal and the most-behind frame of the subject's own clip); for each target "
                     "frame seen from behind, the share of its torso positions' attention that goes to the back "
                     "example, averaged per clip, then over clips; the same for frames seen from the front and the "
                     "front example; view_choice: the mean of the two (0.5: no choice of view); torso_warp_l1: on "
                     "front- and back-view frames, the L1 (images in [-1, 1]) between each example's warp "
                     "[front example, back example] and the truth on the torso (attention warp only): which example "
                     "the attention should pick"}
    return entry, rows, labels


def _caption(text: str, width: int) -> np.ndarray:
    """A white strip of ``width`` pixels with ``text`` in black (small font)."""
    strip = np.full((16, width, 3), 255, np.uint8)
    cv2.putText(strip, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def write_attention_sheet(rows: list[np.ndarray], labels: list[str], out: Path) -> Path | None:
    """The Figure 7(c) sheet as a PNG (rows from :func:`attention_by_view`): a header naming the columns, then each
    row under its caption; frames under 128 px high are enlarged (nearest) so that the maps stay readable."""
    if not rows:
        return None
    from fsvid2vid.data.preview import stack_rows
    from fsvid2vid.media import write_png

    scale = max(1, -(-128 // rows[0].shape[0]))
    rows = [row.repeat(scale, axis=0).repeat(scale, axis=1) for row in rows]
    width = max(row.shape[1] for row in rows)
    parts = [_caption("front ex. | back ex. (red: where the back-view torso attends) | generated | truth", width)]
    parts += [np.concatenate([_caption(label, row.shape[1]), row]) for row, label in zip(rows, labels)]
    return write_png(out, stack_rows(parts, gap=4))
